"""The list model of the review grid: the rows a query keeps, in its order, as tiles.

The order is a NumPy array of row positions in the :class:`ReviewIndex`. The rows themselves
are those of a :class:`QStringListModel` of empty strings under an identity proxy: their count
and indexes live in C++, so a view lays out 100,000 tiles without a Python call per tile (a
Python ``rowCount`` is asked for once per tile and layout: seconds at that size), and a new
order (a filter dragged, a sort chosen, rows read) costs the UI thread rows added or removed
at the end and a repaint. ``data`` (Python) is asked only for the tiles painted.
Thumbnails arrive by position and are kept for the tiles seen last (a bounded LRU); the others
show a placeholder until made again (from the disk cache).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import (
    QIdentityProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    QStringListModel,
    Qt,
)
from PySide6.QtGui import QIcon, QImage, QPixmap

from studio.core.engine.cache import BoundedCache
from studio.core.export.review.decisions import SHOWN
from studio.core.export.review.index import ReviewIndex
from studio.gui.item_model import PIXMAP_BYTES, placeholder

POSITION_ROLE = Qt.ItemDataRole.UserRole
DECISION_ROLE = Qt.ItemDataRole.UserRole + 1
MISSING = -1  #: a position for a sample the export does not hold (compare: only in the other)


_BLANKS: list[str] = []


def _blank(n: int) -> list[str]:
    """``n`` empty strings (one list kept, sliced)."""
    if len(_BLANKS) < n:
        _BLANKS.extend([""] * (n - len(_BLANKS)))
    return _BLANKS[:n]


class ReviewModel(QIdentityProxyModel):
    """Tiles of the rows of ``order`` (positions; :data:`MISSING` for an empty tile)."""

    def __init__(self, side: int, dpr: float = 1.0) -> None:
        super().__init__()
        self._rows = QStringListModel()  #: as many (empty) rows as tiles, counted in C++
        self.setSourceModel(self._rows)
        self.side, self.dpr = side, dpr
        self.index_: ReviewIndex | None = None
        self.order = np.empty(0, np.int64)
        self.decisions: dict[int, str] = {}  #: standing decision by sample index
        self.caption: str | None = None  #: a field whose value each tile shows
        self.errors: dict[int, str] = {}
        self._icons = BoundedCache(PIXMAP_BYTES)  #: QIcons, sized by their image's bytes
        self._placeholder = placeholder(side, dpr)
        self._broken = placeholder(side, dpr, warning=True)

    # ---- contents -----------------------------------------------------------------------------
    def set_rows(self, index: ReviewIndex, order: np.ndarray) -> bool:
        """Show the rows ``order`` of ``index``. Fewer tiles: the last ones are removed; more:
        the model is reset (a view inserts rows one by one: far slower at this size), so the
        view's selection and scroll position are lost (True is returned). The tiles kept are
        painted again unless the new order only extends the old one."""
        old, n = self.order, len(order)
        extends = n >= len(old) and np.array_equal(order[: len(old)], old)
        self.index_, self.order = index, order
        if n > len(old):
            self._rows.setStringList(_blank(n))
            return True
        if n < len(old):
            self._rows.removeRows(n, len(old) - n)
        if not extends and n:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, 0))
        return False

    def clear_thumbnails(self) -> None:
        """Forget the thumbnails (the view changed: they are made again)."""
        self._icons.clear()
        self.errors.clear()
        self._changed_all()

    def set_decisions(self, decisions: dict[int, str]) -> None:
        self.decisions = decisions
        self._changed_all()

    def set_caption(self, key: str | None) -> None:
        self.caption = key
        self._changed_all()

    def _changed_all(self) -> None:
        if len(self.order):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.order) - 1, 0))

    def position_at(self, row: int) -> int:
        return int(self.order[row]) if 0 <= row < len(self.order) else MISSING

    def sample_at(self, row: int) -> int | None:
        """The sample index shown by tile ``row`` (None: an empty tile)."""
        position = self.position_at(row)
        if position == MISSING or self.index_ is None:
            return None
        return int(self.index_.index[position])

    def row_of(self, position: int) -> int | None:
        """The tile showing row ``position`` (None when the query leaves it out)."""
        found = np.flatnonzero(self.order == position)
        return int(found[0]) if len(found) else None

    # ---- thumbnails ---------------------------------------------------------------------------
    def has_thumbnail(self, position: int) -> bool:
        return position in self._icons or position in self.errors

    def set_thumbnail(self, position: int, image: QImage | str) -> None:
        """The thumbnail of row ``position`` (or why it cannot be made) arrived."""
        if isinstance(image, str):
            self.errors[position] = image
        else:
            pix = QPixmap.fromImage(image)
            pix.setDevicePixelRatio(self.dpr)
            self._icons.put(position, QIcon(pix), image.sizeInBytes())
        row = self.row_of(position)
        if row is not None:
            tile = self.index(row, 0)
            self.dataChanged.emit(tile, tile, [Qt.ItemDataRole.DecorationRole])

    # ---- Qt -----------------------------------------------------------------------------------
    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        row = index.row()
        if not index.isValid() or row >= len(self.order) or self.index_ is None:
            return None
        position = int(self.order[row])
        if role == POSITION_ROLE:
            return position
        if position == MISSING:
            return "not in this export" if role == Qt.ItemDataRole.DisplayRole else None
        sample = int(self.index_.index[position])
        if role == Qt.ItemDataRole.DisplayRole:
            return self._caption(sample, position)
        if role == Qt.ItemDataRole.DecorationRole:
            kept = self._icons.find(position)
            if kept is not None:
                return kept
            return self._broken if position in self.errors else self._placeholder
        if role == DECISION_ROLE:
            return self.decisions.get(sample)
        if role == Qt.ItemDataRole.ToolTipRole:
            error = self.errors.get(position)
            decision = SHOWN.get(self.decisions.get(sample, ""), "")
            lines = [f"sample {sample}" + (f" · {decision}" if decision else "")]
            return "\n".join([*lines, error] if error else lines)
        return None

    def _caption(self, sample: int, position: int) -> str:
        text = f"#{sample}"
        key, index = self.caption, self.index_
        if key is None or index is None:
            return text
        if key in index.numbers:
            value = index.numbers[key][position]
            if np.isnan(value):
                return text
            decimals = index.field(key).decimals
            return f"{text} · {value:.{decimals}f}"
        if key in index.codes:
            return f"{text} · {index.label(key, position)}"
        return text
