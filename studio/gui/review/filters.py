"""The filter panel: a histogram filter for every field whose value varies, by group.

The fields come from the index (:mod:`studio.core.export.review.fields`: the parameter table
and the rows themselves); the decision is one more choice. A field joins the panel as soon as
the rows read so far hold two values of it. A box narrows the panel to the fields whose name
holds its text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.export.review.fields import DECISION, REVIEW_GROUP, STATS_GROUP, Field, describe
from studio.core.export.review.index import ReviewIndex
from studio.core.export.review.query import Column, Filter, column
from studio.gui.review.histogram import FieldFilter

DECISION_FIELD = describe(DECISION, "choice", in_params=False)
ADD_PER_TURN = 1  #: filters made per turn of the event loop


class FilterPanel(QWidget):
    """Histogram filters of the varying fields (``changed``: key, its Filter or None)."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filters: dict[str, FieldFilter] = {}
        self._headers: dict[str, QLabel] = {}
        self._waiting: list[Field] = []
        self._index: ReviewIndex | None = None
        self._extra: dict[str, Column] = {}
        self._adding = QTimer(self)
        self._adding.setSingleShot(True)
        self._adding.setInterval(0)
        self._adding.timeout.connect(self._add_some)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a field…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._narrow)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Clear every filter")
        self.reset_button.clicked.connect(self.reset)
        top.addWidget(self.search, 1)
        top.addWidget(self.reset_button)
        layout.addLayout(top)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.rows = QVBoxLayout(self.body)
        self.rows.setContentsMargins(2, 2, 2, 2)
        self.rows.addStretch(1)
        self.scroll.setWidget(self.body)
        layout.addWidget(self.scroll, 1)

    def set_index(
        self, index: ReviewIndex, varying: list[Field], extra: dict[str, Column]
    ) -> None:
        """The fields' columns (rows were read, or decisions taken); the ``varying`` fields
        not shown yet join, a few per turn of the event loop (making dozens of widgets at
        once would hold the UI thread). While the export is still read, the filters shown
        keep the rows they have (their bars are made again once it is read in full)."""
        self._index, self._extra = index, extra
        known = set(self.filters) | {f.key for f in self._waiting}
        stats_first = sorted(varying, key=lambda f: f.group != STATS_GROUP)  # coverage on top
        self._waiting += [f for f in [DECISION_FIELD, *stats_first] if f.key not in known]
        if index.complete:
            for key, widget in self.filters.items():
                widget.set_column(column(index, key, extra))
        if self._waiting:
            self._adding.start()

    def _add_some(self) -> None:
        for field in self._waiting[:ADD_PER_TURN]:
            self._add(field)
            if self._index is not None:
                self.filters[field.key].set_column(column(self._index, field.key, self._extra))
        del self._waiting[:ADD_PER_TURN]
        if self._waiting:
            self._adding.start()

    def pending(self) -> int:
        """Filters still to be made."""
        return len(self._waiting)

    def set_decisions(self, decisions: Column) -> None:
        widget = self.filters.get(DECISION)
        if widget is not None:
            widget.set_column(decisions)

    def _add(self, field: Field) -> None:
        group = REVIEW_GROUP if field.key == DECISION else field.group
        if group not in self._headers:
            header = QLabel(group)
            header.setObjectName("sectionTitle")
            header.setStyleSheet("font-weight: bold; margin-top: 6px;")
            self._headers[group] = header
            self.rows.insertWidget(self._group_end(group), header)
        widget = FieldFilter(field)
        widget.setProperty("group", group)
        widget.changed.connect(lambda key: self.changed.emit(key, self.filters[key].filter()))
        self.rows.insertWidget(self._group_end(group), widget)
        self.filters[field.key] = widget
        if self.search.text().strip():
            self._narrow(self.search.text())

    def _group_end(self, group: str) -> int:
        """Where the next widget of ``group`` goes (after its last one; new groups last)."""
        at = None
        for i in range(self.rows.count()):
            widget = self.rows.itemAt(i).widget()
            if widget is None:
                continue
            if widget is self._headers.get(group) or widget.property("group") == group:
                at = i + 1
        return self.rows.count() - 1 if at is None else at

    def show_filter(self, key: str) -> None:
        """Scroll the panel to the filter of ``key``."""
        widget = self.filters.get(key)
        if widget is not None:
            self.scroll.ensureWidgetVisible(widget)

    def set_kept(self, kept) -> None:
        for widget in self.filters.values():
            widget.set_kept(kept)

    def active(self) -> dict[str, Filter]:
        return {k: f for k, w in self.filters.items() if (f := w.filter()) is not None}

    def reset(self) -> None:
        for widget in self.filters.values():
            if widget.filter() is not None:
                widget.clear()

    def _narrow(self, text: str) -> None:
        needle = text.strip().lower()
        groups_shown: set[str] = set()
        for key, widget in self.filters.items():
            shown = not needle or needle in widget.field.label.lower() or needle in key.lower()
            widget.setVisible(shown)
            if shown:
                groups_shown.add(str(widget.property("group")))
        for group, header in self._headers.items():
            header.setVisible(group in groups_shown)
