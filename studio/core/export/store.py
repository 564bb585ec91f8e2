"""An export folder in an object store (``s3://``, ``gs://``, any fsspec URL): the interface of
:class:`~studio.core.export.folder.ExportFolder`, so the job, its records, resume, verify, the
sheet, the report and training read and write it without knowing (``ExportFolder(url)`` is a
:class:`StoreFolder`).

- A file is an object, written whole: a reader sees the old object or the new one, never a
  part (a store has no links, no special files and no temporary names to clean up).
- A record appended line by line (``manifest.jsonl``, ``failures.jsonl``: a name at the top
  of the folder) is its object plus *parts* listed by an *index object*
  (``.records/NAME/index.json``): a sync uploads the lines written since the last one as a
  new part, then rewrites the index (one atomic write: the switch). Small parts are merged
  as they come (each at most twice the size of the next), so a record is a few objects
  however long the job; closing the record writes it whole as its object again and empties
  the index. Readers follow the index, unless the object is newer than the index says (a
  rewrite that crashed before its switch): then the object alone is the record.
- The lock is a lease object (:mod:`.lease`).
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import io
import json
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from studio.core.export.folder import (
    Appender,
    Entry,
    ExportFolder,
    Held,
    Kind,
    LockedError,
    register_store,
    relative_parts,
)
from studio.core.export.lease import Lease
from studio.core.io import remote
from studio.core.model.errors import InputError, StudioError, WriteError

RECORDS = ".records"  #: parts and index objects of the appended records
INDEX = "index.json"
MERGED_PART_BYTES = 64 * 2**20  #: parts are merged up to this size
READ_CHUNK = 4 * 2**20
IN_MEMORY_BYTES = 64 * 2**20  #: larger writes are spooled to a local file first


@dataclass(frozen=True)
class Part:
    """An object holding bytes ``[start, end)`` of an appender's spool."""

    key: str
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


class StoreFolder(ExportFolder):
    """An export folder in an object store (see the module docstring)."""

    path: remote.StoreURL

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        where = remote.location(path)
        assert isinstance(where, remote.StoreURL)
        self.path = where
        self.fs, self.root = remote.filesystem(where)
        self.lease: Lease | None = None
        #: the entries of the subfolders a stat looked into, listed once (a check of a
        #: manifest stats every file: one listing per 1000 files, not one request a file)
        self._listed: dict[str, dict[str, Entry]] = {}
        if create:
            return  # a prefix exists with its first object
        try:
            info = self.fs.info(self.root)
        except FileNotFoundError as err:
            raise InputError("folder not found", self.path) from err
        except OSError as err:
            raise InputError(f"cannot open: {err}", self.path) from err
        if info.get("type") != "directory":
            raise InputError("is not a folder", self.path)

    def close(self) -> None:
        """Nothing stays open (the lease is released by its holder)."""

    def key(self, rel: str) -> str:
        """The object key of ``rel`` (confined to the folder)."""
        return f"{self.root}/{'/'.join(relative_parts(rel))}" if rel else self.root

    def _info(self, key: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.fs.info(key)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise InputError(f"cannot read: {err}", key) from err
        return found

    # ---- records: object + parts + index --------------------------------------------------
    def _index_key(self, rel: str) -> str:
        return self.key(f"{RECORDS}/{rel}/{INDEX}")

    def record_index(self, rel: str) -> dict[str, Any]:
        """The index of the record ``rel`` as it stands: ``{"base": {size, tag} | None,
        "parts": [{key, size}]}`` (a missing or outdated index: the object alone)."""
        base_entry = self.base_entry(rel)
        try:
            index = json.loads(self.fs.cat_file(self._index_key(rel)))
        except FileNotFoundError:
            index = None
        except (OSError, ValueError) as err:
            reason = f"cannot read the index of this record: {err}"
            raise InputError(reason, self.path / rel) from err
        if not isinstance(index, dict) or index.get("base") != base_entry:
            return {"base": base_entry, "parts": []}
        parts = index.get("parts")
        prefix = f"{RECORDS}/{rel}/"
        if not isinstance(parts, list) or not all(
            isinstance(p, dict)
            and isinstance(p.get("key"), str)
            and p["key"].startswith(prefix)
            and isinstance(p.get("size"), int)
            and p["size"] >= 0
            for p in parts
        ):
            raise InputError(
                "is damaged (parts that are not objects of this record): remove it, and the "
                "record is its object alone (a resume makes the samples of the lost rows again)",
                self.path / RECORDS / rel / INDEX,
            )
        return {"base": base_entry, "parts": parts}

    def _segments(self, rel: str) -> list[tuple[str, int]] | None:
        """The objects holding ``rel``, in order, with their sizes (None when missing)."""
        if "/" in rel:
            info = self._info(self.key(rel))
            if info is None or info.get("type") == "directory":
                return None
            return [(self.key(rel), int(info["size"]))]
        index = self.record_index(rel)
        parts = [(self.key(p["key"]), int(p["size"])) for p in index["parts"]]
        if index["base"] is not None:
            parts.insert(0, (self.key(rel), int(index["base"]["size"])))
        return parts or None

    def write_index(self, rel: str, base: dict[str, Any] | None, parts: list[Part]) -> None:
        """Switch the record ``rel`` to its object ``base`` followed by ``parts``."""
        index = {"base": base, "parts": [{"key": p.key, "size": p.size} for p in parts]}
        self.put(self._index_key(rel), json.dumps(index, sort_keys=True).encode(), rel)

    def base_entry(self, rel: str) -> dict[str, Any] | None:
        info = self._info(self.key(rel))
        return None if info is None else {"size": info["size"], "tag": remote.object_tag(info)}

    def drop_parts(self, rel: str, keep: Iterable[str] = ()) -> None:
        """Remove the part objects of ``rel`` not in ``keep`` (merged, or left by a crash)."""
        kept = {self.key(k) for k in keep} | {self._index_key(rel)}
        with contextlib.suppress(FileNotFoundError):
            found = [k for k in self.fs.find(self.key(f"{RECORDS}/{rel}")) if k not in kept]
            if found:
                self.fs.rm(found)

    def check_lease(self) -> None:
        """Stop with a WriteError when this run's lease was lost (taken over, unrenewable)."""
        if self.lease is not None and self.lease.lost is not None:
            raise WriteError(
                f"this run lost the lock of the export: {self.lease.lost}; it stops (resume it "
                "once the other run has ended)",
                self.path,
                errno.EBUSY,
            )

    # ---- reading ----------------------------------------------------------------------------
    def stat(self, rel: str) -> Entry | None:
        name = rel.rsplit("/", 1)[-1]
        self.key(rel)  # confined, or an InputError
        if "/" not in rel:
            segments = self._segments(rel)
            if segments is not None:
                return Entry(name, "file", sum(size for _, size in segments))
            info = self._info(self.key(rel))
            return None if info is None else Entry(name, _kind(info), int(info.get("size") or 0))
        folder = rel.rsplit("/", 1)[0]
        listed = self._listed.get(folder)
        if listed is None:
            listed = self._listed[folder] = {e.name: e for e in self.entries(folder)}
        return listed.get(name)

    def read(self, rel: str, limit: int, *, sample: bool = False) -> bytes:
        path = self.path / rel
        if "/" not in rel:
            fh = self.open_read(rel)
            if fh is None:
                raise InputError("is missing", path)
            with fh:
                data = fh.read(limit + 1)
        else:
            try:
                data = self.fs.cat_file(self.key(rel), start=0, end=limit + 1)
            except FileNotFoundError as err:
                raise InputError("is missing", path) from err
            except (OSError, IsADirectoryError) as err:
                raise InputError(f"cannot read: {err}", path) from err
        if len(data) > limit:
            raise InputError(f"has more than the {limit} bytes expected", path)
        return bytes(data)

    def read_at(self, rel: str, offset: int, size: int) -> bytes:
        path = self.path / rel
        try:
            data = self.fs.cat_file(self.key(rel), start=offset, end=offset + size)
        except FileNotFoundError as err:
            raise InputError("is missing", path) from err
        except OSError as err:
            raise InputError(f"cannot read: {err}", path) from err
        if len(data) != size:
            raise InputError(f"ends before byte {offset + size} (a shard cut short?)", path)
        return bytes(data)

    def open_read(self, rel: str) -> BinaryIO | None:
        segments = self._segments(rel)
        if segments is None:
            return None
        raw = Segments(self.fs, segments, str(self.path / rel))
        return io.BufferedReader(raw, buffer_size=READ_CHUNK)

    def entries(self, folder: str) -> Iterator[Entry]:
        key = self.key(folder)
        try:
            found = self.fs.ls(key, detail=True)
        except FileNotFoundError:
            return
        except OSError as err:
            raise InputError(f"cannot list: {err}", self.path / folder) from err
        for info in found:
            name = str(info["name"]).rstrip("/")
            if name == key.rstrip("/"):
                continue  # a file listed as itself
            yield Entry(name.rsplit("/", 1)[-1], _kind(info), int(info.get("size") or 0))

    def is_folder(self, folder: str) -> bool:
        info = self._info(self.key(folder))
        return info is not None and info.get("type") == "directory"

    # ---- writing ----------------------------------------------------------------------------
    def makedirs(self, folder: str) -> None:
        """Nothing to make: a prefix exists with its objects."""

    def sync(self, folder: str = "") -> None:
        """Nothing to sync: an object is durable once written."""

    def put(self, key: str, data: bytes | Iterable[bytes], rel: str) -> None:
        """Write the object ``key`` whole (errors name ``rel``)."""
        try:
            if isinstance(data, (bytes, bytearray)):
                self.fs.pipe_file(key, bytes(data))
                return
            with tempfile.NamedTemporaryFile(prefix="studio-put-") as spool:
                for chunk in data:
                    spool.write(chunk)
                spool.flush()
                if spool.tell() <= IN_MEMORY_BYTES:
                    spool.seek(0)
                    self.fs.pipe_file(key, spool.read())
                else:
                    self.fs.put_file(spool.name, key)
        except OSError as err:  # every failure of a store stops the job (resumable)
            raise WriteError(f"cannot write: {err}", self.path / rel, errno.EIO) from err

    def write(self, rel: str, data: bytes | Iterable[bytes], *, durable: bool = True) -> None:
        self.check_lease()
        key = self.key(rel)
        self._listed.pop(rel.rsplit("/", 1)[0], None)  # listed again when a stat asks
        if "/" in rel or not self.record_index(rel)["parts"]:
            self.put(key, data, rel)
            return
        self.put(key, data, rel)  # a record with parts: write it whole, then switch
        self.write_index(rel, self.base_entry(rel), [])
        self.drop_parts(rel)

    def append(self, rel: str) -> Appender:
        if "/" in rel:
            raise InputError("records lie at the top of an export folder", self.path / rel)
        return StoreAppender(self, rel)

    def remove(self, rel: str) -> bool:
        key = self.key(rel)
        self._listed.pop(rel.rsplit("/", 1)[0], None)
        if self._info(key) is None:
            return False
        try:
            self.fs.rm_file(key)
        except FileNotFoundError:
            return False
        except OSError as err:
            raise WriteError(f"cannot remove: {err}", self.path / rel, errno.EIO) from err
        return True

    def lock(self, rel: str, holder: str) -> Held:
        """Take the lease object ``rel`` (see :mod:`.lease`)."""
        lease = Lease(self.fs, self.key(rel), holder)
        try:
            busy = lease.acquire()
        except OSError as err:
            raise WriteError(f"cannot take the lock: {err}", self.path / rel, errno.EIO) from err
        if busy is not None:
            raise LockedError(busy)
        self.lease = lease
        return lease


def _kind(info: dict[str, Any]) -> Kind:
    return "folder" if info.get("type") == "directory" else "file"


class Segments(io.RawIOBase):
    """Objects read as one stream (seekable; ranged reads, a few MiB at a time)."""

    def __init__(self, fs: Any, segments: list[tuple[str, int]], name: str) -> None:
        self.fs, self.segments, self.name = fs, segments, name
        self.starts: list[int] = []
        total = 0
        for _, size in segments:
            self.starts.append(total)
            total += size
        self.size, self.pos = total, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.size:
            return 0
        k = bisect.bisect_right(self.starts, self.pos) - 1
        key, size = self.segments[k]
        inner = self.pos - self.starts[k]
        n = min(len(buffer), size - inner, READ_CHUNK)
        try:
            data = self.fs.cat_file(key, start=inner, end=inner + n)
        except OSError as err:
            raise InputError(f"cannot read (changed while read?): {err}", self.name) from err
        if not data:
            raise InputError("ended early (changed while read?)", self.name)
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


class StoreAppender(Appender):
    """A record of a store open for appending: lines go to a local spool; :meth:`sync`
    uploads the new ones as a part and switches the index; :meth:`close` writes the record
    whole again (see the module docstring)."""

    def __init__(self, folder: StoreFolder, rel: str) -> None:
        spool = tempfile.TemporaryFile(prefix="studio-record-")  # noqa: SIM115 (closed by close)
        super().__init__(spool, folder.path / rel)
        self.folder, self.rel = folder, rel
        self.session = secrets.token_hex(6)
        index = folder.record_index(rel)
        self.base: dict[str, Any] | None = index["base"]
        self.earlier = [Part(p["key"], 0, int(p["size"])) for p in index["parts"]]
        self.parts: list[Part] = []
        self.synced = 0
        self._count = 0

    def _spooled(self, start: int, end: int) -> bytes:
        self.fh.seek(start)
        data = self.fh.read(end - start)
        self.fh.seek(0, io.SEEK_END)
        return data

    def _upload(self, start: int, end: int) -> Part:
        self._count += 1
        key = f"{RECORDS}/{self.rel}/{self.session}-{self._count:06d}"
        self.folder.put(self.folder.key(key), self._spooled(start, end), self.rel)
        return Part(key, start, end)

    def sync(self) -> None:
        """Upload the lines written since the last sync as a part, then switch the index."""
        self.folder.check_lease()
        end = self.fh.tell()
        if end == self.synced:
            return
        self.parts.append(self._upload(self.synced, end))
        self.synced = end
        merged: list[str] = []
        while len(self.parts) >= 2:
            a, b = self.parts[-2], self.parts[-1]
            if a.size > 2 * b.size or a.size + b.size > MERGED_PART_BYTES:
                break
            self.parts[-2:] = [self._upload(a.start, b.end)]
            merged += [a.key, b.key]
        self.folder.write_index(self.rel, self.base, self.earlier + self.parts)
        for key in merged:
            with contextlib.suppress(FileNotFoundError):
                self.folder.fs.rm_file(self.folder.key(key))

    def close(self) -> None:
        """Sync, then write the record whole as its object and empty the index. Errors on
        the way out are not raised (the caller's sync raised them already): the parts and
        their index stay a readable record."""
        try:
            self.sync()
            if self.parts or self.earlier:
                self._compact()
        except (OSError, StudioError):
            pass
        finally:
            super().close()

    def _compact(self) -> None:
        folder, rel = self.folder, self.rel
        segments = [(folder.key(p.key), p.size) for p in self.earlier]
        if self.base is not None:
            segments.insert(0, (folder.key(rel), int(self.base["size"])))
        stored = Segments(folder.fs, segments, str(folder.path / rel))

        def chunks() -> Iterator[bytes]:
            while block := stored.read(READ_CHUNK):
                yield block
            self.fh.seek(0)
            while block := self.fh.read(READ_CHUNK):
                yield block

        folder.put(folder.key(rel), chunks(), rel)
        folder.write_index(rel, folder.base_entry(rel), [])
        folder.drop_parts(rel)


register_store(StoreFolder)
