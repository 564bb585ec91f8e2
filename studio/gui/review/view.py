"""The Review view: filters, the grid (one export, or two of the same seed side by side) and
the detail pane of the current sample.

Keys: X rejects the selected samples, F flags them, C clears them, Ctrl+Z undoes, Ctrl+Shift+Z
redoes. Comparing: the second export's pane shows, tile for tile, the same sample indices as
the first (the first's filters and sort), and both panes scroll and select together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.export.folder import ExportFolder
from studio.core.export.review.fields import DECISION, Field
from studio.core.export.review.overlays import (
    VIEW_LABELS,
    VIEWS,
    read_sample,
    render_view,
    shadow_region,
    views_of,
)
from studio.core.io.thumbnails import ThumbnailStore
from studio.gui.jobs import Jobs
from studio.gui.review.detail import DetailPane
from studio.gui.review.filters import DECISION_FIELD, FilterPanel
from studio.gui.review.grid import ReviewGrid
from studio.gui.review.model import MISSING
from studio.gui.review.session import ReviewSession


@dataclass
class Shown:
    """What the detail pane shows of the current sample (made on a worker)."""

    title: str
    images: list[tuple[str, np.ndarray]]
    row: dict[str, Any]
    other: dict[str, Any] | None
    labels: np.ndarray | None


def _mask_picture(mask: np.ndarray) -> np.ndarray:
    return np.repeat((mask.astype(np.uint8) * 255)[..., None], 3, axis=2)


def detail_pictures(
    folder: ExportFolder, row: dict[str, Any]
) -> tuple[list[tuple[str, np.ndarray]], Any]:
    """The image, masks, class map (and shadow region) of a sample at full resolution."""
    arrays = read_sample(folder, row)
    pictures = [("Image", arrays.image)]
    if arrays.face is not None:
        pictures.append(("Face mask", _mask_picture(arrays.face)))
    if arrays.occlusion is not None:
        pictures.append(("Occlusion mask", _mask_picture(arrays.occlusion)))
    if arrays.labels is not None:
        pictures.append(("Class map", render_view(arrays, "classes")))
    if shadow_region(arrays) is not None:
        pictures.append(("Shadow region", render_view(arrays, "shadow")))
    return pictures, arrays


def sorted_by_label(fields: list[Field]) -> list[Field]:
    return sorted(fields, key=lambda f: (f.group, f.label))


class ReviewView(QWidget):
    """The review of one export (``sessions[0]``), and optionally a second to compare."""

    openInEditor = Signal(str, object)  #: export folder, manifest row
    problem = Signal(str)

    def __init__(
        self,
        store: ThumbnailStore | None = None,
        synchronous: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.undo = QUndoStack(self)
        self.io = Jobs(synchronous=synchronous, threads=1, name="review-io")
        self.pictures = Jobs(synchronous=synchronous, threads=1, name="review-detail")
        self.sessions: list[ReviewSession] = []
        self.grids: list[ReviewGrid] = []
        self.view_name = "image"
        self._syncing = False
        self._shown: Shown | None = None
        self._build()
        self._actions()

    # ---- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.view_combo = QComboBox()
        for name in VIEWS:
            self.view_combo.addItem(VIEW_LABELS[name], name)
        self.view_combo.setToolTip("What the tiles show over each image")
        self.view_combo.currentIndexChanged.connect(
            lambda _i: self.set_view(self.view_combo.currentData())
        )
        self.sort_combo = QComboBox()
        self.sort_combo.addItem("Sample index", None)
        self.sort_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sort_combo.setToolTip("Sort the tiles by a field (its value is shown under each)")
        self.sort_combo.currentIndexChanged.connect(lambda _i: self._sort_changed())
        self.descending = QCheckBox("Descending")
        self.descending.toggled.connect(lambda _on: self._sort_changed())
        self.count = QLabel()
        self.count.setObjectName("hint")
        self.editor_button = QPushButton("Open in editor")
        self.editor_button.setToolTip(
            "Load the sample's face, occluder and exact parameters into the Preview"
        )
        self.editor_button.clicked.connect(self.open_in_editor)
        for label, widget in (("View", self.view_combo), ("Sort", self.sort_combo)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.descending)
        bar.addWidget(self.count, 1)
        bar.addWidget(self.editor_button)
        layout.addLayout(bar)
        self.filters = FilterPanel()
        self.filters.changed.connect(self._filter_changed)
        self.grid_box = QWidget()
        self.grid_layout = QHBoxLayout(self.grid_box)
        self.grid_layout.setContentsMargins(0, 0, 0, 0)
        self.detail = DetailPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.filters)
        self.splitter.addWidget(self.grid_box)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 740, 520])
        layout.addWidget(self.splitter, 1)

    def _actions(self) -> None:
        def action(text: str, keys: Any, slot) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.act_reject = action("Reject", "X", lambda: self.decide("reject"))
        self.act_flag = action("Flag", "F", lambda: self.decide("flag"))
        self.act_clear = action("Clear decision", "C", lambda: self.decide("clear"))
        self.act_undo = action("Undo", QKeySequence.StandardKey.Undo, self.undo.undo)
        self.act_redo = action("Redo", "Ctrl+Shift+Z", self.undo.redo)
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])

    # ---- opening --------------------------------------------------------------------------------
    def open(self, out: str | Path, compare: bool = False) -> ReviewSession:
        """Review the export in ``out`` (``compare``: beside the one shown)."""
        if not compare:
            for session in self.sessions:
                session.close()
            for grid in self.grids:
                grid.shutdown()
                grid.deleteLater()
            self.sessions, self.grids = [], []
            self.undo.clear()
        session = ReviewSession(out, self.io, self.undo, worker=not self.io.synchronous)
        grid = ReviewGrid(self.store, name=f"review{len(self.grids)}")
        k = len(self.sessions)
        self.sessions.append(session)
        self.grids.append(grid)
        self.grid_layout.addWidget(grid, 1)
        session.problem.connect(self.problem.emit)
        session.grew.connect(lambda k=k: self._grew(k))
        session.orderChanged.connect(self._order_changed)
        session.decisionsChanged.connect(self._decisions_changed)
        grid.currentChanged.connect(lambda row, k=k: self._current_changed(k, row))
        grid.list.verticalScrollBar().valueChanged.connect(lambda v, k=k: self._scrolled(k, v))
        session.start()
        return session

    @property
    def comparing(self) -> bool:
        return len(self.sessions) > 1

    def _grew(self, k: int) -> None:
        session, grid = self.sessions[k], self.grids[k]
        index = session.index
        assert index is not None
        if grid.tiles is None:
            grid.set_view(index, self.view_name)
        if k == 0:
            self.filters.set_index(index, session.varying, session.extra())
            self._fill_sort(session.varying)
        self._order_changed()
        self._answer()

    def _fill_sort(self, varying: list[Field]) -> None:
        known = {self.sort_combo.itemData(i) for i in range(self.sort_combo.count())}
        for field in sorted_by_label([*varying, DECISION_FIELD]):
            if field.key not in known:
                self.sort_combo.addItem(f"{field.group}: {field.label}", field.key)

    # ---- the query ------------------------------------------------------------------------------
    def ask(
        self,
        view: str | None = None,
        ranges: dict[str, tuple[float, float]] | None = None,
        sort: str | None = None,
    ) -> None:
        """Show ``view``, filter by ``ranges`` (number fields) and sort by ``sort`` once the
        first export is read (the shell's --view, --filter and --sort)."""
        self._asked = (view, dict(ranges or {}), sort)
        self._answer()

    def _answer(self) -> None:
        asked = getattr(self, "_asked", None)
        if asked is None or not self.sessions or not self.sessions[0].complete:
            return
        if self.filters.pending():  # the filters are still being made
            QTimer.singleShot(20, self._answer)
            return
        self._asked = None
        view, ranges, sort = asked
        if view:
            self.set_view(view)
        for key, (low, high) in ranges.items():
            widget = self.filters.filters.get(key)
            if widget is None:
                self.problem.emit(f"--filter {key}: no such varying number field")
            else:
                widget.set_range(low, high)
                self.filters.show_filter(key)
        if sort:
            at = self.sort_combo.findData(sort)
            if at < 0:
                self.problem.emit(f"--sort {sort}: no such varying field")
            self.sort_combo.setCurrentIndex(max(at, 0))

    def _filter_changed(self, key: str, flt) -> None:
        if self.sessions:
            self.sessions[0].set_filter(key, flt)

    def _sort_changed(self) -> None:
        if self.sessions:
            key = self.sort_combo.currentData()
            self.sessions[0].set_sort(key, self.descending.isChecked())
            for grid in self.grids:
                grid.model.set_caption(key)

    def _order_changed(self) -> None:
        if not self.sessions or self.sessions[0].index is None:
            return
        first = self.sessions[0]
        assert first.index is not None
        self.grids[0].set_rows(first.index, first.order)
        current = self.grids[0].current_row()
        for session, grid in zip(self.sessions[1:], self.grids[1:], strict=True):
            if session.index is not None:
                grid.set_rows(session.index, self._mapped(first, session))
                if current >= 0 and grid.current_row() != current:
                    self._to_others(0, lambda other: other.select_row(current, scroll=False))
        self.filters.set_kept(first.kept)
        self._show_counts()
        if self.grids[0].current_row() < 0 and len(first.order):
            self.grids[0].select_row(0, scroll=False)  # the detail pane shows the first

    def _mapped(self, first: ReviewSession, other: ReviewSession) -> np.ndarray:
        """The rows of ``other`` holding the samples of ``first``'s order (MISSING if none)."""
        assert first.index is not None and other.index is not None
        samples = first.index.index[first.order]
        by_sample = np.argsort(other.index.index, kind="stable")
        sorted_samples = other.index.index[by_sample]
        at = np.clip(np.searchsorted(sorted_samples, samples), 0, max(0, len(by_sample) - 1))
        if not len(by_sample):
            return np.full(len(samples), MISSING, np.int64)
        found = sorted_samples[at] == samples
        return np.where(found, by_sample[at], MISSING).astype(np.int64)

    def _show_counts(self) -> None:
        first = self.sessions[0]
        total = 0 if first.index is None else len(first.index)
        reading = "" if first.complete else " (reading…)"
        counts = first.counts()
        self.count.setText(
            f"{len(first.order):,} of {total:,} samples{reading} · "
            f"{counts['reject']:,} rejected · {counts['flag']:,} flagged"
        )

    def set_view(self, name: str) -> None:
        """Draw ``name`` (image, face, occlusion, classes, shadow) over the tiles."""
        self.view_name = name
        if self.view_combo.currentData() != name:
            self.view_combo.setCurrentIndex(VIEWS.index(name))
        for session, grid in zip(self.sessions, self.grids, strict=True):
            if session.index is not None:
                grid.set_view(session.index, name)
        self._show_current()

    # ---- selection and scrolling ----------------------------------------------------------------
    def _current_changed(self, k: int, row: int) -> None:
        if not self._syncing:
            self._to_others(k, lambda grid: grid.select_row(row, scroll=False))
            self._show_current()

    def _scrolled(self, k: int, value: int) -> None:
        if not self._syncing:
            self._to_others(k, lambda grid: grid.list.verticalScrollBar().setValue(value))

    def _to_others(self, k: int, do) -> None:
        """Do the same to every pane but ``k`` (compare: one current tile, one scroll)."""
        self._syncing = True
        try:
            for j, grid in enumerate(self.grids):
                if j != k:
                    do(grid)
        finally:
            self._syncing = False

    def focused(self) -> int:
        """The pane with the keyboard focus (the first when none has)."""
        for k, grid in enumerate(self.grids):
            if grid.list.hasFocus():
                return k
        return 0

    # ---- decisions ------------------------------------------------------------------------------
    def decide(self, decision: str) -> None:
        """Reject, flag or clear the selected samples of the focused pane."""
        if not self.sessions:
            return
        k = self.focused()
        grid = self.grids[k]
        samples = [s for r in grid.selected_rows() if (s := grid.model.sample_at(r)) is not None]
        self.sessions[k].decide(samples, decision)

    def _decisions_changed(self) -> None:
        for session, grid in zip(self.sessions, self.grids, strict=True):
            grid.model.set_decisions(session.decisions)
        first = self.sessions[0]
        self.filters.set_decisions(first.extra()[DECISION])
        self._show_counts()

    # ---- the current sample ---------------------------------------------------------------------
    def current_rows(self) -> list[tuple[ReviewSession, int]]:
        """(session, row position) of the current sample in each pane that holds it."""
        row = self.grids[0].current_row() if self.grids else -1
        found = []
        for session, grid in zip(self.sessions, self.grids, strict=True):
            position = grid.model.position_at(row)
            if position != MISSING and session.index is not None:
                found.append((session, position))
        return found

    def _show_current(self) -> None:
        current = self.current_rows()
        if not current:
            return
        view = self.view_name
        first = self.sessions[0].index
        fields = {f.key: f for f in (first.fields if first is not None else ())}
        jobs = [(s.index.folder, s.index, p) for s, p in current if s.index is not None]
        comparing = self.comparing

        def work() -> Shown:
            rows = [index.row(p) for _, index, p in jobs]
            if "files" not in rows[0]:  # a failed sample: its reason, no pictures
                reason = rows[0].get("reason", "no reason recorded")
                return Shown(f"Sample {rows[0].get('index')} was not made: {reason}", [],
                             rows[0], None, None)  # fmt: skip
            if not comparing:
                pictures, arrays = detail_pictures(jobs[0][0], rows[0])
                sample = rows[0].get("index")
                return Shown(f"Sample {sample}", pictures, rows[0], None, arrays.labels)
            images: list[tuple[str, np.ndarray]] = []
            names = "AB"
            for (folder, _, _), row, name in zip(jobs, rows, names, strict=False):
                arrays = read_sample(folder, row)
                images.append((f"{name}: image", arrays.image))
                if view != "image" and view in views_of(row):
                    images.append((f"{name}: {VIEW_LABELS[view]}", render_view(arrays, view)))
            order = [0, 2, 1, 3] if len(images) == 4 else list(range(len(images)))
            images = [images[i] for i in order]
            title = f"Sample {rows[0].get('index')}: {jobs[0][0].path.name} | " + (
                jobs[1][0].path.name if len(jobs) > 1 else "not in the second export"
            )
            return Shown(title, images, rows[0], rows[1] if len(rows) > 1 else None, None)

        def done(shown: Shown) -> None:
            self._shown = shown
            self.detail.show_sample(
                shown.title, shown.images, shown.row, fields, shown.labels, shown.other
            )

        self.pictures.submit("detail", work, done, lambda err: self.detail.show_problem(str(err)))

    def open_in_editor(self) -> None:
        """Ask the studio to load the current sample into its Preview (its row is read on
        the worker)."""
        current = self.current_rows()
        if not current:
            return
        session, position = current[0]
        index = session.index
        assert index is not None
        self.pictures.submit(
            "editor", lambda: index.row(position),
            lambda row: self.openInEditor.emit(str(session.out), row),
            lambda err: self.problem.emit(str(err)),
        )  # fmt: skip

    # ---- state ----------------------------------------------------------------------------------
    def busy(self) -> bool:
        """Rows being read, pictures being made, or thumbnails in view not shown yet."""
        if self.io.pending() or self.pictures.pending() or self.filters.pending():
            return True
        return any(grid.pending for grid in self.grids)

    def shutdown(self) -> None:
        for session in self.sessions:
            session.close()
        for grid in self.grids:
            grid.shutdown()
        self.io.shutdown()
        self.pictures.shutdown()
