"""The Evaluate tab: does the data train a better model? Runs ``studio compare`` (a baseline
against presets) or ``studio evaluate`` (a trained run on a test set) in the background,
with progress and cancel, draws the test curves and fills the table as results come, and
opens the gallery of the worst test images."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.commands import compare as compare_command
from studio.commands import evaluate as evaluate_command
from studio.core.io.presets import save_preset
from studio.core.jobs.events import Event
from studio.core.model.errors import StudioError
from studio.core.model.preset import Preset
from studio.gui.curve_chart import CurveChart
from studio.gui.export_panel import format_eta
from studio.gui.process_runner import ProcessRunner
from studio.gui.wording import error_text
from studio.integrations.train.config import CompareConfig, EvaluateConfig

COLUMNS = ("model", "steps", "face IoU", "mIoU", "Δ mIoU", "boundary F")
SIZES = (64, 128, 256)


Job = CompareConfig | EvaluateConfig


def job_arguments(job: Job, resume: bool = False) -> list[str]:
    """The command line of ``job``: the compare or evaluate command's own ``arguments``."""
    if isinstance(job, EvaluateConfig):
        return evaluate_command.arguments(job)
    return compare_command.arguments(job, resume)


@dataclass
class _Row:
    name: str
    steps: int = 0
    scores: dict = field(default_factory=dict)
    gallery: str | None = None


def _folder_row(edit: QLineEdit, parent: QWidget, title: str) -> QHBoxLayout:
    def browse() -> None:
        folder = QFileDialog.getExistingDirectory(parent, title, edit.text())
        if folder:
            edit.setText(folder)

    button = QToolButton()
    button.setText("…")
    button.clicked.connect(browse)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class EvaluatePanel(QWidget):
    """Compare presets (``studio compare``) or score a run (``studio evaluate``)."""

    message = Signal(str, str)  #: (text, level): a failure for the messages panel

    def __init__(
        self,
        snapshot: Callable[[], Preset] | None = None,
        runner: ProcessRunner | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.snapshot = snapshot
        self.runner = runner or ProcessRunner(parent=self)
        self._tmp = tempfile.TemporaryDirectory(prefix="studio-evaluate-")
        self.rows: dict[str, _Row] = {}
        self.out_dir: str | None = None
        self._done = False
        self._build()
        self.runner.event.connect(self.on_event)
        self.runner.exited.connect(self._on_exited)
        self.runner.failed.connect(self._on_failed)

    # ---- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItems(["Compare presets", "Evaluate a run"])
        self.mode.setToolTip(
            "Compare: train the same small U-Net on the faces alone and on faces + each preset's "
            "export, score each on the test set. Evaluate: score a `studio train` run."
        )
        top.addWidget(QLabel("Mode"))
        top.addWidget(self.mode)
        top.addStretch(1)
        layout.addLayout(top)

        self.forms = QStackedWidget()
        self.forms.addWidget(self._compare_form())
        self.forms.addWidget(self._evaluate_form())
        self.mode.currentIndexChanged.connect(self.forms.setCurrentIndex)
        layout.addWidget(self.forms)

        shared = QFormLayout()
        self.test = QLineEdit()
        self.test.setPlaceholderText("test images + visible-face masks (e.g. RealOcc)")
        shared.addRow("Test set", _folder_row(self.test, self, "Test set folder"))
        layout.addLayout(shared)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Run")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.gallery_button = QPushButton("Open gallery")
        self.gallery_button.setToolTip("The 12 worst test images of the selected model")
        self.gallery_button.setEnabled(False)
        self.gallery_button.clicked.connect(self.open_gallery)
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setEnabled(False)
        self.folder_button.clicked.connect(self.open_folder)
        for b in (self.start_button, self.cancel_button, self.gallery_button, self.folder_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.bar = QProgressBar()
        self.bar.setValue(0)
        layout.addWidget(self.bar)
        self.status = QLabel("Ready. No real test set ships with the studio: point at yours.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        results = QSplitter(Qt.Orientation.Vertical)
        self.chart = CurveChart("test mIoU after each epoch, at the training size")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        results.addWidget(self.chart)
        results.addWidget(self.table)
        results.setSizes([260, 160])
        layout.addWidget(results, 1)

    def _compare_form(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.presets = QListWidget()
        self.presets.setMaximumHeight(72)
        self.presets.setToolTip("Presets to compare with the no-occlusion baseline")
        add = QPushButton("Add…")
        add.clicked.connect(self._add_presets)
        current = QPushButton("Add current")
        current.setToolTip("The preset being edited, with the studio's folders")
        current.clicked.connect(self.add_current_preset)
        current.setEnabled(self.snapshot is not None)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.presets.takeItem(self.presets.currentRow()))
        side = QVBoxLayout()
        for b in (add, current, remove):
            side.addWidget(b)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.presets, 1)
        row.addLayout(side)
        form.addRow("Presets", row)
        self.faces = QLineEdit()
        self.faces.setPlaceholderText("training faces: images/ + masks/")
        form.addRow("Faces", _folder_row(self.faces, self, "Training faces"))
        self.count = QSpinBox()
        self.count.setRange(1, 1_000_000)
        self.count.setValue(300)
        self.count.setToolTip("Samples exported per preset (the faces are cycled to as many)")
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 10_000)
        self.minutes.setValue(2.0)
        self.minutes.setToolTip(
            "The baseline trains this long; its step count is every preset's budget"
        )
        self.size = QComboBox()
        self.size.addItems([str(s) for s in SIZES])
        self.size.setCurrentText("128")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        numbers = QHBoxLayout()
        for label, widget in (
            ("Images", self.count),
            ("Minutes", self.minutes),
            ("Size", self.size),
            ("Seed", self.seed),
        ):
            numbers.addWidget(QLabel(label))
            numbers.addWidget(widget)
        form.addRow("", numbers)
        self.compare_out = QLineEdit(str(Path.cwd() / "out" / "compare"))
        form.addRow("Output", _folder_row(self.compare_out, self, "Compare output folder"))
        self.resume = QCheckBox("Resume an unfinished compare in this folder")
        form.addRow("", self.resume)
        return page

    def _evaluate_form(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.run_dir = QLineEdit()
        self.run_dir.setPlaceholderText("a `studio train` run folder (holds model.pt)")
        form.addRow("Run", _folder_row(self.run_dir, self, "Training run"))
        self.eval_out = QLineEdit()
        self.eval_out.setPlaceholderText("report folder (default RUN/evaluate)")
        form.addRow("Output", _folder_row(self.eval_out, self, "Report folder"))
        return page

    # ---- presets ----------------------------------------------------------------------------
    def _add_presets(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Presets", "", "Presets (*.yaml *.yml)")
        for path in paths:
            self.presets.addItem(path)

    def add_current_preset(self) -> str | None:
        """Save the preset being edited (absolute folders) and add it to the list."""
        if self.snapshot is None:
            return None
        preset = self.snapshot()
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in (preset.name or "current"))
        path = Path(self._tmp.name) / f"{name or 'current'}.yaml"
        try:
            save_preset(preset, path)
        except StudioError as err:
            self._on_failed(error_text(err))
            return None
        if not self.faces.text().strip() and preset.sources.faces:
            self.faces.setText(str(Path(preset.sources.faces)))
        if not self.presets.findItems(str(path), Qt.MatchFlag.MatchExactly):
            self.presets.addItem(str(path))
        return str(path)

    # ---- jobs -------------------------------------------------------------------------------
    def job(self) -> Job:
        test = self.test.text().strip()
        if self.mode.currentIndex() == 1:
            return EvaluateConfig(
                self.run_dir.text().strip(), test, self.eval_out.text().strip() or None
            )
        presets = [self.presets.item(i).text() for i in range(self.presets.count())]
        return CompareConfig(
            presets=presets,
            faces=self.faces.text().strip(),
            test=test,
            out=self.compare_out.text().strip(),
            count=self.count.value(),
            minutes=self.minutes.value(),
            size=int(self.size.currentText()),
            seed=self.seed.value(),
        )

    def arguments(self) -> list[str]:
        """The command line of the job the panel shows."""
        return job_arguments(self.job(), self.resume.isChecked())

    def _missing(self, job: Job) -> str | None:
        if not job.test:
            return "choose a test set (images with visible-face masks)"
        if isinstance(job, EvaluateConfig):
            return None if job.run else "choose a training run folder"
        if not job.presets:
            return "add at least one preset to compare with the baseline"
        return None if job.faces else "choose the training faces (images/ + masks/)"

    def start(self) -> None:
        if self.runner.running:
            return
        job = self.job()
        missing = self._missing(job)
        if missing:
            self._on_failed(missing)
            return
        self.rows.clear()
        self.table.setRowCount(0)
        self.chart.clear()
        self._done = False
        self.out_dir = job.out if isinstance(job, CompareConfig) else (job.out or job.run)
        self.bar.setRange(0, 0)
        self.status.setText("Starting…")
        self._set_running(True)
        self.runner.start(job_arguments(job, self.resume.isChecked()))

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self.runner.running
        self.folder_button.setEnabled(idle and self.out_dir is not None)
        row = self.selected_row()
        self.gallery_button.setEnabled(row is not None and row.gallery is not None)

    # ---- events -----------------------------------------------------------------------------
    def _row(self, name: str) -> _Row:
        if name not in self.rows:
            self.rows[name] = _Row(name)
            self.table.insertRow(self.table.rowCount())
            self.chart.add_series(name)
            self._show_row(self.rows[name])
        return self.rows[name]

    def _show_row(self, row: _Row) -> None:
        index = list(self.rows).index(row.name)
        s = row.scores
        baseline = self.rows.get("baseline")
        delta = ""
        if "miou" in s and baseline is not None and "miou" in baseline.scores:
            delta = "" if row is baseline else f"{s['miou'] - baseline.scores['miou']:+.4f}"
        cells = (
            row.name,
            str(row.steps) if row.steps else "",
            f"{s['face_iou']:.4f}" if "face_iou" in s else "",
            f"{s['miou']:.4f}" if "miou" in s else "",
            delta,
            f"{s['boundary_f']:.4f}" if "boundary_f" in s else "",
        )
        for col, text in enumerate(cells):
            self.table.setItem(index, col, QTableWidgetItem(text))

    def on_event(self, event: Event) -> None:
        """Show one JSON-lines event of compare or evaluate."""
        kind, model = event.kind, event.model
        if kind == "plan":
            for name in event.get("models", []):
                self._row(name)
            self.out_dir = event.get("out", self.out_dir)
        elif kind == "stage":
            self.status.setText(f"{model}: {event.get('stage')}…")
        elif kind == "start":
            total = event.get("total")
            self.bar.setRange(0, int(total) if total else 0)
            self.bar.setValue(int(event.get("done") or 0))
        elif kind == "progress":
            self._on_progress(event)
        elif kind == "epoch" and model is not None:
            row = self._row(model)
            row.steps = int(event.get("steps", 0))
            if event.get("val_miou") is not None:
                self.chart.add_point(model, row.steps, float(event.get("val_miou")))
            self._show_row(row)
        elif kind == "result" and model is not None:
            self._result(model, event)
        elif kind == "note":
            self.status.setText(str(event.get("message", "")))
        elif kind == "done" and model is None:
            self._finished(event)

    def _on_progress(self, event: Event) -> None:
        total = event.get("total")
        if total:
            self.bar.setRange(0, int(total))
            self.bar.setValue(int(event.get("done", 0)))
        elif event.get("progress") is not None:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * float(event.get("progress"))))
        stage = event.get("stage", "")
        text = f"{event.get('model', '')} {stage}: {event.get('done', 0)}"
        text += f" / {total}" if total else ""
        text += f" · {float(event.get('rate') or 0):.1f} img/s"
        if event.get("loss") is not None:
            text += f" · loss {float(event.get('loss')):.4f}"
        if event.get("eta") is not None:
            text += f" · ETA {format_eta(event.get('eta'))}"
        self.status.setText(text.strip())

    def _result(self, name: str, event: Event) -> None:
        row = self._row(name)
        row.steps = int(event.get("steps", row.steps))
        names = ("face_iou", "miou", "boundary_f")
        row.scores = {k: event.get(k) for k in names if event.get(k) is not None}
        row.gallery = event.get("gallery")
        for other in self.rows.values():
            self._show_row(other)
        if self.table.currentRow() < 0:
            self.table.selectRow(list(self.rows).index(name))
        self._update_buttons()

    def _finished(self, event: Event) -> None:
        self._done = True
        if event.get("table") is None:  # studio evaluate: one run
            self._result("run", event)
            self.out_dir = event.get("out", self.out_dir)
            self.status.setText(
                f"Done: mIoU {event.get('miou', 0):.4f} on {event.get('count', 0)} images → "
                f"{event.get('report', '')}"
            )
        else:
            self.status.setText(f"Done in {event.get('seconds', 0):.0f} s → {event.get('compare')}")
        self.bar.setRange(0, 1)
        self.bar.setValue(1)

    def _on_exited(self, code: int, cancelled: bool, message: str) -> None:
        self._set_running(False)
        if cancelled:
            self.resume.setChecked(True)
            self.status.setText(
                "Cancelled; finished models are kept: tick Resume and Run to continue."
            )
        elif code != 0 or not self._done:
            self._on_failed(message)
        self.bar.setRange(0, 1)

    def _on_failed(self, line: str) -> None:
        self._set_running(False)
        self.status.setText(f"⚠ {line}")
        self.message.emit(line, "error")

    # ---- results ----------------------------------------------------------------------------
    def selected_row(self) -> _Row | None:
        index = self.table.currentRow()
        names = list(self.rows)
        return self.rows[names[index]] if 0 <= index < len(names) else None

    def open_gallery(self) -> None:
        row = self.selected_row()
        if row is not None and row.gallery:
            QDesktopServices.openUrl(QUrl.fromLocalFile(row.gallery))

    def open_folder(self) -> None:
        if self.out_dir:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.out_dir))
