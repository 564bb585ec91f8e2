"""Running an export job: output folder, job.json, manifest, failures, resume, progress.

Crash safety: the folder is locked for the run; sample files are written atomically by the
workers; a manifest row (with each file's size and hash) is appended only after its files
exist, and the output folders and records are synced in batches. ``resume=True`` checks every
recorded sample (sizes; hashes with ``verify``), drops torn lines and damaged rows, removes
stray temp files and makes exactly the samples not yet (or no longer) recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.export.engines import Engine, InProcessEngine
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
    iter_rows,
    remove_temp_files,
)
from studio.core.io.writers import dumps_json, write_json
from studio.core.jobs.events import Event
from studio.core.jobs.progress import Progress
from studio.core.jobs.records import check_resumable, read_record
from studio.core.model.errors import InputError, WriteError

__all__ = ["FAILURES", "JOB", "MANIFEST", "STATS", "export_events", "run_export"]


@dataclass
class ExportSummary:
    out: Path
    total: int
    written: int
    failed: int
    failed_inputs: int
    cancelled: bool
    seconds: float
    rate: float


def _check_out_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("the output must be a folder; this is a file", out, hint="out")


def prepare_output(plan: JobPlan, resume: bool, verify: bool = False) -> Records:
    """Create or check the output folder and job.json; read (and repair) the records on
    resume. The caller holds the folder's :class:`JobLock`."""
    out = plan.out
    record = plan.job_record()
    job_file = out / JOB
    if resume:
        if not job_file.is_file():
            raise InputError("nothing to resume: no job.json in this folder", out)
        stored = read_record(job_file, JOB)
        check_resumable(describe_difference(stored, json.loads(dumps_json(record))), out)
    else:
        if job_file.exists():
            raise InputError("already holds an export job", out, hint="resume")
        if any(p.name != LOCK for p in out.iterdir()):
            raise InputError("output folder is not empty", out)
        write_json(job_file, record)
    records = Records(out, tuple(sorted(set(plan.folders.values()))))
    if resume:
        records.load(verify=verify)
        remove_temp_files(out, tuple(plan.folders.values()))
    return records


def _lock_folder(out: Path) -> JobLock:
    _check_out_folder(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError.from_os_error(err, out) from err
    lock = JobLock(out)
    lock.acquire()
    return lock


def pending(count: int, done: set[int]) -> Iterator[int]:
    """The sample indices still to make, in order, without listing them (any count)."""
    return (i for i in range(count) if i not in done)


def export_events(
    plan: JobPlan,
    engine: Engine | None = None,
    *,
    resume: bool = False,
    verify: bool = False,
    cancel: threading.Event | None = None,
) -> Iterator[Event]:
    """Run the job, yielding start / progress / done events (the GUI and CLI consume these).

    The output folder is locked for the whole run. On resume every recorded sample is checked
    (file sizes; hashes too with ``verify``) and the damaged ones are made again.

    Raises
    ------
    StudioError
        when the job itself cannot run (bad output folder, resume mismatch, another run in
        the folder, disk full: ``WriteError``).
    """
    engine = engine or InProcessEngine()
    cancel = cancel or threading.Event()
    lock = _lock_folder(plan.out)
    try:
        yield from _run(plan, engine, resume, verify, cancel)
    finally:
        lock.release()


def _run(
    plan: JobPlan, engine: Engine, resume: bool, verify: bool, cancel: threading.Event
) -> Iterator[Event]:
    records = prepare_output(plan, resume, verify)
    already = len(records.done)
    repaired = records.repair
    start = Event.make("start", total=plan.count, done=already, out=str(plan.out))
    if repaired is not None and repaired.changed:
        yield start.replace(repaired=len(repaired.damaged) + repaired.duplicate_rows)
        yield Event.make("note", message=repair_note(repaired))
    else:
        yield start
    records.open()
    progress = Progress(plan.count, done=already)
    try:
        for path, reason in plan.input_problems:
            records.record_input_problem(path, reason)
        for outcome in engine.run(plan, pending(plan.count, records.done), cancel):
            records.record(outcome)
            event = progress.update(progress.done + 1, failed=records.failed_samples)
            if event is not None:
                yield event
    finally:
        records.close()
    made = progress.done - already
    cancelled = len(records.done) < plan.count
    if not cancelled:
        write_stats(plan, records, progress.seconds, made, engine)
    yield Event.make(
        "done",
        total=plan.count,
        done=len(records.done),
        written=records.written,
        failed=records.failed_samples,
        rate=progress.rate,
        out=str(plan.out),
        cancelled=cancelled,
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
    if repair.torn_lines:
        parts.append("a torn last manifest line")
    return f"resume: {'; '.join(parts)}: made again"


def write_stats(plan: JobPlan, records: Records, seconds: float, made: int, engine: Any) -> None:
    """stats.json: counts, a coverage histogram and this session's throughput."""
    bins = [0] * 10
    for _, row in iter_rows(plan.out / MANIFEST):
        bins[min(9, max(0, int(float(row.get("coverage", 0.0)) * 10)))] += 1
    write_json(
        plan.out / STATS,
        {
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
        },
    )


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
    records_failed_inputs = sum(
        1 for _, r in iter_rows(plan.out / FAILURES, strict=False) if r.get("index") is None
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
