"""Runs the batch exporter in a separate process and reports its JSON-lines progress.

Contract (``studio export PRESET --out DIR --count N --seed N --workers N [--resume]
--progress jsonl``): one JSON object per stdout line: ``{"event": "start", "total", "out"}``,
``{"event": "progress", "done", "total", "failed", "rate", "eta"}``, ``{"event": "done",
"written", "failed", "out", "cancelled"}``. Cancel sends SIGTERM, which leaves a resumable job.
The process itself is run by :class:`~studio.gui.process_runner.ProcessRunner`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from studio.gui.process_runner import ProcessRunner, default_command, lower_priority

__all__ = ["ExportJob", "ExportRunner", "default_command", "lower_priority"]


@dataclass(frozen=True)
class ExportJob:
    preset: str
    out: str
    count: int
    seed: int = 0
    workers: int = 1
    resume: bool = False
    report: bool = False  #: also write DIR/report.html when the job ends

    def arguments(self) -> list[str]:
        args = [
            "export",
            self.preset,
            "--out",
            self.out,
            "--count",
            str(self.count),
            "--seed",
            str(self.seed),
            "--workers",
            str(self.workers),
            "--progress",
            "jsonl",
        ]
        if self.report:
            args.append("--report")
        return [*args, "--resume"] if self.resume else args


class ExportRunner(QObject):
    """One export process at a time, at a lower CPU priority (nice 10), so that on a small
    machine the preview keeps its latency while an export uses every core."""

    started = Signal(int, str)  #: total, out
    progress = Signal(object)  #: the progress event (a dict)
    finished = Signal(object)  #: the done event (a dict; synthesized after a cancel)
    failed = Signal(str)  #: one line: why the export did not complete

    def __init__(self, command: list[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = ProcessRunner(command, parent=self)
        self._done_seen = False
        self.runner.event.connect(self._on_event)
        self.runner.exited.connect(self._on_exited)
        self.runner.failed.connect(self.failed)

    @property
    def command(self) -> list[str]:
        return self.runner.command

    @command.setter
    def command(self, value: list[str]) -> None:
        self.runner.command = value

    @property
    def process(self):
        return self.runner.process

    @property
    def last_event(self) -> dict | None:
        return self.runner.last_event

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, job: ExportJob) -> None:
        if self.running:
            raise RuntimeError("an export is already running")
        self._done_seen = False
        self.runner.start(job.arguments())

    def cancel(self) -> None:
        """Ask the exporter to stop (SIGTERM); finished work stays, ``--resume`` goes on."""
        self.runner.cancel()

    def _on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "start":
            self.started.emit(int(event.get("total", 0)), str(event.get("out", "")))
        elif kind == "progress":
            self.progress.emit(event)
        elif kind == "done":
            self._done_seen = True
            self.finished.emit(event)

    def _on_exited(self, code: int, cancelled: bool, _message: str) -> None:
        if self._done_seen:
            return
        if cancelled:
            done = (self.last_event or {}).get("done", 0)
            self.finished.emit({"event": "done", "written": done, "failed": 0, "cancelled": True})
            return
        line = self.runner.last_error_line()
        self.failed.emit(line or f"the exporter stopped (exit code {code})")
