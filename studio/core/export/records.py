"""The records of an export folder: manifest.jsonl, failures.jsonl, the job lock, checks.

A manifest row names each file of its sample with the file's size and a hash of its bytes
(``checks``), so a resume can tell a sample whose files are missing, truncated or damaged
and make it again, and ``studio verify`` can check a folder without changing it. Rows are
read as a stream: memory does not grow with the size of the data set.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from studio.core.io.writers import default_mode, dumps_json, fsync_dir
from studio.core.jobs.records import read_record
from studio.core.model.errors import InputError, StudioError, WriteError

MANIFEST = "manifest.jsonl"
FAILURES = "failures.jsonl"
JOB = "job.json"
STATS = "stats.json"
LOCK = ".studio-export.lock"
SYNC_EVERY_ROWS = 256  #: rows between two syncs of the output folders and the records
SYNC_EVERY_S = 2.0  #: ... or seconds, whichever comes first


def file_hash(data: bytes) -> str:
    """The cheap content hash recorded for each file (BLAKE2b, 64 bits, hex)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def read_rows(
    path: Path,
    *,
    strict: bool = True,
    notes: list[str] | None = None,
    end: int | None = None,
) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
    """``(line number, start, end byte offset, row)`` of a JSON-lines file, streamed (memory
    does not grow with the file).

    A last line without its newline is a row cut short by a crash mid-write: it is skipped
    (with a note in ``notes`` when given). Another line that is not a JSON object is an error
    naming the file and the line, or skipped with ``strict=False``. Reading stops at byte
    ``end`` when given.
    """
    if not path.exists():
        return
    try:
        fh = path.open("rb")
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path) from err
    offset = 0
    with fh:
        for n, raw in enumerate(fh, 1):
            start, offset = offset, offset + len(raw)
            if end is not None and offset > end:
                return
            if not raw.endswith(b"\n"):
                if notes is not None and raw.strip():
                    notes.append(f"{path.name}: line {n} is cut short (a crash while writing?)")
                return
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as err:
                if strict:
                    raise InputError(f"line {n} is not valid JSON", path) from err
                continue
            if not isinstance(row, dict):
                if strict:
                    raise InputError(f"line {n} is not a JSON object", path)
                continue
            yield n, start, offset, row


def iter_rows(path: Path, *, strict: bool = True) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` of a JSON-lines file, streamed (see :func:`read_rows`)."""
    for n, _, _, row in read_rows(path, strict=strict):
        yield n, row


def row_index(row: dict[str, Any], path: Path, n: int) -> int:
    value = row.get("index")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"line {n} has no sample index", path)
    return value


def check_row(out: Path, row: dict[str, Any], hashes: bool) -> str | None:
    """Why the files of a manifest row are not what was written, or None when they are:
    missing, another size than recorded (sizes are always checked), or, with ``hashes``,
    other bytes."""
    files = row.get("files")
    if not isinstance(files, dict) or not files:
        return "the row names no files"
    checks = row.get("checks") or {}
    for key, rel in files.items():
        path = out / str(rel)
        try:
            size = path.stat().st_size
        except OSError:
            return f"{rel} is missing"
        want = checks.get(key)
        if want is None:
            if size == 0:
                return f"{rel} is empty"
            continue
        if size != want[0]:
            return f"{rel} has {size} bytes, {want[0]} were written"
        if hashes:
            try:
                data = path.read_bytes()
            except OSError as err:
                return f"{rel} cannot be read ({err.strerror or err})"
            if file_hash(data) != want[1]:
                return f"{rel} differs from what was written (hash)"
    return None


@dataclass
class Repair:
    """What a resume found wrong in the records, and dropped so that it is made again."""

    torn_lines: int = 0
    duplicate_rows: int = 0
    damaged: list[tuple[int, str]] = field(default_factory=list)  #: (index, reason)

    @property
    def changed(self) -> bool:
        return bool(self.torn_lines or self.duplicate_rows or self.damaged)


class JobLock:
    """An exclusive lock on an export folder (flock: the kernel releases it when the
    process dies, so a crash never leaves the folder locked)."""

    def __init__(self, out: Path) -> None:
        self.path = out / LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, default_mode())
        except OSError as err:
            raise WriteError.from_os_error(err, self.path) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = os.read(fd, 512).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise InputError(
                f"another export is running in this folder ({holder}): wait for it to end "
                "or stop it, then resume it",
                self.path.parent,
                hint="resume",
            ) from err
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


class Records:
    """manifest.jsonl and failures.jsonl of a job: read (and repaired) on resume, appended
    row by row, synced in batches with the output folders."""

    def __init__(self, out: Path, folders: tuple[str, ...] = ()) -> None:
        self.out = out
        self.folders = folders  #: output sub-folders whose renames are synced in batches
        self.done: set[int] = set()
        self.written = 0
        self.failed_samples = 0
        self.failed_inputs: set[str] = set()
        self.repair = Repair()
        self._manifest: IO[str] | None = None
        self._failures: IO[str] | None = None
        self._unsynced = 0
        self._last_sync = time.monotonic()

    # ---- reading ----------------------------------------------------------------------------
    def load(self, verify: bool = False) -> Repair:
        """Read the records of a job to resume. Every manifest row's files are checked
        (sizes; hashes too with ``verify``): a row whose files are missing or damaged, a
        duplicate row and a torn last line are dropped from the manifest (rewritten
        atomically), so those samples are made again."""
        manifest = self.out / MANIFEST
        keep = self._keep_rows(manifest, verify)
        if self.repair.changed:
            self._rewrite(manifest, keep)
        for n, row in iter_rows(self.out / FAILURES, strict=False):
            if row.get("index") is None:
                self.failed_inputs.add(str(row.get("path")))
                continue
            index = row_index(row, self.out / FAILURES, n)
            if index not in self.done:
                self.done.add(index)
                self.failed_samples += 1
        self._cut_torn_line(self.out / FAILURES)
        return self.repair

    def _keep_rows(self, manifest: Path, verify: bool) -> list[int]:
        """Line numbers of the manifest rows to keep; fills ``done`` and ``repair``."""
        keep: list[int] = []
        for n, row in iter_rows(manifest):
            index = row_index(row, manifest, n)
            if index in self.done:
                self.repair.duplicate_rows += 1
                continue
            reason = check_row(self.out, row, verify)
            if reason is not None:
                self.repair.damaged.append((index, reason))
                continue
            self.done.add(index)
            self.written += 1
            keep.append(n)
        if manifest.exists() and _has_torn_line(manifest):
            self.repair.torn_lines = 1
        return keep

    def _rewrite(self, manifest: Path, keep: list[int]) -> None:
        wanted = set(keep)
        tmp = manifest.with_name(f".{manifest.name}.repair.tmp")
        try:
            with manifest.open("rb") as src, open(tmp, "wb") as dst:
                for n, raw in enumerate(src, 1):
                    if n in wanted:
                        dst.write(raw)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(tmp, default_mode())
            os.replace(tmp, manifest)
        except OSError as err:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise WriteError.from_os_error(err, manifest) from err

    def _cut_torn_line(self, path: Path) -> None:
        if path.exists() and _has_torn_line(path):
            data = path.read_bytes()
            with open(path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    # ---- appending --------------------------------------------------------------------------
    def open(self) -> None:
        try:
            self._manifest = open(self.out / MANIFEST, "a", encoding="utf-8")  # noqa: SIM115
            self._failures = open(self.out / FAILURES, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise WriteError.from_os_error(err, self.out) from err

    def record_input_problem(self, path: str, reason: str) -> None:
        """An input file found unusable while listing the sources (recorded once per job)."""
        if path not in self.failed_inputs:
            self.failed_inputs.add(path)
            self._append(self._failures, {"index": None, "path": path, "reason": reason})

    def record(self, outcome: Any) -> None:
        for failure in outcome.failures:
            if failure.get("index") is None:
                if failure["path"] in self.failed_inputs:
                    continue
                self.failed_inputs.add(failure["path"])
            else:
                self.failed_samples += 1
            self._append(self._failures, failure)
        if outcome.row is not None:
            self._append(self._manifest, outcome.row)
            self.written += 1
        self.done.add(outcome.index)
        self._unsynced += 1
        if self._unsynced >= SYNC_EVERY_ROWS or time.monotonic() - self._last_sync > SYNC_EVERY_S:
            self.sync()

    def _append(self, fh: IO[str] | None, row: dict[str, Any]) -> None:
        assert fh is not None
        try:
            fh.write(dumps_json(row, sort_keys=True) + "\n")
            fh.flush()
        except (OSError, ValueError) as err:
            name = MANIFEST if fh is self._manifest else FAILURES
            if isinstance(err, OSError):
                raise WriteError.from_os_error(err, self.out / name) from err
            raise StudioError(f"cannot record a row ({err})", self.out / name) from err

    def sync(self) -> None:
        """Make the renamed sample files and the appended rows durable (one batch)."""
        for folder in self.folders:
            if (self.out / folder).is_dir():
                fsync_dir(self.out / folder)
        for fh in (self._manifest, self._failures):
            if fh is not None:
                try:
                    fh.flush()
                    os.fsync(fh.fileno())
                except OSError as err:
                    raise WriteError.from_os_error(err, Path(fh.name)) from err
        self._unsynced = 0
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close the record files (errors on the way out are reported, not raised
        over an error already in flight)."""
        try:
            if self._manifest is not None:
                self.sync()
        finally:
            for fh in (self._manifest, self._failures):
                if fh is not None:
                    with contextlib.suppress(OSError):
                        fh.close()
            self._manifest = self._failures = None


def _has_torn_line(path: Path) -> bool:
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        with path.open("rb") as fh:
            fh.seek(size - 1)
            return fh.read(1) != b"\n"
    except OSError:
        return False


def remove_temp_files(out: Path, folders: tuple[str, ...]) -> None:
    """Temporary files a crash left behind (never complete files)."""
    for folder in set(folders):
        d = out / folder
        if d.is_dir():
            for tmp in d.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


@dataclass
class Verification:
    """What ``studio verify`` found in an export folder."""

    out: Path
    count: int = 0
    rows: int = 0
    files: int = 0
    failed_samples: int = 0
    problems: list[str] = field(default_factory=list)
    not_made: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.not_made == 0


def verify_job(out: str | Path, hashes: bool = True) -> Verification:
    """Check an export folder without changing it: job.json, every manifest row (files
    present, sizes and hashes as written), duplicates, indices, samples not made yet, and
    files no row names.

    Raises
    ------
    InputError
        when ``out`` is not an export folder (no readable job.json).
    """
    out = Path(out)
    job_file = out / JOB
    if not job_file.is_file():
        raise InputError("not an export folder (no job.json)", out)
    job = read_record(job_file, JOB)
    try:
        count = int(job["count"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"job.json is not a job record ({err})", job_file) from err
    found = Verification(out, count=count)
    seen: set[int] = set()
    named: set[str] = set()
    manifest = out / MANIFEST
    for n, row in iter_rows(manifest, strict=False):
        found.rows += 1
        try:
            index = row_index(row, manifest, n)
        except InputError as err:
            found.problems.append(err.line())
            continue
        if index in seen:
            found.problems.append(f"{manifest}: line {n}: sample {index} is listed twice")
            continue
        if index >= count:
            found.problems.append(f"{manifest}: line {n}: sample {index} is beyond the count")
        seen.add(index)
        reason = check_row(out, row, hashes)
        files = row.get("files")
        files = files if isinstance(files, dict) else {}
        found.files += len(files)
        named.update(str(rel) for rel in files.values())
        if reason is not None:
            found.problems.append(f"sample {index}: {reason}")
    if manifest.exists() and _has_torn_line(manifest):
        found.problems.append(f"{manifest}: the last line is torn (a crash mid-write)")
    for _, row in iter_rows(out / FAILURES, strict=False):
        failed = row.get("index")
        if isinstance(failed, int) and not isinstance(failed, bool) and failed not in seen:
            seen.add(failed)
            found.failed_samples += 1
    found.not_made = max(0, count - len(seen))
    folders = {str(rel).split("/", 1)[0] for rel in named if "/" in str(rel)}
    for folder in sorted(folders):
        for path in sorted((out / folder).iterdir()):
            rel = f"{folder}/{path.name}"
            if path.name.endswith(".tmp"):
                found.problems.append(f"{rel}: a temporary file left by a crash")
            elif rel not in named:
                found.problems.append(f"{rel}: no manifest row names this file")
    return found
