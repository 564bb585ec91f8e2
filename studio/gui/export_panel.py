"""The export panel: count, seed, workers, output folder; progress, cancel, resume, open."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QUrl
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
from studio.core.model.vocab import pool_required, pool_role
from studio.gui.canvas import to_qimage
from studio.gui.export_runner import ExportRunner
from studio.gui.jobs import Jobs
from studio.report import INSTALL_HINT, REPORT_HTML, matplotlib_available

SHEET_TILE = 88
SHEET_COUNT = 12
OUT_KEY = "export/out"  #: QSettings key of the last output folder


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
        self.count.setValue(50)
        self.count.setToolTip("Number of images to write")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Same preset, seed and inputs give byte-identical outputs")
        self.workers = QSpinBox()
        self.workers.setRange(1, 256)
        self.workers.setValue(os.cpu_count() or 1)
        self.workers.setToolTip(
            "Worker processes (default: all cores, as the CLI; they run at a lower priority, "
            "so the preview stays fluid)"
        )
        remembered = settings.value(OUT_KEY) if settings is not None else None
        self.out = QLineEdit(str(remembered or Path.cwd() / "out" / "export"))
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
        form.addRow("Images", self.count)
        form.addRow("Seed", self.seed)
        form.addRow("Workers", self.workers)
        form.addRow("Output", out_row)
        form.addRow("Format", self.format)
        form.addRow("", self.resume)
        layout.addLayout(form)
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
        for b in (self.start_button, self.cancel_button, self.open_button, self.report_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.bar = QProgressBar()
        self.bar.setValue(0)
        layout.addWidget(self.bar)
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.sheet = QLabel()
        self.sheet.setToolTip("The first exported images")
        layout.addWidget(self.sheet)
        layout.addStretch(1)
        self.runner.started.connect(self._on_started)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)

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
        preset = self.snapshot()
        pool = getattr(preset.sources, pool_role(preset.mode))
        if not preset.sources.faces or (pool_required(preset.mode) and not pool):
            self._on_failed(
                "the export needs folders of faces (and occluders for NatOcc): open them in the "
                "browsers or open a preset that names them (the synthetic samples are preview-only)"
            )
            return
        try:
            job = self.job()
        except StudioError as err:
            self._on_failed(err.line())
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
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and self.out_dir is not None)
        self.report_button.setEnabled(not running and self.report_path() is not None)

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
                f"Cancelled after {event.get('written', 0)} images; tick Resume and Export to "
                "finish the job."
            )
        else:
            self.bar.setValue(self.bar.maximum())
            out = event.get("out", self.out_dir) or self.out_dir
            self.jobs.submit("sheet", lambda: contact_sheet(out), self._show_sheet)
            report = self.report_path()
            if report is not None and self.report_requested:
                self.open_report()  # written by the exporter before its "done" line
            self.report_button.setEnabled(report is not None)
            self.status.setText(
                f"Done: {event.get('written', 0)} written, {event.get('failed', 0)} failed → "
                f"{event.get('out', self.out_dir)}"
                + ("" if self.make_report else f" (no report: {INSTALL_HINT})")
            )

    def _show_sheet(self, sheet: np.ndarray | None) -> None:
        """The contact sheet made on a worker thread (nothing decodes on the UI thread)."""
        if sheet is not None:
            self.sheet.setPixmap(QPixmap.fromImage(to_qimage(sheet)))

    def _on_failed(self, line: str) -> None:
        self._set_running(False)
        self.status.setText(f"⚠ {line}")

    def open_output(self) -> None:
        if self.out_dir:
            self.open_url(QUrl.fromLocalFile(self.out_dir))

    def report_path(self) -> Path | None:
        """The report of the last job, when it exists."""
        if not self.out_dir:
            return None
        path = Path(self.out_dir) / REPORT_HTML
        return path if path.is_file() else None

    def open_report(self) -> None:
        path = self.report_path()
        if path is not None:
            self.open_url(QUrl.fromLocalFile(str(path.resolve())))
