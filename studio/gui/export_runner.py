"""Runs the batch exporter in a separate process and reports its JSON-lines progress.

Contract (``studio export PRESET --out DIR --count N --seed N --workers N [--resume]
--progress jsonl``): one JSON object per stdout line: ``{"event": "start", "total", "out"}``,
``{"event": "progress", "done", "total", "failed", "rate", "eta"}``, ``{"event": "done",
"written", "failed", "out", "cancelled"}``. Cancel sends SIGTERM, which leaves a resumable job.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, QProcess, Signal


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


def default_command() -> list[str]:
    """The exporter: ``python -m studio.cli`` of this interpreter."""
    return [sys.executable, "-m", "studio.cli"]


EXPORT_NICENESS = 10  #: the export yields the CPU to the studio's preview


def lower_priority(pid: int, niceness: int = EXPORT_NICENESS) -> None:
    """Run ``pid`` (and the workers it starts later) at a lower CPU priority, where possible."""
    if pid > 0 and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, niceness)


class ExportRunner(QObject):
    """One export process at a time; the UI stays responsive (QProcess, no blocking reads).

    The exporter runs at a lower CPU priority (nice 10), so that on a small machine the
    preview keeps its latency while an export uses every core.
    """

    started = Signal(int, str)  #: total, out
    progress = Signal(object)  #: the progress event (a dict)
    finished = Signal(object)  #: the done event (a dict; synthesized after a cancel)
    failed = Signal(str)  #: one line: why the export did not complete

    def __init__(self, command: list[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.command = command or default_command()
        self.process: QProcess | None = None
        self.last_event: dict | None = None
        self._buffer = b""
        self._stderr = b""
        self._done_seen = False
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, job: ExportJob) -> None:
        if self.running:
            raise RuntimeError("an export is already running")
        self._buffer, self._stderr = b"", b""
        self._done_seen = self._cancelled = False
        self.last_event = None
        proc = QProcess(self)
        proc.setProgram(self.command[0])
        proc.setArguments([*self.command[1:], *job.arguments()])
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self.process = proc
        proc.started.connect(lambda: lower_priority(int(proc.processId())))
        proc.start()

    def cancel(self) -> None:
        """Ask the exporter to stop (SIGTERM); finished work stays, ``--resume`` goes on."""
        if self.running:
            self._cancelled = True
            pid = int(self.process.processId())
            if pid > 0:
                os.kill(pid, signal.SIGTERM)

    def _read_stdout(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._handle_line(line)

    def _read_stderr(self) -> None:
        self._stderr = (self._stderr + bytes(self.process.readAllStandardError()))[-8192:]

    def _handle_line(self, line: bytes) -> None:
        line = line.strip()
        if not line.startswith(b"{"):
            return
        try:
            event = json.loads(line)
        except ValueError:
            return
        self.last_event = event
        kind = event.get("event")
        if kind == "start":
            self.started.emit(int(event.get("total", 0)), str(event.get("out", "")))
        elif kind == "progress":
            self.progress.emit(event)
        elif kind == "done":
            self._done_seen = True
            self.finished.emit(event)

    def _on_finished(self, code: int, status) -> None:
        self._read_stdout()
        if self._buffer:
            self._handle_line(self._buffer)
            self._buffer = b""
        if self._done_seen:
            return
        if self._cancelled:
            done = (self.last_event or {}).get("done", 0)
            self.finished.emit({"event": "done", "written": done, "failed": 0, "cancelled": True})
            return
        lines = self._stderr.decode("utf-8", "replace").strip().splitlines()
        self.failed.emit(lines[-1] if lines else f"the exporter stopped (exit code {code})")

    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"cannot start the exporter: {self.process.errorString()}")
