"""The records of an export folder: manifest.jsonl, failures.jsonl, the job lock, checks.

A manifest row (:mod:`.rows`) names each file of its sample with the file's size and a hash
of its bytes (``checks``), so a resume can tell a sample whose files are missing, truncated or
damaged and make it again, and ``studio verify`` can check a folder without changing it. Rows are
read as a stream: memory does not grow with the size of the data set. Every file is reached
through :class:`~studio.core.export.folder.ExportFolder` (no link followed, paths confined).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.export.folder import (
    SAMPLE_FOLDERS,
    SHARDS,
    Appender,
    ExportFolder,
    Held,
    LockedError,
)
from studio.core.export.rows import (
    MAX_INDEX,
    Shard,
    ShardChecks,
    check_row,
    index_problem,
    row_shard,
    sample_index,
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
MIN_REPLACEMENTS = 10  #: replacements a job of any count may draw (see :func:`index_limit`)


def index_limit(count: int) -> int:
    """The sample indices a job of ``count`` samples may draw lie below this.

    A draw that fails (a damaged face) is replaced by the next index past the plan, so a job
    of ``count`` samples draws indices ``0, 1, ...`` until ``count`` samples are made, at
    most ``max(count, MIN_REPLACEMENTS)`` replacements: the made samples are the same
    whatever the workers, the engine or the resumes, and a grown job (a larger count) makes
    the same samples as a job of that count from the start.
    """
    return min(MAX_INDEX, count + max(count, MIN_REPLACEMENTS))


def is_export(where: str | Path) -> bool:
    """True for an export (finished or not): a folder, or a URL in a store, holding a
    manifest; False for anything else, an unreadable folder or store included."""
    try:
        with ExportFolder(where) as folder:
            return folder.exists(MANIFEST)
    except (StudioError, OSError):
        return False


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
        #: the holder of a lease taken over from a run that ended without releasing it
        self.took_over: str | None = None

    def acquire(self) -> None:
        try:
            self._lock = self.folder.lock(LOCK, _holder())
            self.took_over = getattr(self._lock, "took_over", None)
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
        self.shards: set[str] = set()  #: the shards the kept rows name
        self._shard_rows: dict[str, int] = {}  #: rows recorded this run, by shard

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
        seen = ShardChecks()
        by_shard: dict[Shard, list[tuple[int, int]]] = {}  #: (line, index) of each shard
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
            reason = check_row(self.folder, row, verify, folders, seen)
            if reason is not None:
                self.repair.damaged.append((index, reason))
                continue
            self.done.add(index)
            self.written += 1
            keep.add(n)
            shard = row_shard(row)
            if isinstance(shard, Shard):
                by_shard.setdefault(shard, []).append((n, index))
        for shard, rows in by_shard.items():
            if len(rows) == shard.samples:
                self.shards.add(shard.name)
                continue
            for n, index in rows:  # recorded in part (a crash between its rows): made again
                keep.discard(n)
                self.done.discard(index)
                self.written -= 1
                reason = f"{shard.name} holds {shard.samples} samples, {len(rows)} are recorded"
                self.repair.damaged.append((index, reason))
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
        whole = False
        if outcome.row is not None:
            self._append(self._manifest, outcome.row)
            self.written += 1
            whole = self._shard_recorded(outcome.row)
        self.done.add(outcome.index)
        self._unsynced += 1
        if (
            whole
            or self._unsynced >= SYNC_EVERY_ROWS
            or time.monotonic() - self._last_sync > SYNC_EVERY_S
        ):
            self.sync()

    def _shard_recorded(self, row: dict[str, Any]) -> bool:
        """Whether ``row`` is the last of its shard to be recorded (the rows of a shard are
        then made durable at once: a crash loses at most the shards in flight)."""
        shard = row_shard(row)
        if not isinstance(shard, Shard):
            return False
        count = self._shard_rows[shard.name] = self._shard_rows.get(shard.name, 0) + 1
        if count < shard.samples:
            return False
        del self._shard_rows[shard.name]
        self.shards.add(shard.name)
        return True

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


def remove_unrecorded_shards(folder: ExportFolder, recorded: set[str]) -> None:
    """Shards no kept row names (written by a run that crashed before recording them, or
    recorded in part): their samples are made again."""
    for entry in folder.list(SHARDS):
        rel = f"{SHARDS}/{entry.name}"
        if entry.kind == "file" and entry.name.endswith(".tar") and rel not in recorded:
            folder.remove(rel)


def remove_temp_files(folder: ExportFolder, folders: Iterable[str]) -> None:
    """Temporary files a crash left behind (never complete files)."""
    for name in sorted(set(folders)):
        for entry in folder.list(name):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                folder.remove(f"{name}/{entry.name}")
