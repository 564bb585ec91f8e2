"""Running an export job: output folder, job.json, manifest, failures, resume, progress.

Crash safety: the folder is locked for the run (once the checks have passed: a refused run
leaves nothing behind); sample files are written atomically by the workers; a manifest row
(with each file's size and hash) is appended only after its files exist, and the output
folders and records are synced in batches. ``resume=True`` checks every recorded sample
(sizes; hashes with ``verify``), drops damaged lines and rows, removes stray temp files and
makes exactly the samples not yet (or no longer) recorded. Every file operation goes through
:class:`~studio.core.export.folder.ExportFolder`.

``count`` samples are made: a draw that fails is recorded in failures.jsonl and replaced by
the next index past the plan (see :func:`~studio.core.export.records.index_limit`); a resume
with a larger count grows a job into the one that count would have made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from studio.core.export.engines import Engine, InProcessEngine
from studio.core.export.folder import SHARDS, ExportFolder
from studio.core.export.plan import JobPlan, describe_difference
from studio.core.export.records import (
    FAILURES,
    JOB,
    LOCK,
    MANIFEST,
    STATS,
    JobLock,
    Records,
    Repair,
    index_limit,
    iter_rows,
    read_record_file,
    remove_temp_files,
    remove_unrecorded_shards,
)
from studio.core.io.remote import Location
from studio.core.io.writers import dumps_json, json_bytes
from studio.core.jobs.events import Event
from studio.core.jobs.progress import Progress
from studio.core.jobs.records import check_resumable
from studio.core.model.errors import InputError

__all__ = ["FAILURES", "JOB", "MANIFEST", "STATS", "export_events", "run_export"]


@dataclass
class ExportSummary:
    out: Location
    total: int
    written: int
    failed: int
    failed_inputs: int
    cancelled: bool
    seconds: float
    rate: float


def open_output(plan: JobPlan, resume: bool) -> ExportFolder:
    """The job's output folder, opened (made for a new job) and checked before any lock or
    record is written: a new job needs an empty folder, a resume this job's job.json."""
    out = plan.out
    if out.exists() and not out.is_dir():
        raise InputError("the output must be a folder; this is a file", out, hint="out")
    if resume and not out.exists():
        raise InputError("nothing to resume: no job.json in this folder", out)
    folder = ExportFolder(out, create=not resume)
    try:
        check_output(folder, plan, resume)
    except BaseException:
        folder.close()
        raise
    return folder


def check_output(folder: ExportFolder, plan: JobPlan, resume: bool) -> dict[str, Any] | None:
    """Refuse a folder the job cannot run in; on resume return the stored job record.

    A resume may grow the job (a larger count); every other difference is refused."""
    stored = read_record_file(folder, JOB)
    if not resume:
        if stored is not None:
            raise InputError("already holds an export job", folder.path, hint="resume")
        if any(entry.name != LOCK for entry in folder.entries("")):
            raise InputError("output folder is not empty", folder.path)
        return None
    if stored is None:
        raise InputError("nothing to resume: no job.json in this folder", folder.path)
    current = plan.job_record()
    count = stored.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count < plan.count:
        current = {**current, "count": count}  # a larger count grows the job
    check_resumable(describe_difference(stored, json.loads(dumps_json(current))), folder.path)
    return stored


def prepare_output(
    plan: JobPlan, resume: bool, verify: bool = False, folder: ExportFolder | None = None
) -> Records:
    """Check the output folder, write job.json (new or grown job) and read (and repair) the
    records on resume. The caller holds the folder's :class:`JobLock`."""
    folder = folder or ExportFolder(plan.out, create=not resume)
    stored = check_output(folder, plan, resume)
    if stored is None or stored.get("count") != plan.count:
        folder.write(JOB, json_bytes(plan.job_record()))
    sample_folders = written_folders(plan)
    records = Records(folder, sample_folders, index_limit(plan.count))
    if resume:
        for name in sample_folders:
            folder.is_folder(name)  # a link in place of a sample folder: refused at once
        records.load(verify=verify)
        remove_temp_files(folder, sample_folders)
        if plan.shards is not None:
            remove_unrecorded_shards(folder, records.shards)
    return records


def written_folders(plan: JobPlan) -> tuple[str, ...]:
    """The sample folders the job writes (an occlusion mask and labels when asked for), or
    the shard folder."""
    if plan.shards is not None:
        return (SHARDS,)
    output = plan.preset.output
    keys = ["image", "mask"]
    keys += ["occlusion_mask"] if output.occlusion_mask else []
    keys += ["labels"] if output.labels else []
    return tuple(sorted({plan.folders[k] for k in keys}))


def pending(wanted: int, done: set[int]) -> Iterator[int]:
    """The sample indices below ``wanted`` still to make, in order, without listing them."""
    return (i for i in range(wanted) if i not in done)


def export_events(
    plan: JobPlan,
    engine: Engine | None = None,
    *,
    resume: bool = False,
    verify: bool = False,
    cancel: threading.Event | None = None,
) -> Iterator[Event]:
    """Run the job, yielding start / progress / done events (the GUI and CLI consume these).

    The output folder is checked, then locked for the whole run. On resume every recorded
    sample is checked (file sizes; hashes too with ``verify``) and the damaged ones are made
    again.

    Raises
    ------
    StudioError
        when the job itself cannot run (bad output folder, resume mismatch, another run in
        the folder, a link in the folder, disk full: ``WriteError``).
    """
    engine = engine or InProcessEngine()
    cancel = cancel or threading.Event()
    folder = open_output(plan, resume)
    try:
        lock = JobLock(folder)
        lock.acquire()
        try:
            yield from _run(plan, folder, engine, resume, verify, cancel, lock.took_over)
        finally:
            lock.release()
    finally:
        folder.close()


def _run(
    plan: JobPlan,
    folder: ExportFolder,
    engine: Engine,
    resume: bool,
    verify: bool,
    cancel: threading.Event,
    took_over: str | None = None,
) -> Iterator[Event]:
    records = prepare_output(plan, resume, verify, folder)
    already = records.written
    repaired = records.repair
    start = Event.make("start", total=plan.count, done=already, out=str(plan.out))
    if repaired.changed or repaired.failure_lines:
        yield start.replace(repaired=len(repaired.damaged) + repaired.duplicate_rows)
        yield Event.make("note", message=repair_note(repaired))
    else:
        yield start
    if took_over:
        yield Event.make("note", message=f"took over the lock of {took_over}")
    records.open()
    progress = Progress(plan.count, done=already)
    limit = index_limit(plan.count)
    try:
        for path, reason in plan.input_problems:
            records.record_input_problem(path, reason)
        while not cancel.is_set():
            # draws that failed are replaced by the next indices past the plan: a round per
            # wave of replacements (the same samples whatever the order outcomes come in)
            wanted = min(plan.count + len(records.failed), limit)
            todo = pending(wanted, records.done)
            first = next(todo, None)
            if first is None:
                break
            for outcome in engine.run(plan, _chain(first, todo), cancel):
                records.record(outcome)
                event = progress.update(records.written, failed=records.failed_samples)
                if event is not None:
                    yield event
    finally:
        records.close()
    made = records.written - already
    short = records.written < plan.count and not _unfinished(plan, records, limit)
    cancelled = records.written < plan.count and not short
    if not cancelled:
        write_stats(plan, records, progress.seconds, made, engine)
    if short:
        yield Event.make("note", message=short_note(plan, records))
    yield Event.make(
        "done",
        total=plan.count,
        done=records.written,
        written=records.written,
        failed=records.failed_samples,
        rate=progress.rate,
        out=str(plan.out),
        cancelled=cancelled,
        short=plan.count - records.written,
    )


def _chain(first: int, rest: Iterator[int]) -> Iterator[int]:
    yield first
    yield from rest


def _unfinished(plan: JobPlan, records: Records, limit: int) -> bool:
    """Whether indices the job still has to draw are left (a stopped run)."""
    wanted = min(plan.count + len(records.failed), limit)
    return next(pending(wanted, records.done), None) is not None


def short_note(plan: JobPlan, records: Records) -> str:
    """The line of a job that ran out of replacements for its failed draws."""
    return (
        f"{records.written} of {plan.count} samples made: {records.failed_samples} draws failed "
        f"and the job replaced as many as it may ({index_limit(plan.count) - plan.count}); "
        f"see {FAILURES}"
    )


def repair_note(repair: Repair) -> str:
    """One line on what a resume found damaged in the records (made again)."""
    parts = []
    if repair.damaged:
        index, reason = repair.damaged[0]
        parts.append(
            f"{len(repair.damaged)} recorded samples damaged (first: sample {index}, {reason})"
        )
    if repair.duplicate_rows:
        parts.append(f"{repair.duplicate_rows} duplicate manifest rows")
    if repair.bad_lines:
        reason = repair.bad_lines[0][1]
        parts.append(f"{len(repair.bad_lines)} damaged manifest lines (first: {reason})")
    if repair.torn_lines:
        parts.append("a torn last manifest line")
    if repair.failure_lines:
        parts.append(f"{repair.failure_lines} damaged lines of {FAILURES} dropped")
    return f"resume: {'; '.join(parts)}: made again"


def _coverage_bin(value: Any) -> int:
    """The tenth of [0, 1] a recorded coverage falls in (0 for anything but a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return 0
    return min(9, max(0, int(min(max(value, 0.0), 1.0) * 10)))


def write_stats(plan: JobPlan, records: Records, seconds: float, made: int, engine: Any) -> None:
    """stats.json: counts, a coverage histogram and this session's throughput."""
    bins = [0] * 10
    for _, row in iter_rows(records.folder, MANIFEST):
        bins[_coverage_bin(row.get("coverage", 0.0))] += 1
    stats = {
        "planned": plan.count,
        "written": records.written,
        "failed_samples": records.failed_samples,
        "failed_inputs": len(records.failed_inputs),
        "coverage_histogram": {"edges": [k / 10 for k in range(11)], "counts": bins},
        "last_session": {
            "samples": made,
            "seconds": round(seconds, 3),
            "images_per_s": round(made / max(seconds, 1e-9), 3),
            "engine": getattr(engine, "name", "?"),
            "workers": getattr(engine, "workers", 1),
        },
    }
    records.folder.write(STATS, json_bytes(stats))


def run_export(
    plan: JobPlan,
    engine: Engine | None = None,
    *,
    resume: bool = False,
    verify: bool = False,
    cancel: threading.Event | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> ExportSummary:
    """Run the job to the end (or until ``cancel``), calling ``on_event`` for each event."""
    t0 = time.perf_counter()
    last: Event | None = None
    for event in export_events(plan, engine, resume=resume, verify=verify, cancel=cancel):
        last = event
        if on_event is not None:
            on_event(event)
    assert last is not None and last.kind == "done"
    with ExportFolder(plan.out) as folder:
        records_failed_inputs = sum(
            1 for _, r in iter_rows(folder, FAILURES, strict=False) if r.get("index") is None
        )
    seconds = time.perf_counter() - t0
    return ExportSummary(
        out=plan.out,
        total=plan.count,
        written=last.get("written", 0),
        failed=last.get("failed", 0),
        failed_inputs=records_failed_inputs,
        cancelled=bool(last.cancelled),
        seconds=seconds,
        rate=last.get("rate", 0.0),
    )
