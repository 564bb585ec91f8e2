"""The lock of an export folder in an object store: a lease object, taken and renewed by
conditional writes (no kernel lock reaches a store).

- taken with a create-if-absent write (S3 ``If-None-Match: *``; GCS ``ifGenerationMatch=0``);
- renewed by its holder every quarter of its time (``STUDIO_LEASE_SECONDS``, default 60 s)
  with a replace-if-unchanged write (S3 ``If-Match: <ETag>``): a holder whose lease was
  taken over finds out at its next renewal and stops its job;
- released by a delete-if-unchanged (never another run's lease).

A crashed run's lease is taken over (a replace-if-unchanged of exactly the lease read, so of
two runs trying at once one wins) when it has expired (its holder stopped renewing it for
the lease time: the machines' clocks are assumed within seconds of each other), or at once
when its holder was a process of this machine (same host and boot) that no longer exists.
Stores without conditional writes (other fsspec protocols) get the same steps checked then
written: safe against a crashed run, not against two runs started at the same instant.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from studio.core.io.remote import object_tag

DEFAULT_SECONDS = 60.0
_HELD: set[str] = set()  #: tokens of the leases this process holds


def lease_seconds() -> float:
    """How long a lease lasts without renewal (``STUDIO_LEASE_SECONDS``, default 60)."""
    try:
        return max(1.0, float(os.environ.get("STUDIO_LEASE_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


def boot_id() -> str:
    """This machine's boot (Linux): a process of an earlier boot is gone whatever its pid."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _precondition_failed(err: BaseException) -> bool:
    """Whether a store refused a conditional write (HTTP 412, or 409 for a race)."""
    seen: BaseException | None = err
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return True
        if isinstance(seen, FileExistsError):
            return True
        seen = seen.__cause__
    return False


class Conditional:
    """Conditional writes of one object in a store, by its tag (ETag or generation)."""

    def __init__(self, fs: Any, key: str) -> None:
        self.fs, self.key = fs, key
        names = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        self.s3 = "s3" in names

    def read(self) -> tuple[bytes, str] | None:
        """The object's bytes and the tag of exactly those bytes (None when missing)."""
        for _ in range(5):
            try:
                before = object_tag(self.fs.info(self.key))
                data = bytes(self.fs.cat_file(self.key))
                after = object_tag(self.fs.info(self.key))
            except FileNotFoundError:
                return None
            if before == after:  # a store without tags: the bytes themselves
                return data, after or "#" + hashlib.blake2b(data, digest_size=16).hexdigest()
        raise OSError(f"{self.key}: changes faster than it can be read")

    def create(self, data: bytes) -> str | None:
        """Write the object when it does not exist; its tag, or None when it exists."""
        try:
            self.fs.pipe_file(self.key, data, mode="create")
        except Exception as err:
            if _precondition_failed(err):
                return None
            raise
        return self._tag_of(data)

    def replace(self, data: bytes, tag: str) -> str | None:
        """Write the object when its tag is still ``tag``; the new tag, or None."""
        if self.s3:
            try:
                self.fs.pipe_file(self.key, data, IfMatch=tag)
            except Exception as err:
                if _precondition_failed(err):
                    return None
                raise
            return self._tag_of(data)
        current = self.read()
        if current is None or current[1] != tag:
            return None
        self.fs.pipe_file(self.key, data)
        return self._tag_of(data)

    def delete(self, tag: str) -> bool:
        """Remove the object when its tag is still ``tag``."""
        if self.s3:
            bucket, key, _ = self.fs.split_path(self.key)
            try:
                self.fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=tag)
            except Exception as err:
                if _precondition_failed(err) or isinstance(err, FileNotFoundError):
                    return False
                raise
            return True
        current = self.read()
        if current is None or current[1] != tag:
            return False
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.key)
        return True

    def _tag_of(self, data: bytes) -> str:
        """The tag of the object just written (read back: its bytes are ``data``)."""
        found = self.read()
        if found is None or found[0] != data:
            raise OSError(f"{self.key}: replaced while it was written")
        return found[1]


@dataclass
class LeaseInfo:
    """What a lease object says of its holder."""

    holder: str
    host: str
    boot: str
    pid: int
    token: str
    expires: float

    @classmethod
    def parse(cls, data: bytes) -> LeaseInfo | None:
        try:
            found = json.loads(data)
            return cls(
                str(found["holder"]),
                str(found["host"]),
                str(found["boot"]),
                int(found["pid"]),
                str(found["token"]),
                float(found["expires"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def stale(self, now: float) -> str | None:
        """Why this lease may be taken over (expired, or its process is gone), or None."""
        if self.token in _HELD:
            return None  # this process holds it
        if now > self.expires:
            return f"expired {now - self.expires:.0f} s ago"
        if self.host == socket.gethostname() and self.boot == boot_id():
            if self.pid == os.getpid():
                return "its process was an earlier one with this process's id"
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return f"its process {self.pid} on this machine has ended"
            except PermissionError:
                return None
        return None


class Lease:
    """A held lease (see the module docstring); :attr:`lost` says why it was lost."""

    def __init__(self, fs: Any, key: str, holder: str, seconds: float | None = None) -> None:
        self.cond = Conditional(fs, key)
        self.holder = holder.strip()
        self.seconds = seconds or lease_seconds()
        self.token = secrets.token_hex(8)
        self.tag = ""
        self.lost: str | None = None
        self.took_over: str | None = None  #: the holder and reason of a lease taken over
        self._renewed = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _content(self) -> bytes:
        info = {
            "holder": self.holder,
            "host": socket.gethostname(),
            "boot": boot_id(),
            "pid": os.getpid(),
            "token": self.token,
            "expires": time.time() + self.seconds,
        }
        return json.dumps(info, sort_keys=True).encode()

    def acquire(self) -> str | None:
        """Take the lease; None when taken, else what the holder wrote (and when it ends)."""
        for _ in range(5):
            tag = self.cond.create(self._content())
            if tag is not None:
                self._held(tag)
                return None
            current = self.cond.read()
            if current is None:
                continue  # released meanwhile: try again
            info = LeaseInfo.parse(current[0])
            reason = "it is not a lease" if info is None else info.stale(time.time())
            if reason is None:
                assert info is not None
                left = max(0.0, info.expires - time.time())
                return f"{info.holder}; its lease runs {left:.0f} s more unless renewed"
            tag = self.cond.replace(self._content(), current[1])
            if tag is not None:
                self.took_over = f"{info.holder if info else 'a damaged lease'} ({reason})"
                self._held(tag)
                return None
        return "another run (the lease changed while it was read)"

    def _held(self, tag: str) -> None:
        self.tag, self._renewed = tag, time.time()
        _HELD.add(self.token)
        self._thread = threading.Thread(target=self._renew, name="studio-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                tag = self.cond.replace(self._content(), self.tag)
            except Exception as err:  # the store is unreachable: try again while it lasts
                if time.time() > self._renewed + self.seconds * 0.75:
                    self.lost = f"the lease could not be renewed ({err})"
                    return
                continue
            if tag is None:
                self.lost = "another run took the lease over"
                return
            self.tag, self._renewed = tag, time.time()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        _HELD.discard(self.token)
        if self.lost is None and self.tag:
            with contextlib.suppress(Exception):
                self.cond.delete(self.tag)
        self.tag = ""
