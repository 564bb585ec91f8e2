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
from typing import Any, Literal

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
from studio.core.io.safe_yaml import read_text
from studio.core.io.writers import dumps_json, write_json
from studio.core.model.errors import InputError, WriteError

__all__ = ["FAILURES", "JOB", "MANIFEST", "STATS", "export_events", "run_export"]

PROGRESS_INTERVAL = 0.25  #: seconds between progress events (the last one always comes)


@dataclass(frozen=True)
class ExportEvent:
    """A progress event. ``to_json()`` gives the line ``--progress jsonl`` prints."""

    event: Literal["start", "progress", "done"]
    total: int
    done: int = 0
    written: int = 0
    failed: int = 0
    rate: float = 0.0  #: images per second in this session
    eta: float | None = None  #: seconds left, None when unknown
    out: str = ""
    cancelled: bool = False
    repaired: Repair | None = None  #: start of a resume: what was found damaged and redone

    def to_json(self) -> dict[str, Any]:
        if self.event == "start":
            start = {"event": "start", "total": self.total, "out": self.out, "done": self.done}
            if self.repaired is not None and self.repaired.changed:
                start["repaired"] = len(self.repaired.damaged) + self.repaired.duplicate_rows
            return start
        if self.event == "progress":
            return {
                "event": "progress",
                "done": self.done,
                "total": self.total,
                "failed": self.failed,
                "rate": round(self.rate, 3),
                "eta": None if self.eta is None else round(self.eta, 1),
            }
        return {
            "event": "done",
            "written": self.written,
            "failed": self.failed,
            "out": self.out,
            "cancelled": self.cancelled,
        }


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


def _read_job_file(job_file: Path) -> dict[str, Any]:
    try:
        text = read_text(job_file, "job.json")
        stored = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"job.json is not valid JSON ({err.msg})", job_file) from err
    if not isinstance(stored, dict):
        raise InputError("job.json is not a job record", job_file)
    return stored


def _check_out_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("--out must be a folder; this is a file", out)


def prepare_output(plan: JobPlan, resume: bool, verify: bool = False) -> Records:
    """Create or check the output folder and job.json; read (and repair) the records on
    resume. The caller holds the folder's :class:`JobLock`."""
    out = plan.out
    record = plan.job_record()
    job_file = out / JOB
    if resume:
        if not job_file.is_file():
            raise InputError("nothing to resume: no job.json in this folder", out)
        stored = _read_job_file(job_file)
        difference = describe_difference(stored, json.loads(dumps_json(record)))
        if difference:
            raise InputError(f"cannot resume a different job: {difference}", out)
    else:
        if job_file.exists():
            raise InputError(
                "already holds an export job: pass --resume to continue it, or choose an "
                "empty folder",
                out,
            )
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
) -> Iterator[ExportEvent]:
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
) -> Iterator[ExportEvent]:
    records = prepare_output(plan, resume, verify)
    already = len(records.done)
    todo = plan.count - already
    yield ExportEvent(
        "start", plan.count, done=already, out=str(plan.out), repaired=records.repair
    )
    records.open()
    t0 = time.perf_counter()
    last_event = 0.0
    made = 0
    try:
        for path, reason in plan.input_problems:
            records.record_input_problem(path, reason)
        for outcome in engine.run(plan, pending(plan.count, records.done), cancel):
            records.record(outcome)
            made += 1
            now = time.perf_counter()
            if now - last_event >= PROGRESS_INTERVAL or made == todo:
                last_event = now
                rate = made / max(now - t0, 1e-9)
                left = todo - made
                yield ExportEvent(
                    "progress",
                    plan.count,
                    done=already + made,
                    written=records.written,
                    failed=records.failed_samples,
                    rate=rate,
                    eta=left / rate if rate > 0 else None,
                    out=str(plan.out),
                )
    finally:
        records.close()
    seconds = time.perf_counter() - t0
    cancelled = len(records.done) < plan.count
    if not cancelled:
        write_stats(plan, records, seconds, made, engine)
    yield ExportEvent(
        "done",
        plan.count,
        done=len(records.done),
        written=records.written,
        failed=records.failed_samples,
        rate=made / max(seconds, 1e-9),
        out=str(plan.out),
        cancelled=cancelled,
    )


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
    on_event: Callable[[ExportEvent], None] | None = None,
) -> ExportSummary:
    """Run the job to the end (or until ``cancel``), calling ``on_event`` for each event."""
    t0 = time.perf_counter()
    last: ExportEvent | None = None
    for event in export_events(plan, engine, resume=resume, verify=verify, cancel=cancel):
        last = event
        if on_event is not None:
            on_event(event)
    assert last is not None and last.event == "done"
    records_failed_inputs = sum(
        1 for _, r in iter_rows(plan.out / FAILURES, strict=False) if r.get("index") is None
    )
    seconds = time.perf_counter() - t0
    return ExportSummary(
        out=plan.out,
        total=plan.count,
        written=last.written,
        failed=last.failed,
        failed_inputs=records_failed_inputs,
        cancelled=last.cancelled,
        seconds=seconds,
        rate=last.rate,
    )
