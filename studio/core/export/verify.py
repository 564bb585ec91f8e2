"""``studio verify``: check an export folder without changing it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.export.folder import ExportFolder
from studio.core.export.records import (
    FAILURES,
    JOB,
    MANIFEST,
    has_torn_line,
    index_limit,
    read_record_file,
    read_rows,
)
from studio.core.export.rows import (
    Shard,
    ShardChecks,
    check_row,
    index_problem,
    layout_folders,
    row_shard,
    sample_index,
    stored_files,
)
from studio.core.io.remote import Location
from studio.core.model.errors import InputError


@dataclass
class Verification:
    """What ``studio verify`` found in an export folder."""

    out: Location
    count: int = 0
    rows: int = 0
    files: int = 0
    failed_samples: int = 0
    problems: list[str] = field(default_factory=list)
    not_made: int = 0
    #: samples fewer than the count: failed draws beyond the replacements a job may make
    short: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.not_made == 0


def _job_count(folder: ExportFolder) -> tuple[int, tuple[str, ...]]:
    job = read_record_file(folder, JOB)
    if job is None:
        raise InputError("not an export folder (no job.json)", folder.path)
    count = job.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"job.json is not a job record (count {count!r})", folder.path / JOB)
    return count, layout_folders(job)


def verify_job(out: str | Path, hashes: bool = True) -> Verification:
    """Check an export folder without changing it: job.json, every manifest line (damaged
    lines named), every row's files (inside the sample folders, regular files, sizes and
    hashes as written), duplicates, indices, samples not made yet, and files no row names.

    Raises
    ------
    InputError
        when ``out`` is not an export folder (no readable job.json), or a record or sample
        folder is a link (one line naming it).
    """
    with ExportFolder(out) as folder:
        count, folders = _job_count(folder)
        found = Verification(folder.path, count=count)
        seen: set[int] = set()
        named: set[str] = set()
        manifest = folder.path / MANIFEST
        limit = index_limit(count)
        bad: list[tuple[int, str]] = []
        shards = ShardChecks()
        by_shard: Counter[Shard] = Counter()
        for n, _, _, row in read_rows(folder, MANIFEST, bad=bad):
            found.rows += 1
            index = sample_index(row.get("index"))
            if index is None:
                found.problems.append(f"{manifest}: line {n} {index_problem(row.get('index'))}")
                continue
            if index in seen:
                found.problems.append(f"{manifest}: line {n}: sample {index} is listed twice")
                continue
            if index >= limit:
                found.problems.append(f"{manifest}: line {n}: sample {index} is beyond the job")
            seen.add(index)
            reason = check_row(folder, row, hashes, folders, shards)
            files = row.get("members") if "shard" in row else row.get("files")
            found.files += len(files) if isinstance(files, dict) else 0
            named.update(stored_files(row))
            if reason is not None:
                found.problems.append(f"sample {index}: {reason}")
            shard = row_shard(row)
            if isinstance(shard, Shard):
                by_shard[shard] += 1
        found.problems.extend(
            f"{shard.name}: holds {shard.samples} samples, {rows} are recorded (a crash "
            "while its rows were written: a resume makes them again)"
            for shard, rows in by_shard.items()
            if rows != shard.samples
        )
        found.problems.extend(
            f"{manifest}: {reason} (a resume drops it and makes its sample again)"
            for _, reason in sorted(bad)
        )
        if has_torn_line(folder, MANIFEST):
            found.problems.append(f"{manifest}: the last line is torn (a crash mid-write)")
        written = len(seen)
        for _, _, _, row in read_rows(folder, FAILURES, strict=False):
            failed = sample_index(row.get("index"))
            if failed is not None and failed not in seen:
                seen.add(failed)
                found.failed_samples += 1
        wanted = min(count + found.failed_samples, limit)
        found.not_made = wanted - sum(1 for i in seen if i < wanted)
        found.short = max(0, count - written) if found.not_made == 0 else 0
        _strays(folder, folders, named, found)
    return found


def _strays(
    folder: ExportFolder, folders: tuple[str, ...], named: set[str], found: Verification
) -> None:
    """Files of the sample folders that no row names (temp files of a crash, strays)."""
    for name in folders:
        for entry in folder.list(name):
            rel = f"{name}/{entry.name}"
            if entry.name.endswith(".tmp"):
                found.problems.append(f"{rel}: a temporary file left by a crash")
            elif rel not in named:
                what = "symbolic link" if entry.kind == "link" else entry.kind
                found.problems.append(f"{rel}: no manifest row names this {what}")
