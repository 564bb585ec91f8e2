"""Runs a ``studio`` sub-command in a separate process and reports its JSON-lines events.

The studio runs long jobs (``studio export``, ``studio compare``, ``studio evaluate``) as
``python -m studio.cli COMMAND ... --progress jsonl``, the arguments made by the command's own
``arguments(spec)`` from a typed job spec: each stdout line is one job event
(:class:`~studio.core.jobs.events.Event`, read back typed). A run that fails ends with an
``error`` event whose hint the studio words its own way (:mod:`studio.gui.wording`); stderr
carries the command line's wording of the same line, used only when no error event came. The
process runs at a lower CPU priority (nice 10), so that on a small machine the preview keeps
its latency while the job uses every core; cancelling sends SIGTERM, which the commands turn
into a clean, resumable stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys

from PySide6.QtCore import QObject, QProcess, Signal

from studio.core.jobs.events import Event
from studio.gui.wording import hinted

JOB_NICENESS = 10  #: background jobs yield the CPU to the studio's preview


def default_command() -> list[str]:
    """The ``studio`` command of this interpreter: ``python -m studio.cli``."""
    return [sys.executable, "-m", "studio.cli"]


def lower_priority(pid: int, niceness: int = JOB_NICENESS) -> None:
    """Run ``pid`` (and the workers it starts later) at a lower CPU priority, where possible."""
    if pid > 0 and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, niceness)


class ProcessRunner(QObject):
    """One process at a time; the UI stays responsive (QProcess, no blocking reads).

    Signals: ``event`` for every event line (an :class:`Event`), ``exited(code, cancelled,
    message)`` when the process ends (``message``: the last stderr line, or the exit code),
    ``failed(line)`` when it cannot start.
    """

    event = Signal(object)
    exited = Signal(int, bool, str)
    failed = Signal(str)

    def __init__(
        self,
        command: list[str] | None = None,
        niceness: int | None = JOB_NICENESS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.command = command or default_command()
        self.niceness = niceness
        self.process: QProcess | None = None
        self.last_event: Event | None = None
        self.error_event: Event | None = None  #: the job's error event, when it failed
        self._buffer = b""
        self._stderr = b""
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def start(self, arguments: list[str]) -> None:
        """Start ``COMMAND arguments --progress jsonl``."""
        if self.running:
            raise RuntimeError("a job is already running")
        self._buffer, self._stderr = b"", b""
        self._cancelled = False
        self.last_event = None
        self.error_event = None
        proc = QProcess(self)
        proc.setProgram(self.command[0])
        proc.setArguments([*self.command[1:], *arguments, "--progress", "jsonl"])
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self.process = proc
        if self.niceness is not None:
            niceness = self.niceness
            proc.started.connect(lambda: lower_priority(int(proc.processId()), niceness))
        proc.start()

    def cancel(self) -> None:
        """Ask the process to stop (SIGTERM): finished work stays, ``--resume`` goes on."""
        if self.running:
            self._cancelled = True
            pid = int(self.process.processId())
            if pid > 0:
                os.kill(pid, signal.SIGTERM)

    def last_error_line(self) -> str:
        """Why the job failed, in the studio's words when it said so in an error event (else
        the last stderr line, without the command's ``studio: error:`` prefix)."""
        if self.error_event is not None:
            return hinted(self.error_event.message or "", self.error_event.get("hint"))
        lines = self._stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1].removeprefix("studio: error: ") if lines else ""

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
            event = Event.from_json(json.loads(line))
        except (ValueError, TypeError, AttributeError):
            return  # not an event line
        if event.kind == "error":
            self.error_event = event
            return
        self.last_event = event
        self.event.emit(event)

    def _on_finished(self, code: int, _status) -> None:
        self._read_stdout()
        self._read_stderr()
        if self._buffer:
            self._handle_line(self._buffer)
            self._buffer = b""
        message = self.last_error_line() or f"the job stopped (exit code {code})"
        self.exited.emit(int(code), self._cancelled, message)

    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"cannot start {self.command[0]}: {self.process.errorString()}")
