"""The records of an export folder: manifest.jsonl, failures.jsonl, the job lock, checks.

A manifest row names each file of its sample with the file's size and a hash of its bytes
(``checks``), so a resume can tell a sample whose files are missing, truncated or damaged
and make it again, and ``studio verify`` can check a folder without changing it. Rows are
read as a stream: memory does not grow with the size of the data set. Every file is reached
through :class:`~studio.core.export.folder.ExportFolder` (no link followed, paths confined).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.export.folder import (
    LAYOUTS,
    MAX_UNRECORDED_BYTES,
    SAMPLE_FOLDERS,
    Appender,
    ExportFolder,
    Held,
    LockedError,
    sample_path,
)
from studio.core.io.safe_yaml import MAX_BYTES, decode_text
from studio.core.io.writers import dumps_json
from studio.core.jobs.records import parse_record
from studio.core.model.errors import InputError, StudioError

MANIFEST = "manifest.jsonl"
FAILURES = "failures.jsonl"
JOB = "job.json"
STATS = "stats.json"
LOCK = ".studio-export.lock"
SYNC_EVERY_ROWS = 256  #: rows between two syncs of the output folders and the records
SYNC_EVERY_S = 2.0  #: ... or seconds, whichever comes first
MAX_INDEX = 2**62  #: sample indices lie in [0, MAX_INDEX)
MIN_REPLACEMENTS = 10  #: replacements a job of any count may draw (see :func:`index_limit`)


def file_hash(data: bytes) -> str:
    """The cheap content hash recorded for each file (BLAKE2b, 64 bits, hex)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def index_limit(count: int) -> int:
    """The sample indices a job of ``count`` samples may draw lie below this.

    A draw that fails (a damaged face) is replaced by the next index past the plan, so a job
    of ``count`` samples draws indices ``0, 1, ...`` until ``count`` samples are made, at
    most ``max(count, MIN_REPLACEMENTS)`` replacements: the made samples are the same
    whatever the workers, the engine or the resumes, and a grown job (a larger count) makes
    the same samples as a job of that count from the start.
    """
    return min(MAX_INDEX, count + max(count, MIN_REPLACEMENTS))


def read_record_file(folder: ExportFolder, name: str) -> dict[str, Any] | None:
    """The JSON object of a record of the folder (``job.json``, ``stats.json``); None when
    it is missing. Errors name the file (a link or special file is refused, never read)."""
    if not folder.exists(name):
        return None
    data = folder.read(name, MAX_BYTES)
    return parse_record(decode_text(data, folder.path / name, name), folder.path / name, name)


def read_rows(
    folder: ExportFolder,
    name: str,
    *,
    strict: bool = True,
    notes: list[str] | None = None,
    end: int | None = None,
    bad: list[tuple[int, str]] | None = None,
) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
    """``(line number, start, end byte offset, row)`` of the JSON-lines record ``name``,
    streamed (memory does not grow with the file).

    A last line without its newline is a row cut short by a crash mid-write: it is skipped
    (with a note in ``notes`` when given). Another line that is not a JSON object is an error
    naming the file and the line; with ``bad`` given it is listed there as ``(line, reason)``
    and skipped, and with ``strict=False`` just skipped. Reading stops at byte ``end``.
    """
    fh = folder.open_read(name)
    if fh is None:
        return
    path = folder.path / name
    offset = 0
    with fh:
        for n, raw in enumerate(fh, 1):
            start, offset = offset, offset + len(raw)
            if end is not None and offset > end:
                return
            if not raw.endswith(b"\n"):
                if notes is not None and raw.strip():
                    notes.append(f"{name}: line {n} is cut short (a crash while writing?)")
                return
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                reason = None if isinstance(row, dict) else f"line {n} is not a JSON object"
            except (ValueError, UnicodeDecodeError, RecursionError):
                reason = f"line {n} is not valid JSON"
            if reason is not None:
                if bad is not None:
                    bad.append((n, reason))
                elif strict:
                    raise InputError(reason, path)
                continue
            yield n, start, offset, row


def iter_rows(
    folder: ExportFolder, name: str, *, strict: bool = True
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` of a JSON-lines record, streamed (see :func:`read_rows`)."""
    for n, _, _, row in read_rows(folder, name, strict=strict):
        yield n, row


def sample_index(value: Any) -> int | None:
    """``value`` when it is a sample index (see :func:`index_problem`), else None."""
    return value if index_problem(value) is None else None


def index_problem(value: Any) -> str | None:
    """Why ``value`` is not a sample index (an int in [0, :data:`MAX_INDEX`)), or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "has no sample index"
    if not 0 <= value < MAX_INDEX:
        return f"has sample index {value}, outside [0, 2**62)"
    return None


def row_index(row: dict[str, Any], path: Path, n: int) -> int:
    """The sample index of a row (InputError naming the file and line when it has none)."""
    index = sample_index(row.get("index"))
    if index is None:
        raise InputError(f"line {n} {index_problem(row.get('index'))}", path)
    return index


def _recorded(want: Any) -> tuple[int, str] | None:
    ok = (
        isinstance(want, list)
        and len(want) == 2
        and isinstance(want[0], int)
        and not isinstance(want[0], bool)
        and want[0] >= 0
        and isinstance(want[1], str)
    )
    return (want[0], want[1]) if ok else None


def check_row(
    folder: ExportFolder,
    row: dict[str, Any],
    hashes: bool,
    folders: Iterable[str] = SAMPLE_FOLDERS,
) -> str | None:
    """Why the files of a manifest row are not what was written, or None when they are: a
    path outside the sample ``folders`` (never opened), missing, a link or special file,
    another size than recorded (sizes are always checked), or, with ``hashes``, other bytes
    (read no further than the recorded size)."""
    files = row.get("files")
    if not isinstance(files, dict) or not files:
        return "the row names no files"
    checks = row.get("checks")
    checks = checks if isinstance(checks, dict) else {}
    for key, rel in files.items():
        outside = sample_path(rel, folders)
        if outside is not None:
            return outside
        entry = folder.stat(rel)
        if entry is None:
            return f"{rel} is missing"
        if entry.kind != "file":
            kind = "a symbolic link" if entry.kind == "link" else "not a regular file"
            return f"{rel} is {kind}"
        if key not in checks:
            if entry.size == 0:
                return f"{rel} is empty"
            continue
        want = _recorded(checks[key])
        if want is None:
            return f"the row's check of {rel} is not a size and a hash"
        if entry.size != want[0]:
            return f"{rel} has {entry.size} bytes, {want[0]} were written"
        if hashes:
            try:
                data = folder.read(rel, want[0], sample=True)
            except InputError as err:
                return f"{rel} cannot be read ({err.reason})"
            if file_hash(data) != want[1]:
                return f"{rel} differs from what was written (hash)"
    return None


def row_problem(row: dict[str, Any], folders: Iterable[str] = SAMPLE_FOLDERS) -> str | None:
    """Why a manifest row cannot be shown (sheet, report): an index outside [0, 2**62), a
    stem that is not text, files that are not a mapping of paths inside the sample
    ``folders``; None when it can (its files are checked when read)."""
    problem = index_problem(row.get("index"))
    if problem is not None:
        return problem
    if not isinstance(row.get("stem"), str):
        return "has no stem"
    files = row.get("files")
    if not isinstance(files, dict):
        return "names no files"
    for key, rel in files.items():
        outside = sample_path(rel, folders)
        if outside is not None:
            return f"files.{key}: {outside}"
    return None


def read_sample_file(folder: ExportFolder, row: dict[str, Any], key: str) -> bytes:
    """The bytes of the file ``key`` of a manifest row, read only when it lies in a sample
    folder and is a regular file, and never past its recorded size.

    Raises
    ------
    InputError
        naming the file: outside the sample folders, missing, a link or special file, or
        another size than recorded.
    """
    files = row.get("files")
    rel = files.get(key) if isinstance(files, dict) else None
    outside = sample_path(rel, SAMPLE_FOLDERS)
    if outside is not None or not isinstance(rel, str):
        raise InputError(outside or "no file", folder.path)
    checks = row.get("checks")
    want = _recorded(checks.get(key)) if isinstance(checks, dict) else None
    data = folder.read(rel, MAX_UNRECORDED_BYTES if want is None else want[0], sample=True)
    if want is not None and len(data) != want[0]:
        raise InputError(f"has {len(data)} bytes, {want[0]} were written", folder.path / rel)
    return data


def layout_folders(job: dict[str, Any] | None) -> tuple[str, ...]:
    """The sample folders of a job record's layout (every layout's when it names none)."""
    layout = LAYOUTS.get(str((job or {}).get("layout")))
    return tuple(sorted(set(layout.values()) if layout else SAMPLE_FOLDERS))


@dataclass
class Repair:
    """What a resume found wrong in the records, and dropped so that it is made again."""

    torn_lines: int = 0
    duplicate_rows: int = 0
    damaged: list[tuple[int, str]] = field(default_factory=list)  #: (index, reason)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  #: (line, reason)
    failure_lines: int = 0  #: damaged or torn lines of failures.jsonl

    @property
    def changed(self) -> bool:
        return bool(self.torn_lines or self.duplicate_rows or self.damaged or self.bad_lines)


def _holder() -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n"


class JobLock:
    """The exclusive lock of an export folder (a kernel lock on :data:`LOCK`: released when
    the process dies, so a crash never leaves the folder locked; a link there is refused)."""

    def __init__(self, out: Path | ExportFolder) -> None:
        self.folder = out if isinstance(out, ExportFolder) else ExportFolder(out)
        self.path = self.folder.path / LOCK
        self._lock: Held | None = None

    def acquire(self) -> None:
        try:
            self._lock = self.folder.lock(LOCK, _holder())
        except LockedError as err:
            raise InputError(
                f"another export is running in this folder ({err.holder or 'another process'})"
                ": wait for it to end or stop it, then resume it",
                self.folder.path,
                hint="resume",
            ) from err

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class Records:
    """manifest.jsonl and failures.jsonl of a job: read (and repaired) on resume, appended
    row by row, synced in batches with the output folders.

    ``limit``: sample indices of the job lie below it; a row beyond is damage.
    """

    def __init__(
        self, folder: ExportFolder, folders: tuple[str, ...] = (), limit: int = MAX_INDEX
    ) -> None:
        self.folder = folder
        self.out = folder.path
        self.folders = folders  #: output sub-folders whose renames are synced in batches
        self.limit = limit
        self.done: set[int] = set()
        self.written = 0
        self.failed_samples = 0
        self.failed: set[int] = set()  #: indices of the failed samples
        self.failed_inputs: set[str] = set()
        self.repair = Repair()
        self._manifest: Appender | None = None
        self._failures: Appender | None = None
        self._unsynced = 0
        self._last_sync = time.monotonic()

    # ---- reading ----------------------------------------------------------------------------
    def load(self, verify: bool = False) -> Repair:
        """Read the records of a job to resume. Every manifest row's files are checked
        (sizes; hashes too with ``verify``): a damaged line (anywhere), a row whose files are
        missing, damaged or outside the sample folders, a duplicate row and a torn last line
        are dropped from the manifest (rewritten atomically), so those samples are made
        again; so are the damaged lines of failures.jsonl."""
        keep = self._keep_rows(verify)
        if self.repair.changed:
            self._rewrite(MANIFEST, keep)
        keep_failures, dropped = self._read_failures()
        if dropped:
            self.repair.failure_lines = dropped
            self._rewrite(FAILURES, keep_failures)
        return self.repair

    def _keep_rows(self, verify: bool) -> set[int]:
        """Line numbers of the manifest rows to keep; fills ``done`` and ``repair``."""
        keep: set[int] = set()
        folders = self.folders or SAMPLE_FOLDERS
        bad = self.repair.bad_lines
        for n, _, _, row in read_rows(self.folder, MANIFEST, bad=bad):
            problem = index_problem(row.get("index"))
            if problem is None and row["index"] >= self.limit:
                problem = f"has sample index {row['index']}, beyond this job"
            if problem is not None:
                bad.append((n, f"line {n} {problem}"))
                continue
            index = row["index"]
            if index in self.done:
                self.repair.duplicate_rows += 1
                continue
            reason = check_row(self.folder, row, verify, folders)
            if reason is not None:
                self.repair.damaged.append((index, reason))
                continue
            self.done.add(index)
            self.written += 1
            keep.add(n)
        bad.sort()
        self.repair.torn_lines = int(has_torn_line(self.folder, MANIFEST))
        return keep

    def _read_failures(self) -> tuple[set[int], int]:
        """Line numbers of the failure rows to keep, and how many lines were dropped."""
        keep: set[int] = set()
        bad: list[tuple[int, str]] = []
        for n, _, _, row in read_rows(self.folder, FAILURES, bad=bad):
            if row.get("index") is None and isinstance(row.get("path"), str):
                self.failed_inputs.add(row["path"])
                keep.add(n)
                continue
            index = sample_index(row.get("index"))
            if index is None or index >= self.limit:
                bad.append((n, "no sample index"))
                continue
            keep.add(n)
            if index not in self.done:
                self.done.add(index)
                self.failed.add(index)
                self.failed_samples += 1
        return keep, len(bad) + int(has_torn_line(self.folder, FAILURES))

    def _rewrite(self, name: str, keep: set[int]) -> None:
        """Rewrite a record with the lines ``keep`` only (atomically: all or nothing)."""
        lines = (raw for n, raw in enumerate(self.folder.lines(name), 1) if n in keep)
        self.folder.write(name, _spool(lines))

    # ---- appending --------------------------------------------------------------------------
    def open(self) -> None:
        self._manifest = self.folder.append(MANIFEST)
        self._failures = self.folder.append(FAILURES)

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
                self.failed.add(failure["index"])
            self._append(self._failures, failure)
        if outcome.row is not None:
            self._append(self._manifest, outcome.row)
            self.written += 1
        self.done.add(outcome.index)
        self._unsynced += 1
        if self._unsynced >= SYNC_EVERY_ROWS or time.monotonic() - self._last_sync > SYNC_EVERY_S:
            self.sync()

    def _append(self, fh: Appender | None, row: dict[str, Any]) -> None:
        assert fh is not None
        try:
            text = dumps_json(row, sort_keys=True)
        except ValueError as err:
            raise StudioError(f"cannot record a row ({err})", fh.path) from err
        fh.write_line(text)

    def sync(self) -> None:
        """Make the renamed sample files and the appended rows durable (one batch)."""
        for name in self.folders:
            self.folder.sync(name)
        for fh in (self._manifest, self._failures):
            if fh is not None:
                fh.sync()
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
                    fh.close()
            self._manifest = self._failures = None


def _spool(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Lines in chunks of about 1 MiB (fewer writes for a long record)."""
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size >= 1 << 20:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def has_torn_line(folder: ExportFolder, name: str) -> bool:
    """Whether the record ``name`` ends in a line without its newline (a crash mid-write)."""
    entry = folder.stat(name)
    if entry is None or entry.kind != "file" or entry.size == 0:
        return False
    fh = folder.open_read(name)
    if fh is None:
        return False
    with fh:
        try:
            fh.seek(entry.size - 1)
            return fh.read(1) != b"\n"
        except (OSError, InputError):
            return False


def remove_temp_files(folder: ExportFolder, folders: Iterable[str]) -> None:
    """Temporary files a crash left behind (never complete files)."""
    for name in sorted(set(folders)):
        for entry in folder.list(name):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                folder.remove(f"{name}/{entry.name}")
