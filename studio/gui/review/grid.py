"""The review grid: a virtualised wrapping list of sample tiles, thumbnails only in view.

Thumbnails come from the browsers' :class:`~studio.gui.thumbnailer.Thumbnailer` (one
low-priority thread, newest wish first, the disk cache) over
:class:`~studio.core.export.review.tiles.ExportTiles`; the grid asks for the tiles in view
and one line around them whenever it scrolls, resizes, or its rows change. A rejected tile is
crossed out in red, a flagged one marked in yellow.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygon
from PySide6.QtWidgets import QAbstractItemView, QStyleOptionViewItem, QVBoxLayout, QWidget

from studio.core.export.review.index import ReviewIndex
from studio.core.export.review.tiles import ExportTiles
from studio.core.io.thumbnails import ThumbnailStore
from studio.gui.browsers import TileDelegate, TileView, rows_in_view
from studio.gui.review.model import DECISION_ROLE, MISSING, ReviewModel
from studio.gui.thumbnailer import Thumbnailer

TILE = 128  #: thumbnail side in logical pixels
MARGIN_ROWS = 1
MARKS = {"reject": QColor(235, 60, 60), "flag": QColor(250, 200, 40)}


class DecisionDelegate(TileDelegate):
    """A tile with its decision drawn over it: a red cross (rejected) or a yellow corner
    (flagged)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        decision = index.data(DECISION_ROLE)
        colour = MARKS.get(decision or "")
        if colour is None:
            return
        rect: QRect = option.rect.adjusted(4, 4, -4, -20)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 3))
        painter.drawRect(rect)
        if decision == "reject":
            painter.drawLine(rect.topLeft(), rect.bottomRight())
            painter.drawLine(rect.topRight(), rect.bottomLeft())
        else:
            corner, top = min(rect.width(), rect.height()) // 4, rect.topRight()
            painter.setBrush(colour)
            painter.drawPolygon(QPolygon([top, top - QPoint(corner, 0), top + QPoint(0, corner)]))
        painter.restore()


class ReviewGrid(QWidget):
    """Tiles of an export's rows in a query's order."""

    currentChanged = Signal(int)  #: the tile row made current (-1: none)

    def __init__(
        self,
        store: ThumbnailStore | None = None,
        yield_to: Callable[[], bool] | None = None,
        name: str = "review",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = ReviewModel(TILE, self.devicePixelRatioF())
        self.tiles: ExportTiles | None = None
        self._generation = 0
        self.thumbs = Thumbnailer(
            "review", store if store is not None else ThumbnailStore(), yield_to,
            name=f"thumbs-{name}", lower=False,  # see the thumbnailer: no priority inversion
        )  # fmt: skip
        self.thumbs.ready.connect(self._thumb_ready)
        self.list = TileView(side=TILE)
        self.list.setItemDelegate(DecisionDelegate(QSize(TILE + 8, TILE + 20), self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setModel(self.model)
        self.list.selectionModel().currentChanged.connect(
            lambda current, _old: self.currentChanged.emit(current.row())
        )
        self.list.verticalScrollBar().valueChanged.connect(self.schedule)
        self.model.modelReset.connect(self.schedule)
        self.model.rowsInserted.connect(self.schedule)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self._want_timer = QTimer(self)
        self._want_timer.setSingleShot(True)
        self._want_timer.setInterval(0)
        self._want_timer.timeout.connect(self._want_visible)

    # ---- contents -------------------------------------------------------------------------------
    def set_view(self, index: ReviewIndex, view: str) -> None:
        """Draw ``view`` over the thumbnails from now on (they are made again)."""
        self.tiles = ExportTiles(index, view)
        self._generation = self.thumbs.set_source(self.tiles, round(TILE * self.model.dpr))
        self.model.clear_thumbnails()
        self.schedule()

    def set_rows(self, index: ReviewIndex, order: np.ndarray) -> None:
        """Show rows ``order`` of ``index``: the current tile and the selection stay when
        kept; when rows were only added, the view stays where it was."""
        current = self.current_position()
        chosen = [self.model.position_at(r) for r in self.selected_rows()]
        top = self.list.verticalScrollBar().value()
        if self.tiles is None:
            self.set_view(index, "image")
        assert self.tiles is not None
        self.tiles.index = index  # positions are stable: rows read later are added at the end
        extends = len(order) >= len(self.model.order) and np.array_equal(
            order[: len(self.model.order)], self.model.order
        )
        if not self.model.set_rows(index, order):
            if current != MISSING:
                self.select_position(current)
            return
        self.list.doItemsLayout()  # the reset model laid out now: its scroll range is known
        if extends:
            self.list.verticalScrollBar().setValue(top)
        if current != MISSING:
            self.select_position(current, scroll=not extends)
        selection = self.list.selectionModel()
        for position in chosen:
            row = self.model.row_of(position)
            if row is not None and position != current:
                selection.select(self.model.index(row, 0), selection.SelectionFlag.Select)

    def current_row(self) -> int:
        return self.list.currentIndex().row()

    def current_position(self) -> int:
        return self.model.position_at(self.current_row())

    def selected_rows(self) -> list[int]:
        """The tile rows selected (the current one when none is)."""
        rows = sorted(i.row() for i in self.list.selectionModel().selectedIndexes())
        current = self.current_row()
        return rows or ([current] if current >= 0 else [])

    def select_row(self, row: int, scroll: bool = True) -> None:
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row, 0)
        self.list.setCurrentIndex(index)
        if scroll:
            self.list.scrollTo(index)

    def select_position(self, position: int, scroll: bool = True) -> None:
        row = self.model.row_of(position)
        if row is not None:
            self.select_row(row, scroll)

    # ---- thumbnails of the tiles in view --------------------------------------------------------
    def visible_rows(self, margin_rows: int = MARGIN_ROWS) -> list[int]:
        """Tile rows in view (and ``margin_rows`` lines around), those in view first."""
        if not self.list.isVisible():
            return []
        inside, around = rows_in_view(self.list, self.model.rowCount(), margin_rows)
        return inside + around

    @property
    def pending(self) -> int:
        """Thumbnails of the tiles in view not shown yet."""
        return sum(
            1
            for row in self.visible_rows(0)
            if (p := self.model.position_at(row)) != MISSING and not self.model.has_thumbnail(p)
        )

    def schedule(self, *_args) -> None:
        self._want_timer.start()

    def _want_visible(self) -> None:
        wanted = []
        for row in self.visible_rows():
            position = self.model.position_at(row)
            if position != MISSING and not self.model.has_thumbnail(position):
                wanted.append(str(position))
        self.thumbs.want(wanted)

    def _thumb_ready(self, generation: int, item_id: str, image) -> None:
        if generation == self._generation:
            self.model.set_thumbnail(int(item_id), image)
        else:  # made for the view before: the tile (left out of the new wish while it was
            self.schedule()  # being made) is asked for again


    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.schedule()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.thumbs.want([])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.schedule()

    def shutdown(self) -> None:
        self._want_timer.stop()
        self.thumbs.shutdown()
