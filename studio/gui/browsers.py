"""Thumbnail browsers over the face, occluder and texture sources, at any size.

A browser is a virtualised list (:class:`~studio.gui.item_model.ItemModel` in a
:class:`QListView`): opening a source of 30,000 items costs the UI thread a list copy, and
thumbnails are made only for the rows in view plus one row above and below, by a
:class:`~studio.gui.thumbnailer.Thumbnailer` that drops the rows scrolled away. A filter box
narrows the list (the selected item stays selected, at its place on screen) and a count
says how many rows match; arrow keys, Page Up/Down, Home and End choose items. "Open…" or
dropping a folder or file opens another source.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.io.thumbnails import ThumbnailStore
from studio.core.model.errors import StudioError
from studio.gui.elided import ElidedLabel, breakable
from studio.gui.item_model import ItemModel
from studio.gui.thumbnailer import Thumbnailer
from studio.gui.wording import error_text

THUMB = 84  #: thumbnail side in logical pixels (made at this times the device pixel ratio)
MARGIN_ROWS = 1  #: rows above and below the view whose thumbnails are made too


class TileDelegate(QStyledItemDelegate):
    """Draws an item as a tile: the thumbnail above its name (elided to the tile's width)."""

    def __init__(self, size: QSize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size = size

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:
        super().initStyleOption(option, index)
        option.decorationPosition = QStyleOptionViewItem.Position.Top
        option.decorationAlignment = Qt.AlignmentFlag.AlignHCenter
        option.displayAlignment = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        option.textElideMode = Qt.TextElideMode.ElideMiddle

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        return self.size


class TileView(QListView):
    """A wrapping list of tiles with per-pixel scrolling.

    List mode with wrapping lays out uniform items much faster than icon mode; the tile look
    comes from :class:`TileDelegate`."""

    def __init__(self, parent: QWidget | None = None, side: int = THUMB) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setIconSize(QSize(side, side))
        self.setGridSize(QSize(side + 12, side + 22))
        self.setWordWrap(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setItemDelegate(TileDelegate(QSize(side + 8, side + 20), self))
        self.setObjectName("tiles")

    def scrollTo(self, index, hint=QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        """Bring ``index`` into view (keys, a choice) and stop on a row boundary, so the top
        row is never cut under the browser's header."""
        super().scrollTo(index, hint)
        bar = self.verticalScrollBar()
        row_h = self.gridSize().height()
        value = bar.value()
        if row_h <= 0 or value % row_h == 0 or value >= bar.maximum():
            return
        down = min(bar.maximum(), (value // row_h + 1) * row_h)
        up = (value // row_h) * row_h
        shift = down - value
        # the next boundary down unless that hides the item's top; else the one up
        bar.setValue(down if self.visualRect(index).top() - shift >= 0 else up)


def rows_in_view(view: QListView, count: int, margin_rows: int) -> tuple[list[int], list[int]]:
    """The rows of a wrapping list (of ``count`` rows) in view, and those within
    ``margin_rows`` lines above and below it, each in list order."""
    if count == 0:
        return [], []
    port = view.viewport().rect()
    grid = view.gridSize()
    cols = max(1, port.width() // max(1, grid.width()))
    top = view.verticalScrollBar().value()
    first = max(0, top // grid.height() - margin_rows - 1) * cols
    lines = (top + port.height()) // grid.height() + margin_rows + 2
    last = min(count, lines * cols)
    near = port.adjusted(0, -margin_rows * grid.height(), 0, margin_rows * grid.height())
    inside: list[int] = []
    around: list[int] = []
    model = view.model()
    for row in range(first, last):
        rect: QRect = view.visualRect(model.index(row, 0))
        if rect.intersects(port):
            inside.append(row)
        elif rect.intersects(near):
            around.append(row)
    return inside, around


class Browser(QWidget):
    """A thumbnail grid over one source."""

    chosen = Signal(str)  #: the user chose an item id (click or keys)
    #: a folder or file to open in this browser, and the item to choose in it ("": the first)
    folderChosen = Signal(str, str)
    bundledWanted = Signal()  #: the user asked for the bundled samples (the Open… menu)

    def __init__(
        self,
        title: str,
        store: ThumbnailStore | None = None,
        yield_to: Callable[[], bool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.role = title.lower()
        self.source = None
        self._generation = 0
        self._current_id: str | None = None
        self._quiet = False
        dpr = self.devicePixelRatioF()
        self.model = ItemModel(THUMB, dpr)
        self.thumbs = Thumbnailer(
            self.role, store if store is not None else ThumbnailStore(), yield_to,
            name=f"thumbs-{self.role}",
        )  # fmt: skip
        self.thumbs.ready.connect(self._thumb_ready)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(f"Filter {self.role}…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Show the items whose path contains this text (Enter: to the list)")
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.returnPressed.connect(self._focus_list)
        top.addWidget(self.filter, 1)
        self.count = QLabel()
        self.count.setObjectName("hint")
        self.count.setToolTip("Items matching the filter, of all the items of the source")
        self.count.hide()
        top.addWidget(self.count)
        self.open_button = QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip(
            f"Open {self.role}: a folder in any layout the studio reads (or drop one here)"
        )
        self.open_button.clicked.connect(self._open_folder)
        menu = QMenu(self.open_button)
        menu.addAction("Folder…", self._open_folder)
        if title == "Occluders":  # COCO instances are a file, not a folder
            menu.addAction("COCO annotations (.json)…", self._open_file)
        menu.addSeparator()
        menu.addAction("Bundled samples", self.bundledWanted.emit)
        self.open_button.setMenu(menu)
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        top.addWidget(self.open_button)
        layout.addLayout(top)
        self.where = ElidedLabel()
        self.where.setObjectName("hint")
        layout.addWidget(self.where)
        #: why the source did not open, or why the last Open… failed (until another opens)
        self.problem = QLabel()
        self.problem.setObjectName("error")
        self.problem.setWordWrap(True)
        self.problem.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.list = TileView()
        self.list.setModel(self.model)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.list.verticalScrollBar().valueChanged.connect(self._schedule)
        layout.addWidget(self.list, 1)
        self._want_timer = QTimer(self)
        self._want_timer.setSingleShot(True)
        self._want_timer.setInterval(0)
        self._want_timer.timeout.connect(self._want_visible)
        self.setAcceptDrops(True)

    # ---- the source ---------------------------------------------------------------------------
    def set_source(self, source, label: str, tooltip: str | None = None) -> None:
        """Show ``source``'s items under ``label`` (its layout and counts). Its ids come from
        its scan (names only; already done by whoever opened it); thumbnails follow for the
        rows in view."""
        self.source = source
        failed = getattr(source, "layout", "") == "failed"
        self.where.setObjectName("error" if failed else "hint")
        self.where.style().polish(self.where)  # the object name's style
        self.where.setText(label)
        self.where.setToolTip(tooltip or label)
        self.clear_problem()
        if failed:
            self.show_problem(getattr(source, "reason", ""))
        try:
            ids = source.ids()
        except StudioError as err:
            self.where.setText(f"⚠ {error_text(err)}")
            ids = []
        self._generation = self.thumbs.set_source(source, round(THUMB * self.model.dpr))
        self._current_id = None
        self.model.set_ids(ids)
        self.list.scrollToTop()
        self._update_count()
        self._schedule()

    def show_problem(self, text: str) -> None:
        """Say under the header why the source did not open, or why an Open… failed (the
        browser then keeps its source)."""
        self.problem.setText(breakable(text))
        self.problem.setToolTip(text)
        self.problem.show()

    def clear_problem(self) -> None:
        self.problem.hide()
        self.problem.setText("")

    def ids(self) -> list[str]:
        """Every id of the source (filtered or not)."""
        return self.model.all_ids

    def current_id(self) -> str | None:
        return self._current_id

    def select(self, item_id: str) -> None:
        """Make ``item_id`` the selected item (without emitting ``chosen``) and show it."""
        self._current_id = item_id
        row = self.model.row_of(item_id)
        if row is None:
            self.list.clearSelection()
            return
        index = self.model.index(row)
        self._set_current(index)
        self.list.scrollTo(index)

    def _set_current(self, index: QModelIndex) -> None:
        self._quiet = True
        try:
            self.list.setCurrentIndex(index)
        finally:
            self._quiet = False

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._quiet or not current.isValid():
            return
        item_id = self.model.id_at(current.row())
        if item_id is not None and item_id != self._current_id:
            self._current_id = item_id
            self.chosen.emit(item_id)

    # ---- filter -------------------------------------------------------------------------------
    def _apply_filter(self, text: str) -> None:
        current = self._current_id
        old_top = self._row_top(current)
        if not self.model.set_filter(text):
            return
        row = None if current is None else self.model.row_of(current)
        if row is not None:
            index = self.model.index(row)
            self._set_current(index)
            if old_top is None:
                self.list.scrollTo(index)
            else:  # the selected item keeps its place on screen
                bar = self.list.verticalScrollBar()
                bar.setValue(bar.value() + self.list.visualRect(index).top() - old_top)
        self._update_count()
        self._schedule()

    def _row_top(self, item_id: str | None) -> int | None:
        """Where ``item_id``'s tile is in the viewport (its top), None when not in view."""
        row = None if item_id is None else self.model.row_of(item_id)
        if row is None:
            return None
        rect = self.list.visualRect(self.model.index(row))
        return rect.top() if rect.intersects(self.list.viewport().rect()) else None

    def _update_count(self) -> None:
        shown, total = len(self.model.rows), len(self.model.all_ids)
        self.count.setText(f"{shown:,} of {total:,}")
        self.count.setVisible(bool(self.model.needle))  # the header has the total

    def _focus_list(self) -> None:
        self.list.setFocus()
        if not self.list.currentIndex().isValid() and self.model.rows:
            self.list.setCurrentIndex(self.model.index(0))

    # ---- thumbnails of the rows in view -------------------------------------------------------
    def visible_ids(self, margin_rows: int = MARGIN_ROWS) -> list[str]:
        """Ids of the rows in view (and ``margin_rows`` rows above and below), those in view
        first, each group in list order."""
        if not self.list.isVisible():
            return []
        inside, around = rows_in_view(self.list, len(self.model.rows), margin_rows)
        return [self.model.rows[row] for row in inside + around]

    @property
    def pending(self) -> int:
        """Thumbnails of the rows in view not shown yet (0 while the browser is hidden)."""
        return sum(1 for i in self.visible_ids(0) if not self.model.has_thumbnail(i))

    def _schedule(self, *_args) -> None:
        self._want_timer.start()

    def _want_visible(self) -> None:
        wanted = [i for i in self.visible_ids() if not self.model.has_thumbnail(i)]
        self.thumbs.want(wanted)

    def _thumb_ready(self, generation: int, item_id: str, image) -> None:
        if generation == self._generation:
            self.model.set_thumbnail(item_id, image)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._schedule()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.thumbs.want([])  # a hidden browser makes no thumbnails

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._schedule()

    # ---- opening ------------------------------------------------------------------------------
    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            f"Open {self.role}: a folder in any layout (images + masks, X_img + X_mask, "
            "CelebAMask-HQ, photos, RGBA cut-outs, the reference dataset/ folder)",
        )
        if folder:
            self.folderChosen.emit(folder, "")

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open COCO instances annotations", "", "COCO annotations (*.json)"
        )
        if path:
            self.folderChosen.emit(path, "")

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            path = Path(url.toLocalFile())
            if path.is_dir() or path.suffix.lower() == ".json":
                self.folderChosen.emit(str(path), "")
                return
            if path.is_file():
                self.folderChosen.emit(str(path.parent), path.name)
                return

    def shutdown(self) -> None:
        self._want_timer.stop()
        self.thumbs.shutdown()
