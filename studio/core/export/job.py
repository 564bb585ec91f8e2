"""Running an export job: output folder, job.json, manifest, failures, resume, progress.

Crash safety: sample files are written atomically by the workers; a manifest row is
appended (and flushed) only after its files exist; ``resume=True`` drops a torn last line,
removes stray temp files and makes exactly the samples not yet recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from studio.core.errors import InputError, StudioError
from studio.core.export.engines import Engine, InProcessEngine
from studio.core.export.plan import JobPlan, describe_difference
from studio.core.export.worker import Outcome
from studio.core.writers import write_json

MANIFEST = "manifest.jsonl"
FAILURES = "failures.jsonl"
JOB = "job.json"
STATS = "stats.json"
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

    def to_json(self) -> dict[str, Any]:
        if self.event == "start":
            return {"event": "start", "total": self.total, "out": self.out, "done": self.done}
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


class _Records:
    """manifest.jsonl and failures.jsonl: read on resume, appended line by line."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.done: set[int] = set()
        self.written = 0
        self.failed_samples = 0
        self.failed_inputs: set[str] = set()
        self._manifest: IO[str] | None = None
        self._failures: IO[str] | None = None

    def load(self) -> None:
        for row in _read_jsonl(self.out / MANIFEST):
            self.done.add(int(row["index"]))
            self.written += 1
        for row in _read_jsonl(self.out / FAILURES):
            if row.get("index") is None:
                self.failed_inputs.add(row["path"])
            elif int(row["index"]) not in self.done:
                self.done.add(int(row["index"]))
                self.failed_samples += 1

    def open(self) -> None:
        try:
            self._manifest = open(self.out / MANIFEST, "a", encoding="utf-8")  # noqa: SIM115
            self._failures = open(self.out / FAILURES, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise StudioError(f"cannot write: {err.strerror or err}", self.out) from None

    def close(self) -> None:
        for fh in (self._manifest, self._failures):
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.flush()
                    os.fsync(fh.fileno())
                fh.close()

    def record_input_problem(self, path: str, reason: str) -> None:
        """An input file found unusable while listing the sources (recorded once per job)."""
        if path not in self.failed_inputs:
            self.failed_inputs.add(path)
            _append(
                self._failures, {"index": None, "path": path, "reason": reason}, self.out / FAILURES
            )

    def record(self, outcome: Outcome) -> None:
        for failure in outcome.failures:
            if failure.get("index") is None:
                if failure["path"] in self.failed_inputs:
                    continue
                self.failed_inputs.add(failure["path"])
            else:
                self.failed_samples += 1
            _append(self._failures, failure, self.out / FAILURES)
        if outcome.row is not None:
            _append(self._manifest, outcome.row, self.out / MANIFEST)
            self.written += 1
        self.done.add(outcome.index)


def _append(fh: IO[str] | None, row: dict[str, Any], path: Path) -> None:
    assert fh is not None
    try:
        fh.write(json.dumps(row, sort_keys=True) + "\n")
        fh.flush()
    except OSError as err:
        raise StudioError(f"cannot write: {err.strerror or err}", path) from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file; a torn last line (crash mid-write) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(path, "r+b") as fh:
            fh.truncate(end)
    rows = []
    for n, line in enumerate(data[:end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise InputError(f"line {n} is not valid JSON; the job cannot resume", path) from None
    return rows


def _remove_temp_files(out: Path, plan: JobPlan) -> None:
    for folder in set(plan.folders.values()):
        d = out / folder
        if d.is_dir():
            for tmp in d.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def prepare_output(plan: JobPlan, resume: bool) -> _Records:
    """Create or check the output folder and job.json; read the records on resume."""
    out = plan.out
    record = plan.job_record()
    job_file = out / JOB
    if resume:
        if not job_file.is_file():
            raise InputError("nothing to resume: no job.json in this folder", out)
        try:
            stored = json.loads(job_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"cannot read job.json: {err}", job_file) from None
        difference = describe_difference(stored, json.loads(json.dumps(record)))
        if difference:
            raise InputError(f"cannot resume a different job: {difference}", out)
    else:
        if job_file.exists():
            raise InputError(
                "already holds an export job: pass --resume to continue it, or choose an "
                "empty folder",
                out,
            )
        if out.exists() and any(out.iterdir()):
            raise InputError("output folder is not empty", out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StudioError(f"cannot create output folder: {err.strerror or err}", out) from None
        write_json(job_file, record)
    records = _Records(out)
    if resume:
        records.load()
        _remove_temp_files(out, plan)
    return records


def export_events(
    plan: JobPlan,
    engine: Engine | None = None,
    *,
    resume: bool = False,
    cancel: threading.Event | None = None,
) -> Iterator[ExportEvent]:
    """Run the job, yielding start / progress / done events (the GUI and CLI consume these).

    Raises
    ------
    StudioError
        when the job itself cannot run (bad output folder, resume mismatch, disk full).
    """
    engine = engine or InProcessEngine()
    cancel = cancel or threading.Event()
    records = prepare_output(plan, resume)
    todo = [i for i in range(plan.count) if i not in records.done]
    already = plan.count - len(todo)
    yield ExportEvent("start", plan.count, done=already, out=str(plan.out))
    records.open()
    for path, reason in plan.input_problems:
        records.record_input_problem(path, reason)
    t0 = time.perf_counter()
    last_event = 0.0
    made = 0
    try:
        for outcome in engine.run(plan, todo, cancel):
            records.record(outcome)
            made += 1
            now = time.perf_counter()
            if now - last_event >= PROGRESS_INTERVAL or made == len(todo):
                last_event = now
                rate = made / max(now - t0, 1e-9)
                left = len(todo) - made
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


def write_stats(plan: JobPlan, records: _Records, seconds: float, made: int, engine: Any) -> None:
    """stats.json: counts, a coverage histogram and this session's throughput."""
    rows = _read_jsonl(plan.out / MANIFEST)
    bins = [0] * 10
    for row in rows:
        bins[min(9, int(float(row["coverage"]) * 10))] += 1
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
    cancel: threading.Event | None = None,
    on_event: Callable[[ExportEvent], None] | None = None,
) -> ExportSummary:
    """Run the job to the end (or until ``cancel``), calling ``on_event`` for each event."""
    t0 = time.perf_counter()
    last: ExportEvent | None = None
    records_failed_inputs = 0
    for event in export_events(plan, engine, resume=resume, cancel=cancel):
        last = event
        if on_event is not None:
            on_event(event)
    assert last is not None and last.event == "done"
    fail_path = plan.out / FAILURES
    if fail_path.exists():
        records_failed_inputs = sum(1 for r in _read_jsonl(fail_path) if r.get("index") is None)
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
