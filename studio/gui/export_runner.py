"""Runs the batch exporter in a separate process and reports its job events.

The job is an :class:`~studio.core.export.spec.ExportSpec`; the command line is the export
command's own (:func:`studio.commands.export.arguments`), run with ``--progress jsonl``: the
exporter's start / progress / note / done events come back typed. Cancel sends SIGTERM, which
leaves a resumable job. The process itself is run by
:class:`~studio.gui.process_runner.ProcessRunner`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from studio.commands.export import arguments
from studio.core.export.spec import ExportSpec
from studio.core.jobs.events import Event
from studio.gui.process_runner import ProcessRunner, default_command, lower_priority

__all__ = ["ExportRunner", "ExportSpec", "default_command", "lower_priority"]


class ExportRunner(QObject):
    """One export process at a time, at a lower CPU priority (nice 10), so that on a small
    machine the preview keeps its latency while an export uses every core."""

    started = Signal(int, str)  #: total, out
    progress = Signal(object)  #: the progress event (an Event)
    note = Signal(str)  #: a note of the job (e.g. what a resume repaired)
    finished = Signal(object)  #: the done event (an Event; synthesized after a cancel)
    failed = Signal(str)  #: one line: why the export did not complete
    stopped = Signal()  #: the process has exited (after finished or failed): one may start

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
    def last_event(self) -> Event | None:
        return self.runner.last_event

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, spec: ExportSpec) -> None:
        if self.running:
            raise RuntimeError("an export is already running")
        self._done_seen = False
        self.runner.start(arguments(spec))

    def cancel(self) -> None:
        """Ask the exporter to stop (SIGTERM); finished work stays, ``--resume`` goes on."""
        self.runner.cancel()

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == "start":
            self.started.emit(int(event.get("total", 0)), str(event.get("out", "")))
        elif kind == "progress":
            self.progress.emit(event)
        elif kind == "note":
            self.note.emit(event.message or "")
        elif kind == "done":
            self._done_seen = True
            self.finished.emit(event)

    def _on_exited(self, code: int, cancelled: bool, _message: str) -> None:
        try:
            self._report_exit(code, cancelled)
        finally:
            self.stopped.emit()

    def _report_exit(self, code: int, cancelled: bool) -> None:
        if self._done_seen:
            return
        if cancelled:
            done = self.last_event.get("done", 0) if self.last_event is not None else 0
            self.finished.emit(Event.make("done", written=done, failed=0, cancelled=True))
            return
        line = self.runner.last_error_line()
        self.failed.emit(line or f"the exporter stopped (exit code {code})")
