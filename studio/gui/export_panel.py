"""The export panel: count, seed, workers, output folder; progress, cancel, resume, open.

It speaks the window's words: what the output folder holds is said in a sentence that offers
what to do (a new numbered folder, or Resume); the Export button is off, with the reason, while
the browsers show no sources an export could read; a report that cannot be opened says why and
where it is. Count and seed are remembered. Every failure also goes to the messages panel
(:attr:`ExportPanel.message`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QSignalBlocker, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.export.sheet import contact_sheet as export_sheet
from studio.core.export.spec import ExportSpec
from studio.core.io.presets import save_preset
from studio.core.jobs.events import Event
from studio.core.model.errors import StudioError
from studio.core.model.preset import Preset
from studio.gui.canvas import to_qimage
from studio.gui.elided import ElidedLabel, breakable
from studio.gui.export_folder import FolderState, folder_state, next_numbered
from studio.gui.export_runner import ExportRunner
from studio.gui.jobs import Jobs
from studio.gui.wording import error_text
from studio.report import INSTALL_HINT, REPORT_HTML, matplotlib_available

SHEET_TILE = 88
SHEET_COUNT = 12
OUT_KEY = "export/out"  #: QSettings key of the last output folder
COUNT_KEY, SEED_KEY = "export/count", "export/seed"


def contact_sheet(out: str | Path, count: int = SHEET_COUNT, tile: int = SHEET_TILE):
    """The export's contact sheet (the first samples written, labels overlaid; reads no more
    of the manifest than it shows), or None when the folder has no sample to show."""
    try:
        return export_sheet(out, count, tile, gap=4, by_index=False)
    except StudioError:
        return None


def format_eta(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss``; ``?`` while unknown."""
    if seconds is None:
        return "?"
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ExportPanel(QWidget):
    """Runs ``studio export`` on a snapshot of the current preset, in the background."""

    message = Signal(str, str)  #: (text, level): a failure or warning for the messages panel
    reviewRequested = Signal(str)  #: an export folder to review (a job ended, or Review)

    def __init__(
        self,
        snapshot: Callable[[], Preset],
        runner: ExportRunner | None = None,
        parent: QWidget | None = None,
        open_url: Callable[[QUrl], object] | None = None,
        settings: QSettings | None = None,
        jobs: Jobs | None = None,
    ) -> None:
        super().__init__(parent)
        self.snapshot = snapshot
        self.settings = settings
        self.jobs = jobs or Jobs(name="export-panel")  #: the contact sheet is made there
        self.runner = runner or ExportRunner(parent=self)
        #: opens a file in the desktop's browser/file manager (tests record the calls)
        self.open_url = open_url or QDesktopServices.openUrl
        self.make_report = matplotlib_available()
        self.report_requested = False  #: the running (or last) job writes a report
        self._tmp = tempfile.TemporaryDirectory(prefix="studio-export-")
        self.out_dir: str | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.count = QSpinBox()
        self.count.setRange(1, 10_000_000)
        self.count.setValue(int(self._remembered(COUNT_KEY, 50)))
        self.count.setToolTip("Number of images to write (remembered)")
        self.count.valueChanged.connect(lambda v: self._remember(COUNT_KEY, v))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(int(self._remembered(SEED_KEY, 0)))
        self.seed.setToolTip("Same preset, seed and inputs give byte-identical outputs")
        self.seed.valueChanged.connect(lambda v: self._remember(SEED_KEY, v))
        self.workers = QSpinBox()
        self.workers.setRange(1, 256)
        self.workers.setValue(os.cpu_count() or 1)
        self.workers.setToolTip(
            "Worker processes (default: all cores, as the CLI; they run at a lower priority, "
            "so the preview stays fluid)"
        )
        remembered = self._remembered(OUT_KEY, None)
        self.out = QLineEdit(str(remembered or Path.cwd() / "out" / "export"))
        self.out.textChanged.connect(lambda _: self.check_folder())
        browse = QToolButton()
        browse.setText("…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out, 1)
        out_row.addWidget(browse)
        self.format = QComboBox()
        self.format.addItem("Folder of images and masks", "folder")
        self.format.addItem("WebDataset shards (tar)", "webdataset")
        self.format.setToolTip("webdataset: shards/*.tar of 1000 samples, what training reads")
        self.resume = QCheckBox("Resume an unfinished job in this folder")
        self.resume.toggled.connect(lambda _: self.check_folder())
        form.addRow("Images", self.count)
        form.addRow("Seed", self.seed)
        form.addRow("Workers", self.workers)
        form.addRow("Output", out_row)
        form.addRow("Format", self.format)
        form.addRow("", self.resume)
        layout.addLayout(form)
        #: what the output folder holds, and what to do about it (links: resume, new)
        self.folder_note = QLabel()
        self.folder_note.setObjectName("hint")
        self.folder_note.setWordWrap(True)
        self.folder_note.setTextFormat(Qt.TextFormat.RichText)
        self.folder_note.linkActivated.connect(self._folder_link)
        self.folder_note.hide()
        layout.addWidget(self.folder_note)
        self.blocker_label = QLabel()  #: why Export is off (the browsers' sources)
        self.blocker_label.setObjectName("blocker")
        self.blocker_label.setWordWrap(True)
        self.blocker_label.hide()
        layout.addWidget(self.blocker_label)
        self.blocker: str | None = None
        self.folder: FolderState | None = None
        self._running = False
        self.formats = QLabel()
        self.formats.setObjectName("hint")
        self.formats.setWordWrap(True)
        layout.addWidget(self.formats)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Export")
        self.start_button.setToolTip("Export in the background (Ctrl+E)")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.open_button = QPushButton("Open folder")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_output)
        self.report_button = QPushButton("Open report")
        self.report_button.setToolTip(
            "The export's report: distributions, usage, failures and samples (report.html)"
        )
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.open_report)
        self.review_button = QPushButton("Review")
        self.review_button.setToolTip(
            "Browse the exported samples with their labels; reject the bad ones"
        )
        self.review_button.setEnabled(False)
        self.review_button.clicked.connect(lambda: self.reviewRequested.emit(self.out_dir))
        for b in (
            self.start_button, self.cancel_button, self.open_button, self.report_button,
            self.review_button,
        ):  # fmt: skip
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.bar = QProgressBar()
        self.bar.setValue(0)
        layout.addWidget(self.bar)
        self.status = ElidedLabel("Ready.", mode=Qt.TextElideMode.ElideMiddle)
        layout.addWidget(self.status)
        self.sheet = QLabel()
        self.sheet.setToolTip("The first exported images")
        layout.addWidget(self.sheet)
        layout.addStretch(1)
        self.runner.started.connect(self._on_started)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.stopped.connect(self._update_start)
        self.check_folder()

    # ---- remembered values, the sources and the output folder ----------------------------------
    def _remembered(self, key: str, default):
        value = self.settings.value(key) if self.settings is not None else None
        return default if value in (None, "") else value

    def _remember(self, key: str, value) -> None:
        if self.settings is not None:
            self.settings.setValue(key, value)

    def set_blocker(self, reason: str | None) -> None:
        """Turn Export off with ``reason`` (the browsers show no sources an export could
        read), or on again with None."""
        self.blocker = reason
        self.blocker_label.setText(breakable(f"Export is off: {reason}") if reason else "")
        self.blocker_label.setToolTip(reason or "")
        self.blocker_label.setVisible(bool(reason))
        self._update_start()

    def check_folder(self, propose: bool = False) -> FolderState | None:
        """Say what the output folder holds and offer what to do: Resume for an unfinished
        job, a new numbered folder for a finished one or other files. With ``propose`` (the
        tab is shown, a job ended) a finished job's folder is replaced by a new one at once."""
        text = self.out.text().strip()
        if not text:
            self.folder = None
            self._note("Choose an output folder.")
            return None
        state = folder_state(text)
        name = state.path.name
        if propose and state.kind == "finished" and not self.resume.isChecked():
            new = next_numbered(state.path)
            with QSignalBlocker(self.out):
                self.out.setText(str(new))
            self.folder = folder_state(new)
            self._note(
                f"“{name}” holds a finished export: the next one goes to a new folder, "
                f"“{new.name}”."
            )
            self._update_start()
            return self.folder
        self.folder = state
        new_link = f"<a href='new'>use a new folder ({next_numbered(state.path).name})</a>"
        if self.resume.isChecked():
            notes = {
                "unfinished": "Export continues the unfinished job in this folder.",
                "finished": "The job in this folder is finished: nothing is left to resume.",
            }
            self._note(notes.get(state.kind, f"There is no job to resume in “{name}”: untick "
                                  "Resume to start one."))  # fmt: skip
        elif state.kind == "unfinished":
            self._note(
                f"“{name}” holds an unfinished export: <a href='resume'>tick Resume</a> to "
                f"continue it, or {new_link}."
            )
        elif state.kind == "finished":
            self._note(f"“{name}” holds a finished export: {new_link}.")
        elif state.kind == "other":
            self._note(f"“{name}” holds other files; an export needs a new or empty folder: "
                       f"{new_link}.")  # fmt: skip
        elif state.kind == "file":
            self._note(f"“{name}” is a file; an export needs a folder: {new_link}.")
        else:
            self._note("")
        self._update_start()
        return state

    def _note(self, text: str) -> None:
        self.folder_note.setText(text)
        self.folder_note.setVisible(bool(text))

    def _folder_link(self, link: str) -> None:
        if link == "resume":
            self.resume.setChecked(True)
        elif link == "new" and self.folder is not None:
            self.out.setText(str(next_numbered(self.folder.path)))

    def _folder_ready(self) -> bool:
        state = self.folder
        if state is None:
            return False
        if self.resume.isChecked():
            return state.kind in ("unfinished", "finished")
        return state.writable

    def folder_sentence(self) -> str:
        """The sentence about the output folder, as plain text."""
        return re.sub(r"<[^>]+>", "", self.folder_note.text())

    def _update_start(self) -> None:
        ready = self.blocker is None and self._folder_ready()
        self.start_button.setEnabled(not self._running and not self.runner.running and ready)
        why = self.blocker or ("" if self._folder_ready() else self.folder_sentence())
        self.start_button.setToolTip(
            "Export in the background (Ctrl+E)" if not why else f"Export is off: {why}"
        )

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._running:
            self.check_folder(propose=True)

    def describe(self, preset: Preset) -> None:
        o = preset.output
        extras = [
            "occlusion masks" if o.occlusion_mask else "",
            "label maps" if o.labels else "",
        ]
        self.formats.setText(
            f"Writes {o.image_format.upper()} images"
            + "".join(f", {e}" for e in extras if e)
            + f"; layout '{o.layout}'. It reads the sources the browsers show."
            + (" Shapes without a texture get flat colours." if preset.mode == "randocc" else "")
        )

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.out.text())
        if folder:
            self.out.setText(folder)
            self._remember_out()

    def _remember_out(self) -> None:
        """The output folder is offered again next time (QSettings)."""
        if self.settings is not None and self.out.text().strip():
            self.settings.setValue(OUT_KEY, self.out.text().strip())

    def job(self) -> ExportSpec:
        """Write the preset snapshot and describe the job."""
        preset_path = Path(self._tmp.name) / "preset.yaml"
        save_preset(self.snapshot(), preset_path)
        return ExportSpec(
            preset=str(preset_path),
            out=self.out.text().strip(),
            count=self.count.value(),
            seed=self.seed.value(),
            workers=self.workers.value(),
            resume=self.resume.isChecked(),
            report=self.make_report,
            format=self.format.currentData(),
        )

    def start(self) -> None:
        if self.runner.running:
            return
        if self.blocker is not None:
            self._on_failed(self.blocker)
            return
        self.check_folder()
        if not self._folder_ready():
            self._on_failed(self.folder_sentence() or "choose an output folder")
            return
        try:
            job = self.job()
        except StudioError as err:
            self._on_failed(error_text(err))
            return
        self.out_dir = job.out
        self.report_requested = job.report
        self._remember_out()
        self.sheet.clear()
        self.bar.setRange(0, job.count or 0)
        self.bar.setValue(0)
        self.status.setText("Starting…")
        self._set_running(True)
        self.runner.start(job)

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and self.out_dir is not None)
        self.review_button.setEnabled(not running and self.out_dir is not None)
        self.report_button.setEnabled(not running and self.report_path() is not None)
        self._update_start()

    def _on_started(self, total: int, out: str) -> None:
        self.bar.setRange(0, max(1, total))
        self.status.setText(f"Exporting {total} images to {out}")

    def _on_progress(self, event: Event) -> None:
        self.bar.setValue(int(event.get("done", 0)))
        self.status.setText(
            f"{event.get('done', 0)} / {event.get('total', 0)} · "
            f"{float(event.get('rate', 0.0)):.1f} img/s · ETA {format_eta(event.get('eta'))}"
            f" · {event.get('failed', 0)} failed"
        )

    def _on_done(self, event: Event) -> None:
        self._set_running(False)
        if event.get("cancelled"):
            self.resume.setChecked(True)
            self.status.setText(
                f"Cancelled after {event.get('written', 0)} images; Resume is ticked: Export "
                "finishes the job."
            )
        else:
            self.bar.setValue(self.bar.maximum())
            out = event.get("out", self.out_dir) or self.out_dir
            self.jobs.submit("sheet", lambda: contact_sheet(out), self._show_sheet)
            report = self.report_path()
            if report is not None and self.report_requested:
                self.open_report()  # written by the exporter before its "done" line
            self.report_button.setEnabled(report is not None)
            if out:
                self.reviewRequested.emit(str(out))  # the samples open for review
            self.status.setText(
                f"Done: {event.get('written', 0)} written, {event.get('failed', 0)} failed → "
                f"{event.get('out', self.out_dir)}"
                + ("" if self.make_report else f" (no report: {INSTALL_HINT})")
            )
            if event.get("failed", 0):
                self.message.emit(
                    f"{event.get('failed')} samples failed (see failures.jsonl in "
                    f"{event.get('out', self.out_dir)})",
                    "warning",
                )
            self.resume.setChecked(False)
            self.check_folder(propose=True)  # the next Export goes to a new folder

    def _show_sheet(self, sheet: np.ndarray | None) -> None:
        """The contact sheet made on a worker thread (nothing decodes on the UI thread)."""
        if sheet is not None:
            self.sheet.setPixmap(QPixmap.fromImage(to_qimage(sheet)))

    def _on_failed(self, line: str) -> None:
        self._set_running(False)
        self.status.setText(f"⚠ {line}")
        self.message.emit(line, "error")
        self.check_folder()

    def open_output(self) -> None:
        if self.out_dir:
            self._open(Path(self.out_dir), "the output folder")

    def report_path(self) -> Path | None:
        """The report of the last job, when it exists."""
        if not self.out_dir:
            return None
        path = Path(self.out_dir) / REPORT_HTML
        return path if path.is_file() else None

    def open_report(self) -> None:
        """Open report.html in the desktop's browser; say why and where it is when it
        cannot be opened."""
        path = self.report_path()
        if path is None:
            where = Path(self.out_dir or self.out.text()) / REPORT_HTML
            why = "the job wrote none" if self.make_report else f"no report: {INSTALL_HINT}"
            self._tell(f"There is no report at {where} ({why}).")
            return
        self._open(path.resolve(), "the report")

    def _open(self, path: Path, what: str) -> None:
        if self.open_url(QUrl.fromLocalFile(str(path))) is False:
            self._tell(
                f"Could not open {what}: no browser or file manager could be started here. "
                f"It is at {path}"
            )

    def _tell(self, line: str) -> None:
        self.status.setText(f"⚠ {line}")
        self.message.emit(line, "warning")
