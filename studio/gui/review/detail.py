"""The detail pane: a sample's image, masks and class map side by side at 1:1, zoomed and
panned together, and every parameter and statistic its row records.

The pictures are decoded and drawn on a worker (:class:`~studio.gui.jobs.Jobs`, newest wins);
the pane only shows them. The wheel zooms every picture about the same point; dragging one
pans them all (their scroll bars are tied).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.export.review.fields import Field, humanize, leaves
from studio.core.export.review.overlays import legend, palette
from studio.gui.canvas import to_qimage

ZOOM_STEP = 1.25
ZOOM_RANGE = (0.05, 32.0)


class SyncedView(QGraphicsView):
    """One picture; its wheel zooms its group."""

    def __init__(self, group: SyncedImages) -> None:
        super().__init__()
        self.group = group
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumSize(120, 120)

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP
        self.group.zoom_by(factor, self)


class SyncedImages(QWidget):
    """Pictures side by side (titled), sharing zoom and scroll position."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: list[SyncedView] = []
        self.titles: list[QLabel] = []
        self.zoom = 1.0
        self._tying = False
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)

    def show_images(self, images: list[tuple[str, np.ndarray]], columns: int = 2) -> None:
        """Show ``(title, RGB array)`` pictures at the current zoom (1:1 at first)."""
        while len(self.views) < len(images):
            self._add_view(columns)
        for i, view in enumerate(self.views):
            shown = i < len(images)
            view.setVisible(shown)
            self.titles[i].setVisible(shown)
            if shown:
                title, image = images[i]
                self.titles[i].setText(title)
                view.item.setPixmap(QPixmap.fromImage(to_qimage(image)))
                view.scene().setSceneRect(view.item.boundingRect())
        self._apply()

    def _add_view(self, columns: int) -> None:
        i = len(self.views)
        view = SyncedView(self)
        title = QLabel()
        title.setObjectName("hint")
        self.grid.addWidget(title, (i // columns) * 2, i % columns)
        self.grid.addWidget(view, (i // columns) * 2 + 1, i % columns)
        for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
            bar.valueChanged.connect(lambda _v, v=view: self._follow(v))
        self.views.append(view)
        self.titles.append(title)

    def zoom_by(self, factor: float, source: SyncedView | None = None) -> None:
        self.zoom = float(np.clip(self.zoom * factor, *ZOOM_RANGE))
        self._apply(source)

    def actual_size(self) -> None:
        self.zoom = 1.0
        self._apply()

    def fit(self) -> None:
        """The zoom at which the largest picture fits its pane."""
        shown = [v for v in self.views if v.isVisible() and not v.item.pixmap().isNull()]
        if not shown:
            return
        view = shown[0]
        rect = view.item.boundingRect()
        port = view.viewport().rect()
        self.zoom = float(
            np.clip(min(port.width() / rect.width(), port.height() / rect.height()), *ZOOM_RANGE)
        )
        self._apply()

    def _apply(self, source: SyncedView | None = None) -> None:
        for view in self.views:  # the view under the mouse first: the others follow it
            if view is source:
                view.setTransform(QTransform.fromScale(self.zoom, self.zoom))
        for view in self.views:
            if view is not source:
                view.setTransform(QTransform.fromScale(self.zoom, self.zoom))
        self._follow(source or (self.views[0] if self.views else None))

    def _follow(self, source: SyncedView | None) -> None:
        if source is None or self._tying:
            return
        self._tying = True
        try:
            h, v = source.horizontalScrollBar().value(), source.verticalScrollBar().value()
            for view in self.views:
                if view is not source:
                    view.horizontalScrollBar().setValue(h)
                    view.verticalScrollBar().setValue(v)
        finally:
            self._tying = False


def legend_html(labels: np.ndarray, occluder_class: int) -> str:
    """The class map's legend: a coloured chip and the name of each class present."""
    chips = []
    colours = palette()
    for class_id, name, _ in legend(labels, occluder_class):
        r, g, b = (int(c) for c in colours[class_id])
        chips.append(
            f"<span style='background: rgb({r},{g},{b}); color: rgb({r},{g},{b})'>■■</span>"
            f"&nbsp;{class_id} {name}"
        )
    return "&nbsp;&nbsp; ".join(chips)


class ParamsTree(QTreeWidget):
    """Every recorded value of a sample, by group (the fields' labels where they have one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Field", "Value"])
        self.setRootIsDecorated(True)
        self.setAlternatingRowColors(True)

    def show_row(
        self, row: dict[str, Any], fields: dict[str, Field], other: dict[str, Any] | None = None
    ) -> None:
        """The values of ``row`` (and beside them those of ``other``, the same sample in a
        second export: the values that differ are bold)."""
        self.clear()
        self.setColumnCount(2 if other is None else 3)
        self.setHeaderLabels(["Field", "Value"] if other is None else ["Field", "A", "B"])
        groups: dict[str, QTreeWidgetItem] = {}

        def add(group: str, key: str, label: str, values: list[Any], tip: str = "") -> None:
            parent = groups.get(group)
            if parent is None:
                parent = groups[group] = QTreeWidgetItem(self, [group])
                parent.setExpanded(True)
            item = QTreeWidgetItem(parent, [label, *(_shown(v) for v in values)])
            item.setToolTip(0, tip or key)
            if len(values) == 2 and values[0] != values[1]:
                font = item.font(1)
                font.setBold(True)
                item.setFont(1, font)
                item.setFont(2, font)

        rows = [row] if other is None else [row, other]
        flat = [leaves(r) for r in rows]
        for key in ("index", "stem", "seed", "reason", "path"):
            if key in row:
                add("Sample", key, humanize(key), [r.get(key) for r in rows])
        for key in row.get("files") or {}:
            add("Files", key, key, [(r.get("files") or {}).get(key) for r in rows])
        for key in dict.fromkeys([k for f in flat for k in f]):
            values = [f.get(key) for f in flat]
            field = fields.get(key)
            if field is None:
                add("Other", key, humanize(key), values)
            else:
                tip = f"{key}: {field.tip}" if field.tip else key
                add(field.group, key, field.label, values, tip)
        self.resizeColumnToContents(0)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "—" if value is None else str(value)


class DetailPane(QWidget):
    """Pictures of one sample (or of the same sample in two exports) and its values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.title = QLabel("Choose a sample")
        self.title.setWordWrap(True)
        head.addWidget(self.title, 1)
        self.images = SyncedImages()
        for text, tip, slot in (
            ("Fit", "Fit the pictures in their panes (the wheel zooms them all)", self.images.fit),
            ("1:1", "Native pixels, every picture alike", self.images.actual_size),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            head.addWidget(button)
        layout.addLayout(head)
        layout.addWidget(self.images, 3)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setObjectName("hint")
        layout.addWidget(self.legend)
        self.params = ParamsTree()
        layout.addWidget(self.params, 2)

    def show_sample(
        self,
        title: str,
        images: list[tuple[str, np.ndarray]],
        row: dict[str, Any],
        fields: dict[str, Field],
        labels: np.ndarray | None = None,
        other: dict[str, Any] | None = None,
    ) -> None:
        self.title.setText(title)
        self.images.show_images(images)
        occluder = int((row.get("params") or {}).get("occluder_class", 255))
        self.legend.setText("" if labels is None else legend_html(labels, occluder))
        self.legend.setVisible(labels is not None)
        self.params.show_row(row, fields, other)

    def show_problem(self, text: str) -> None:
        self.title.setText(f"⚠ {text}")
        self.images.show_images([])
        self.params.clear()
