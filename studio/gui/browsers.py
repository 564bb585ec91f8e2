"""Thumbnail browsers over the face, occluder and texture sources.

Thumbnails load on a background thread (the list shows names at once); a filter box narrows
the list; "Open folder…" or dropping a folder or file switches the source.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.inputs import Face, Occluder, Texture
from studio.gui.canvas import to_qimage

THUMB = 84


def thumbnail(item: Face | Occluder | Texture, side: int = THUMB) -> np.ndarray:
    """A small RGB picture of an input (occluders over a checkerboard)."""
    image = item.image
    if isinstance(item, Occluder):
        h, w = image.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        checker = np.where(((yy // 12 + xx // 12) % 2)[..., None] == 0, 70, 100).astype(np.float32)
        a = item.alpha.astype(np.float32)[..., None] / 255.0
        image = (image * a + checker * (1 - a)).astype(np.uint8)
    h, w = image.shape[:2]
    f = side / max(h, w)
    return cv2.resize(
        image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
    )


class Browser(QWidget):
    """A thumbnail grid over one source."""

    chosen = Signal(str)  #: an item id was clicked
    folderChosen = Signal(str)
    thumbReady = Signal(int, str, object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.source = None
        self._generation = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"thumbs-{title}")
        self._items: dict[str, QListWidgetItem] = {}
        self.pending = 0  #: thumbnails not loaded yet
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(f"Filter {title.lower()}…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        top.addWidget(self.filter, 1)
        self.open_button = QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip(
            f"Open {title.lower()}: a folder in any layout the studio reads (or drop one here)"
        )
        self.open_button.clicked.connect(self._open_folder)
        if title == "Occluders":  # COCO instances are a file, not a folder
            menu = QMenu(self.open_button)
            menu.addAction("Folder…", self._open_folder)
            menu.addAction("COCO annotations (.json)…", self._open_file)
            self.open_button.setMenu(menu)
            self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        top.addWidget(self.open_button)
        layout.addLayout(top)
        self.where = QLabel()
        self.where.setObjectName("hint")
        layout.addWidget(self.where)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 12, THUMB + 22))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(False)
        self.list.itemClicked.connect(
            lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        layout.addWidget(self.list, 1)
        self.setAcceptDrops(True)
        self.thumbReady.connect(self._set_thumb)

    def set_source(self, source, label: str, tooltip: str | None = None) -> None:
        """Show ``source``'s items under ``label`` (its layout and counts); thumbnails follow
        in the background."""
        self.source = source
        self._generation += 1
        self.list.clear()
        self._items.clear()
        self.pending = 0
        self.where.setText(label)
        self.where.setToolTip(tooltip or label)
        try:
            ids = source.ids()
        except StudioError as err:
            self.where.setText(f"⚠ {err.line()}")
            return
        placeholder = QPixmap(THUMB, THUMB)
        placeholder.fill(Qt.GlobalColor.darkGray)
        for item_id in ids:
            item = QListWidgetItem(QIcon(placeholder), Path(item_id).name)
            item.setData(Qt.ItemDataRole.UserRole, item_id)
            item.setToolTip(item_id)
            self.list.addItem(item)
            self._items[item_id] = item
            self.pending += 1
            self._pool.submit(self._load_thumb, self._generation, source, item_id)
        self._apply_filter(self.filter.text())

    def _load_thumb(self, generation: int, source, item_id: str) -> None:
        if generation != self._generation:
            return
        try:
            self.thumbReady.emit(generation, item_id, to_qimage(thumbnail(source.load(item_id))))
        except StudioError as err:
            self.thumbReady.emit(generation, item_id, err.reason)
        except Exception as err:  # a broken file must not stop the other thumbnails
            self.thumbReady.emit(generation, item_id, f"{type(err).__name__}: {err}")

    def _set_thumb(self, generation: int, item_id: str, image) -> None:
        item = self._items.get(item_id)
        if generation != self._generation or item is None:
            return
        self.pending = max(0, self.pending - 1)
        if isinstance(image, str):
            item.setToolTip(f"{item_id}: {image}")
            item.setText(f"⚠ {item.text()}")
            return
        item.setIcon(QIcon(QPixmap.fromImage(image)))

    def select(self, item_id: str) -> None:
        item = self._items.get(item_id)
        if item is not None:
            self.list.setCurrentItem(item)

    def ids(self) -> list[str]:
        return list(self._items)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for item_id, item in self._items.items():
            item.setHidden(bool(needle) and needle not in item_id.lower())

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            f"Open {self.title.lower()}: a folder in any layout (images + masks, X_img + X_mask, "
            "CelebAMask-HQ, photos, RGBA cut-outs, the reference dataset/ folder)",
        )
        if folder:
            self.folderChosen.emit(folder)

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open COCO instances annotations", "", "COCO annotations (*.json)"
        )
        if path:
            self.folderChosen.emit(path)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            path = Path(url.toLocalFile())
            if path.is_dir() or path.suffix.lower() == ".json":
                self.folderChosen.emit(str(path))
                return
            if path.is_file():
                self.folderChosen.emit(str(path.parent))
                self.chosen.emit(path.name)
                return

    def shutdown(self) -> None:
        self._generation += 1
        self._pool.shutdown(wait=True, cancel_futures=True)
