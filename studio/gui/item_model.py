"""The list model of a browser: every id of a source, filtered, with thumbnails where made.

The model is a :class:`QStringListModel` (a :class:`QAbstractListModel` whose row count and
indexes live in C++): a view lays out 100,000 rows without one Python call per row, so
opening or filtering a source of any size costs the UI thread only a list copy. ``data`` (in
Python) is asked only for the rows painted: their name, tooltip and thumbnail. Thumbnails are
kept in memory for the rows seen last (a bounded LRU); the others show a placeholder and are
made again (from the disk cache) when they come back into view.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from itertools import pairwise

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QStringListModel, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap

from studio.core.engine.cache import BoundedCache

ID_ROLE = Qt.ItemDataRole.UserRole
PIXMAP_BYTES = 24 * 2**20  #: memory for the thumbnails kept


def placeholder(side: int, dpr: float, warning: bool = False) -> QIcon:
    """A grey square (with a warning sign for items that cannot be read)."""
    pix = QPixmap(round(side * dpr), round(side * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(QColor(58, 61, 66))
    if warning:
        painter = QPainter(pix)
        painter.setPen(QColor(255, 190, 70))
        font = painter.font()
        font.setPixelSize(side // 2)
        painter.setFont(font)
        painter.drawText(0, 0, side, side, Qt.AlignmentFlag.AlignCenter, "⚠")
        painter.end()
    return QIcon(pix)


class ItemModel(QStringListModel):
    """The ids of a source (sorted), the ones matching a filter text as rows."""

    def __init__(self, side: int = 84, dpr: float = 1.0) -> None:
        super().__init__()
        self.side, self.dpr = side, dpr
        self.all_ids: list[str] = []
        self.rows: list[str] = []
        self.needle = ""
        self.errors: dict[str, str] = {}
        self._sorted = True  #: rows can be found by bisection (sources list ids sorted)
        self._row_of: dict[str, int] | None = None  #: else an index, made when needed
        self._icons = BoundedCache(PIXMAP_BYTES)  #: QIcons, sized by their image's bytes
        self._placeholder = placeholder(side, dpr)
        self._broken = placeholder(side, dpr, warning=True)

    # ---- contents -----------------------------------------------------------------------------
    def set_ids(self, ids: Sequence[str]) -> None:
        """Show ``ids`` (thumbnails and errors of the previous source are forgotten)."""
        self.all_ids = list(ids)
        self._sorted = all(a < b for a, b in pairwise(self.all_ids))
        self.errors.clear()
        self._icons.clear()
        self._apply(self.needle, force=True)

    def set_filter(self, text: str) -> bool:
        """Keep the rows whose id contains ``text`` (case-insensitive); True when they changed."""
        return self._apply(text.strip().lower())

    def _apply(self, needle: str, force: bool = False) -> bool:
        if needle == self.needle and not force:
            return False
        self.needle = needle
        if needle:
            self.rows = [i for i in self.all_ids if needle in i.lower()]
        else:
            self.rows = self.all_ids
        self._row_of = None
        self.setStringList(self.rows)
        return True

    def id_at(self, row: int) -> str | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, item_id: str) -> int | None:
        """The row showing ``item_id`` (None when filtered out or unknown)."""
        if self._sorted:
            row = bisect.bisect_left(self.rows, item_id)
            return row if row < len(self.rows) and self.rows[row] == item_id else None
        if self._row_of is None:
            self._row_of = {item_id: row for row, item_id in enumerate(self.rows)}
        return self._row_of.get(item_id)

    # ---- thumbnails ---------------------------------------------------------------------------
    def has_thumbnail(self, item_id: str) -> bool:
        return item_id in self._icons or item_id in self.errors

    def set_thumbnail(self, item_id: str, image: QImage | str) -> None:
        """The thumbnail of ``item_id`` (or the reason it cannot be read) arrived."""
        if isinstance(image, str):
            self.errors[item_id] = image
        else:
            pix = QPixmap.fromImage(image)
            pix.setDevicePixelRatio(self.dpr)
            self._icons.put(item_id, QIcon(pix), image.sizeInBytes())
        row = self.row_of(item_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        row = index.row()
        if not index.isValid() or row >= len(self.rows):
            return None
        item_id = self.rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            name = item_id.rpartition("/")[2]
            return f"⚠ {name}" if item_id in self.errors else name
        if role == Qt.ItemDataRole.DecorationRole:
            kept = self._icons.find(item_id)
            if kept is not None:
                return kept
            return self._broken if item_id in self.errors else self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            error = self.errors.get(item_id)
            return f"{item_id}: {error}" if error else item_id
        if role == ID_ROLE:
            return item_id
        return None
