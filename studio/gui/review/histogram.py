"""A field's filter: its histogram over every row (grey) and over the rows kept (colour),
with a draggable range under it (numbers) or its values to tick (choices).

Counts are NumPy ``bincount`` over bar ids made once per column (:mod:`...review.query`), and
only for filters on screen: a painted histogram asks for its counts when they are stale.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QDoubleRangeSlider

from studio.core.export.review.fields import Field
from studio.core.export.review.query import Column, Filter, bin_ids, counts, edges

ALL = QColor(90, 94, 102)
KEPT = QColor(88, 166, 255)
CHOICES_SHOWN = 40  #: values of a choice listed (the most frequent)
STEPS = 1000  #: slider positions across a number's range


class Histogram(QWidget):
    """Bars of ``all`` counts, and the ``kept`` counts over them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.all = np.zeros(0, np.int64)
        self.kept = np.zeros(0, np.int64)
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(200, 34)

    def set_counts(self, all_rows: np.ndarray, kept: np.ndarray) -> None:
        self.all, self.kept = all_rows, kept
        self.update()

    def paintEvent(self, _event) -> None:
        if not len(self.all):
            return
        painter = QPainter(self)
        w, h = self.width(), self.height()
        top = max(1, int(self.all.max()))
        bar = w / len(self.all)
        for i, (a, k) in enumerate(zip(self.all, self.kept, strict=True)):
            for count, colour in ((a, ALL), (k, KEPT)):
                if count:
                    height = max(1.0, (h - 2) * count / top)
                    rect = QRectF(i * bar + 0.5, h - height, max(1.0, bar - 1), height)
                    painter.fillRect(rect, colour)
        painter.end()


class FieldFilter(QWidget):
    """The filter of one field (``changed`` after an edit, throttled while dragging)."""

    changed = Signal(str)

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.column: Column | None = None
        self._ids = np.zeros(0, np.int64)
        self._edges = np.zeros(0)
        self._bars = 0
        self._stale = True
        self._prepared = False
        self._kept: np.ndarray | None = None
        self._unticked: set[int] = set()  #: choice codes left out
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 6)
        layout.setSpacing(1)
        head = QHBoxLayout()
        self.title = QLabel(field.label)
        self.title.setToolTip(field.tip or field.key)
        self.range_label = QLabel()
        self.range_label.setObjectName("hint")
        self.reset = QToolButton()
        self.reset.setText("×")
        self.reset.setToolTip("Clear this filter")
        self.reset.setAutoRaise(True)
        self.reset.clicked.connect(self.clear)
        self.reset.hide()
        head.addWidget(self.title, 1)
        head.addWidget(self.range_label)
        head.addWidget(self.reset)
        layout.addLayout(head)
        self.title.setMinimumWidth(40)
        self.histogram = Histogram()
        self.slider: QDoubleRangeSlider | None = None
        self.values: QListWidget | None = None
        if field.kind == "number":
            layout.addWidget(self.histogram)
            self.slider = QDoubleRangeSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, STEPS)
            self.slider.setValue((0, STEPS))
            self.slider.valueChanged.connect(self._dragged)
            layout.addWidget(self.slider)
        else:
            self.values = QListWidget()
            self.values.setMaximumHeight(112)
            self.values.itemChanged.connect(self._ticks_changed)
            layout.addWidget(self.values)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._emit)

    # ---- data -----------------------------------------------------------------------------------
    def set_column(self, column: Column) -> None:
        """The field's values (again, when more rows were read): its bars are made when the
        filter is next painted (a filter scrolled out of view costs nothing)."""
        self.column = column
        self._prepared = False
        self._stale = True
        self.update()

    def _prepare(self) -> None:
        """Bars of the column: a number's range (the range chosen kept), or a choice's values."""
        if self._prepared or self.column is None:
            return
        self._prepared = True
        column = self.column
        if self.field.kind == "number":
            low, high = self._range()
            self._edges = edges(column)
            self._bars = len(self._edges) - 1
            self._set_range(low, high)
        else:
            self._bars = len(column.labels or ())
        self._ids = bin_ids(column, self._edges)
        if self.values is not None:
            self._fill_values()

    def set_kept(self, kept: np.ndarray) -> None:
        """The rows every filter keeps: the counts are made again when next painted."""
        self._kept = kept
        self._stale = True
        self.update()

    def refresh_counts(self) -> None:
        self._prepare()
        if not self._stale or self.column is None or len(self._ids) != len(self.column.values):
            return
        self._stale = False
        total = counts(self._ids, self._bars)
        kept = total if self._kept is None or len(self._kept) != len(self._ids) else (
            counts(self._ids, self._bars, self._kept)
        )  # fmt: skip
        if self.values is None:
            self.histogram.set_counts(total, kept)
        else:
            self._label_values(total, kept)

    def paintEvent(self, event) -> None:
        self.refresh_counts()  # only filters on screen are painted
        super().paintEvent(event)

    # ---- numbers --------------------------------------------------------------------------------
    def _range(self) -> tuple[float, float]:
        """The range chosen, in the field's values (the whole range: -inf, inf)."""
        if self.slider is None or not len(self._edges):
            return -np.inf, np.inf
        a, b = self.slider.value()
        lo, hi = float(self._edges[0]), float(self._edges[-1])
        low = -np.inf if a <= 0 else lo + (hi - lo) * a / STEPS
        high = np.inf if b >= STEPS else lo + (hi - lo) * b / STEPS
        return low, high

    def _set_range(self, low: float, high: float) -> None:
        assert self.slider is not None
        lo, hi = float(self._edges[0]), float(self._edges[-1])
        a = 0 if not np.isfinite(low) else (low - lo) / (hi - lo) * STEPS
        b = STEPS if not np.isfinite(high) else (high - lo) / (hi - lo) * STEPS
        self.slider.blockSignals(True)
        self.slider.setValue((max(0.0, a), min(float(STEPS), b)))
        self.slider.blockSignals(False)
        self._show_range()

    def set_range(self, low: float, high: float) -> None:
        """Keep ``low <= value <= high`` (as a drag would)."""
        self._prepare()
        if len(self._edges):
            self._set_range(low, high)
            self._emit()

    def _dragged(self, _value) -> None:
        self._show_range()
        self._timer.start()

    def _show_range(self) -> None:
        low, high = self._range()
        d = self.field.decimals
        if np.isfinite(low) or np.isfinite(high):
            lo = f"{low:.{d}f}" if np.isfinite(low) else "…"
            hi = f"{high:.{d}f}" if np.isfinite(high) else "…"
            self.range_label.setText(f"{lo} – {hi}")
        elif len(self._edges):
            self.range_label.setText(f"{self._edges[0]:.{d}f} – {self._edges[-1]:.{d}f}")

    # ---- choices --------------------------------------------------------------------------------
    def _fill_values(self) -> None:
        """List the most frequent values, each ticked unless left out."""
        assert self.values is not None and self.column is not None
        total = counts(self._ids, self._bars)
        shown = [int(c) for c in np.argsort(-total, kind="stable")[:CHOICES_SHOWN] if total[c]]
        self.values.blockSignals(True)
        self.values.clear()
        for code in shown:
            item = QListWidgetItem(self.column.labels[code])  # type: ignore[index]
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            off = code in self._unticked
            item.setCheckState(Qt.CheckState.Unchecked if off else Qt.CheckState.Checked)
            self.values.addItem(item)
        self.values.blockSignals(False)

    def _label_values(self, total: np.ndarray, kept: np.ndarray) -> None:
        assert self.values is not None and self.column is not None
        labels = self.column.labels or []
        self.values.blockSignals(True)
        for i in range(self.values.count()):
            item = self.values.item(i)
            code = int(item.data(Qt.ItemDataRole.UserRole))
            item.setText(f"{labels[code]}  ({kept[code]:,} / {total[code]:,})")
        self.values.blockSignals(False)

    def _ticks_changed(self, item: QListWidgetItem) -> None:
        code = int(item.data(Qt.ItemDataRole.UserRole))
        if item.checkState() == Qt.CheckState.Checked:
            self._unticked.discard(code)
        else:
            self._unticked.add(code)
        self._emit()

    def set_choices(self, labels: set[str]) -> None:
        """Keep only the values ``labels`` (as unticking every other would)."""
        assert self.column is not None
        self._prepare()
        every = enumerate(self.column.labels or ())
        self._unticked = {code for code, label in every if label not in labels}
        self._fill_values()
        self._stale = True
        self.refresh_counts()
        self._emit()

    # ---- the filter -----------------------------------------------------------------------------
    def filter(self) -> Filter | None:
        """What this field keeps (None: everything)."""
        if self.field.kind == "number":
            low, high = self._range()
            if not (np.isfinite(low) or np.isfinite(high)):
                return None
            return Filter(self.field.key, low=low, high=high)
        if not self._unticked or self.column is None:
            return None
        every = set(range(len(self.column.labels or ())))
        return Filter(self.field.key, codes=frozenset(every - self._unticked))

    def clear(self) -> None:
        if self.slider is not None:
            self.slider.setValue((0, STEPS))
        if self.values is not None and self._unticked:
            self._unticked = set()
            self._fill_values()
            self._stale = True
            self.refresh_counts()
        self._emit()

    def _emit(self) -> None:
        self._timer.stop()
        self.reset.setVisible(self.filter() is not None)
        self.changed.emit(self.field.key)
