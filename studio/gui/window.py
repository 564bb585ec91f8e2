"""The main window: wires browsers, canvas, parameter panel, samples and export together."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.core.engine.resolve import resolve
from studio.core.io.paths import shipped_presets
from studio.core.io.thumbnails import ThumbnailStore
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.vocab import pool_required, pool_role
from studio.gui import parameters as P
from studio.gui.browsers import Browser
from studio.gui.canvas import Canvas
from studio.gui.canvas_overlays import RegionRefiner
from studio.gui.document import StudioDocument
from studio.gui.elided import set_elided
from studio.gui.evaluate_panel import EvaluatePanel
from studio.gui.export_panel import ExportPanel
from studio.gui.jobs import Jobs
from studio.gui.library import Library
from studio.gui.messages import MessageLog, MessagesDock, UnreadButton
from studio.gui.panel import ParameterPanel
from studio.gui.preset_actions import PresetFileActions
from studio.gui.presets_io import export_snapshot
from studio.gui.preview import PreviewController, PreviewFrame
from studio.gui.readiness import canvas_notice, export_blocker
from studio.gui.review.actions import ReviewActions
from studio.gui.row_state import RowStates
from studio.gui.samples import SampleGrid
from studio.gui.source_actions import SourceActions
from studio.gui.style import WARNING_COLOUR
from studio.gui.view_modes import CLASS_MAP, RAW_PASTE, VIEW_MODES

STATUS_TEXT_PX = 320  #: a preview error in the status bar is elided to this width


def default_preset_path() -> Path | None:
    """The shipped demo preset, which the studio opens on."""
    return shipped_presets().get("demo")


class MainWindow(ReviewActions, PresetFileActions, SourceActions, QMainWindow):
    """Occlusion Studio's main window."""

    firstFrame = Signal()  #: the first preview frame (or the sentence why there is none) shown

    def __init__(
        self,
        library: Library | None = None,
        preset_path: str | Path | None = None,
        settings: QSettings | None = None,
        synchronous: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("OcclusionStudio", "studio")
        self.library = library or Library.default()
        self.doc = StudioDocument()
        self.preview = PreviewController(synchronous=synchronous)
        self.jobs = Jobs(synchronous=synchronous, threads=2, name="load")
        self.face: Face | None = None
        self.occluder: Occluder | None = None
        self.texture: Texture | None = None
        self.log = MessageLog(self)  #: every error and warning shown (the messages panel)
        self._shape_seed = 0
        self._first_frame_seen = False
        self._row_states = RowStates()  #: what the number rows say (the Samples tab's note)
        self._coverage_said: tuple[str, int, str] = ("", 0, "")
        self.setWindowTitle(self.doc.title())
        self.resize(1280, 800)
        self.setAcceptDrops(True)  # an export folder dropped here opens for review

        self.canvas = Canvas()
        self.panel = ParameterPanel(self.doc)
        store = ThumbnailStore()
        busy = self.preview.worker.busy
        self.faces = Browser("Faces", store, busy)
        self.occluders = Browser("Occluders", store, busy)
        self.textures = Browser("Textures", store, busy)
        self.samples = SampleGrid(self.library)
        self.export_panel = ExportPanel(
            self.export_preset, settings=self.settings, jobs=self.jobs
        )
        self.evaluate_panel = EvaluatePanel(self.export_preset)
        self._build_layout()
        self._build_actions()
        self._build_status()
        self.refiner = RegionRefiner(self.canvas, self.preview, lambda: self.face)
        self._connect()
        self._load_sources()
        if preset_path is not None:
            self.open_preset(preset_path)
        elif default_preset_path() is not None:
            self.open_preset(default_preset_path(), with_sources=False)
        self._restore_settings()
        self._preset_changed()
        self.request_preview()

    # ---- layout -----------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.faces, "Faces")
        self.left_tabs.addTab(self.occluders, "Occluders")
        self.left_tabs.addTab(self.textures, "Textures")
        self.left_tabs.setMinimumWidth(226)

        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        self.view_bar = QToolBar("View")
        self.view_bar.setObjectName("viewBar")
        center_layout.addWidget(self.view_bar)
        center_layout.addWidget(self.canvas, 1)
        self.center_tabs = QTabWidget()
        self.center_tabs.addTab(center, "Preview")
        self.center_tabs.addTab(self.samples, "Samples")
        self.center_tabs.addTab(self.evaluate_panel, "Evaluate")
        self.center_tabs.setDocumentMode(True)

        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(self.panel, "Parameters")
        self.right_tabs.addTab(self.export_panel, "Export")
        self.right_tabs.setMinimumWidth(370)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(self.center_tabs)
        self.splitter.addWidget(self.right_tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([250, 630, 400])
        self.setCentralWidget(self.splitter)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(
            f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else tip or text
        )
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.act_new = self._action("&New preset", self.new_preset, QKeySequence.StandardKey.New)
        self.act_open = self._action(
            "&Open preset…", self.open_preset_dialog, QKeySequence.StandardKey.Open
        )
        self.act_save = self._action(
            "&Save preset", self.save_preset, QKeySequence.StandardKey.Save
        )
        self.act_save_as = self._action(
            "Save preset &as…", self.save_preset_as, QKeySequence.StandardKey.SaveAs
        )
        self.recent_menu = file_menu.addMenu("Open &recent")
        for act in (self.act_new, self.act_open):
            file_menu.addAction(act)
        file_menu.insertMenu(None, self.recent_menu)
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        file_menu.addSeparator()
        self.act_review = self._action(
            "Open e&xport…", self.open_export_dialog, tip="Review an export's samples"
        )
        file_menu.addAction(self.act_review)
        self.act_review_url = self._action(
            "Open export &URL…", self.open_export_url_dialog,
            tip="Review an export in a store (s3://bucket/prefix)",
        )  # fmt: skip
        file_menu.addAction(self.act_review_url)
        self.act_screenshot = self._action("Save window &screenshot…", self._screenshot_dialog)
        file_menu.addAction(self.act_screenshot)
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        edit_menu = menu.addMenu("&Edit")
        self.act_undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.act_redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)

        occ_menu = menu.addMenu("&Occluder")
        self.act_flip = self._action("&Flip", self.toggle_flip, "X", "Flip the occluder")
        self.act_flip.setCheckable(True)
        self.act_shape = self._action("New &shape", self.new_shape, "N", "New RandOcc shape")
        self.act_center = self._action("&Centre on face", self.center_occluder, "C")
        for act in (self.act_flip, self.act_shape, self.act_center):
            occ_menu.addAction(act)

        self.act_export = self._action("&Export…", self.show_export, "Ctrl+E", "Export a batch")
        self.act_reseed = self._action("&Reseed samples", self.reseed_samples, "R")
        file_menu.addAction(self.act_export)
        occ_menu.addAction(self.act_reseed)

        view_menu = self.view_menu = menu.addMenu("&View")
        self.act_fit = self._action("&Fit", self.canvas.fit, "F", "Fit the image in the view")
        self.act_one = self._action("&1:1", self.canvas.actual_size, "1", "Native pixels")
        self.act_zoom_in = self._action(
            "Zoom &in", lambda: self.canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn
        )
        self.act_zoom_out = self._action(
            "Zoom &out", lambda: self.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut
        )
        self.act_handles = self._action("Show &handles", self._toggle_handles, "H")
        self.act_handles.setCheckable(True)
        self.act_handles.setChecked(True)
        for act in (
            self.act_fit,
            self.act_one,
            self.act_zoom_in,
            self.act_zoom_out,
            self.act_handles,
        ):
            view_menu.addAction(act)
        view_menu.addSeparator()
        self.view_group = QActionGroup(self)
        self.view_actions: dict[str, QAction] = {}
        for i, mode in enumerate(VIEW_MODES):
            act = self._action(mode, lambda _=False, m=mode: self.set_view_mode(m), f"Alt+{i + 1}")
            act.setCheckable(True)
            self.view_group.addAction(act)
            view_menu.addAction(act)
            self.view_actions[mode] = act
        self.view_actions[VIEW_MODES[0]].setChecked(True)

        bar = self.view_bar
        self.view_combo = QComboBox()
        self.view_combo.addItems(VIEW_MODES)
        self.view_combo.setToolTip(
            "View mode (Alt+1…6): the masks shown are the engine's labels; Raw paste is the "
            "same sample without harmonisation"
        )
        self.view_combo.currentTextChanged.connect(self.set_view_mode)
        bar.addWidget(self.view_combo)
        bar.addSeparator()
        for act in (self.act_fit, self.act_one, self.act_zoom_in, self.act_zoom_out):
            bar.addAction(act)
        self.act_zoom_in.setIconText("+")
        self.act_zoom_out.setIconText("−")
        self.act_center.setIconText("Centre")
        self.act_shape.setIconText("Shape")
        self.act_handles.setIconText("Handles")
        # fixed toolbar texts: the undo stack renames its actions after each command
        # ("Undo Move occluder"), which would push the toolbar past its width
        self.act_undo.setIconText("↶")
        self.act_redo.setIconText("↷")
        self.act_undo.setToolTip("Undo (Ctrl+Z)")
        self.act_redo.setToolTip("Redo (Ctrl+Shift+Z)")
        bar.addSeparator()
        for act in (self.act_flip, self.act_center, self.act_shape, self.act_handles):
            bar.addAction(act)
        bar.addSeparator()
        bar.addAction(self.act_undo)
        bar.addAction(self.act_redo)
        for act in (self.act_undo, self.act_redo):  # arrow glyphs: a size up to read well
            button = bar.widgetForAction(act)
            font = button.font()
            font.setPointSizeF(font.pointSizeF() * 1.45)
            button.setFont(font)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.messages_dock = MessagesDock(self.log, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.messages_dock)
        self.messages_dock.hide()
        toggle = self.messages_dock.toggleViewAction()
        toggle.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.view_menu.addSeparator()
        self.view_menu.addAction(toggle)
        self.unread = UnreadButton(self.log, self.messages_dock)
        status.addWidget(self.unread)
        self.backend_label = QLabel(f"backend: {self.preview.backend.upper()}")
        self.render_label = QLabel("render: – ms")
        self.seed_label = QLabel("seed: 0")
        self.coverage_label = QLabel("coverage: –")
        for label in (self.coverage_label, self.render_label, self.seed_label, self.backend_label):
            label.setObjectName("statusField")
            status.addPermanentWidget(label)

    def _connect(self) -> None:
        self.doc.changed.connect(self.request_preview)
        self.doc.changed.connect(self._preset_changed)
        self.samples.sampleChosen.connect(self.load_sample)
        self.export_panel.reviewRequested.connect(self.open_review)
        self.samples.seed.valueChanged.connect(lambda v: self.seed_label.setText(f"seed: {v}"))
        self.doc.titleChanged.connect(self.setWindowTitle)
        self.preview.frameShown.connect(self._on_frame)
        self.canvas.paramsEdited.connect(self._on_canvas_edit)
        self.faces.chosen.connect(self.choose_face)
        self.occluders.chosen.connect(self.choose_occluder)
        self.textures.chosen.connect(self.choose_texture)
        for role, browser in self._browsers().items():
            browser.folderChosen.connect(
                lambda path, item, role=role: self.open_path(path, role, item)
            )
            browser.bundledWanted.connect(lambda role=role: self.open_bundled(role))
        self.export_panel.message.connect(lambda text, level: self.log.add(text, "Export", level))
        self.evaluate_panel.message.connect(
            lambda text, level: self.log.add(text, "Evaluate", level)
        )
        self.samples.problem.connect(lambda text: self.log.add(text, "Samples", "warning"))

    # ---- preview ----------------------------------------------------------------------------
    def current_occluder(self) -> Occluder | Texture | None:
        items = {"occluders": self.occluder, "textures": self.texture}
        return items[pool_role(self.doc.preset.mode)]

    def effective_params(self):
        face = self.preview.preview_face(self.face)
        return resolve(self.doc.preset, self.doc.params, face, self.current_occluder())

    def request_preview(self) -> int | None:
        """Send the current state to the preview worker (never renders here)."""
        if self.face is None or self.canvas.has_notice:
            return None
        waiting = pool_required(self.doc.preset.mode) and self.current_occluder() is None
        if waiting and self.jobs.pending():
            return None  # the occluder is being loaded: its arrival asks for the frame
        params = self.effective_params()
        self._offer_class_map()
        self.canvas.set_context(self.preview.preview_face(self.face), params)
        self.act_flip.setChecked(params.flip)
        return self.preview.request(self.face, self.current_occluder(), params)

    def _on_frame(self, frame: PreviewFrame) -> None:
        self.canvas.show_frame(frame)
        self.render_label.setText(f"render: {frame.render_ms:.0f} ms")
        if frame.error:
            self._say_coverage(f"⚠ {frame.error}", STATUS_TEXT_PX, self.coverage_label.styleSheet())
        elif frame.result is not None:
            self._show_coverage(float(frame.result.stats["coverage"]))
        self._first_shown()

    def _show_coverage(self, coverage: float) -> None:
        """The preview's face coverage; outside the preset's bounds it says the export never
        keeps such a placement (it draws again)."""
        placement = self.doc.preset.placement
        low, high = placement.min_coverage, placement.max_coverage
        if low <= coverage <= high:
            self._say_coverage(f"coverage: {coverage:.0%}", 200, "")
            return
        self._say_coverage(
            f"coverage: {coverage:.0%} ⚠ outside {low:.0%}–{high:.0%}: the export never keeps "
            "this placement",
            STATUS_TEXT_PX,
            f"color: {WARNING_COLOUR};",
        )

    def _say_coverage(self, text: str, width: int, style: str) -> None:
        """The coverage field's text and style, set only when they change (a style sheet
        set again restyles the status bar on every frame of a drag)."""
        if (text, width, style) == self._coverage_said:
            return
        self._coverage_said = (text, width, style)
        self.coverage_label.setStyleSheet(style)
        set_elided(self.coverage_label, text, width)

    def _first_shown(self) -> None:
        """The first preview frame, or the sentence saying why there is none, is on screen."""
        if not self._first_frame_seen:
            self._first_frame_seen = True
            self.firstFrame.emit()

    def _on_canvas_edit(self, params, text: str, merge_key) -> None:
        self.doc.tune(params, text, merge_key)

    def set_view_mode(self, mode: str) -> None:
        self.canvas.set_view_mode(mode)
        if self.preview.raw != (mode == RAW_PASTE):  # raw paste is a render of its own
            self.preview.raw = mode == RAW_PASTE
            self.request_preview()
        self.view_actions[mode].setChecked(True)
        if self.view_combo.currentText() != mode:
            self.view_combo.setCurrentText(mode)

    def _offer_class_map(self) -> None:
        """The class-map view is offered while the face carries a class map."""
        has = self.face is not None and self.face.labels is not None
        self.view_actions[CLASS_MAP].setEnabled(has)
        self.view_combo.model().item(VIEW_MODES.index(CLASS_MAP)).setEnabled(has)
        self.canvas.class_names = getattr(self.library.faces, "classes", None)
        if not has and self.canvas.view_mode == CLASS_MAP:
            self.set_view_mode(VIEW_MODES[0])

    def _toggle_handles(self) -> None:
        self.canvas.set_show_handles(self.act_handles.isChecked())

    def toggle_flip(self) -> None:
        self.doc.tune(self.doc.params.replace(flip=not self.doc.params.flip), "Flip")

    def center_occluder(self) -> None:
        self.doc.tune(self.doc.params.replace(center_rel=(0.5, 0.5)), "Centre occluder")

    def new_shape(self) -> None:
        self._shape_seed += 1
        params = P.with_new_shape(self.doc.preset, self.doc.params, self._shape_seed)
        self.doc.tune(params, "New shape")

    def _preset_changed(self) -> None:
        self.samples.set_preset(self.doc.preset)
        self.export_panel.describe(self.doc.preset)
        self.samples.set_note(self.outside_note())
        self.sources_changed()

    def outside_note(self) -> str:
        """The Samples tab's note on the preview's values the export never draws."""
        preset, params = self.doc.preset, self.doc.params
        rows = self._row_states.outside(preset, params)
        if not rows:
            return ""
        states = self._row_states.of(preset, params)
        said = "; ".join(f"{p.label}: {states[p.key].text}" for p in rows)
        return (
            f"The preview shows values these samples never draw ({said}). Widen a range in "
            "the Parameters panel to include one."
        )

    def sources_changed(self) -> None:
        """What the browsers show changed (or failed): the canvas says why it has nothing to
        preview, and the Export tab why it is off."""
        mode = self.doc.preset.mode
        notice = canvas_notice(self.library, mode)
        self.canvas.set_notice(notice)
        if notice:
            self._first_shown()
        self.export_panel.set_blocker(export_blocker(self.library, mode))
        if notice is None and self.canvas.frame is None:
            self.request_preview()

    def reseed_samples(self) -> None:
        self.show_tab("samples")
        self.samples.reseed()

    def show_export(self) -> None:
        self.show_tab("export")

    def export_preset(self):
        """The current preset with absolute source folders, for the exporter."""
        return export_snapshot(self.doc.preset, self.library.refs())

    # ---- messages ---------------------------------------------------------------------------
    def show_message(self, text: str, source: str = "Studio", level: str = "error") -> None:
        """Tell the user something went wrong: kept in the messages panel (with time and
        source), counted in the status bar until seen."""
        self.log.add(text, source, level)

    @property
    def messages(self) -> list[str]:
        """The texts of the messages shown, oldest first."""
        return self.log.texts()

    def show_tab(self, name: str) -> None:
        """Bring the "preview", "samples" or "export" tab to the front."""
        for tabs in (self.center_tabs, self.right_tabs):
            for i in range(tabs.count()):
                if tabs.tabText(i).lower() == name:
                    tabs.setCurrentIndex(i)

    def busy(self) -> bool:
        """Whether sources, items, the preview, the thumbnails in view or samples are still
        loading (for screenshots)."""
        if self.jobs.pending() or self.preview.worker.busy():
            return True
        if any(b.pending for b in self._browsers().values()):
            return True
        grid = getattr(self, "samples", None)
        return bool(grid is not None and grid.busy())

    def when_idle(self, callback, waited_ms: int = 0) -> None:
        """Call ``callback`` once nothing is loading (or after 30 s)."""
        if self.busy() and waited_ms < 30_000:
            QTimer.singleShot(100, lambda: self.when_idle(callback, waited_ms + 100))
        else:
            callback()

    # ---- settings ---------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        sizes = self.settings.value("window/splitter")
        if sizes is not None:
            self.splitter.restoreState(sizes)
        self._fill_recent()

    def _screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "studio.png", "PNG (*.png)")
        if path:
            self.grab().save(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        self.close_reviews()
        self.jobs.shutdown()
        self.preview.shutdown()
        for browser in (self.faces, self.occluders, self.textures, self.samples):
            browser.shutdown()
