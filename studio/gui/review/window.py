"""The Review window: one export's samples (or two exports side by side) in a window of its
own, opened from the studio (File > Open export…, a dropped export folder, the end of an
export) or the shell (``python main.py --review DIR``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QWidget

from studio.core.export.records import is_export
from studio.core.io.thumbnails import ThumbnailStore
from studio.gui.review.view import ReviewView


class ReviewWindow(QMainWindow):
    """A window around a :class:`ReviewView`."""

    openInEditor = Signal(str, object)  #: export folder, manifest row
    closed = Signal(object)

    def __init__(
        self,
        store: ThumbnailStore | None = None,
        synchronous: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = ReviewView(store, synchronous)
        self.view.openInEditor.connect(self.openInEditor.emit)
        self.view.problem.connect(self.show_message)
        self.messages: list[str] = []
        self.setCentralWidget(self.view)
        self.resize(1560, 940)
        self.setAcceptDrops(True)
        self._menus()

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        opening = self._act("&Open export…", self.open_dialog, QKeySequence.StandardKey.Open)
        file_menu.addAction(opening)
        file_menu.addAction(self._act("&Compare with…", lambda: self.open_dialog(compare=True)))
        file_menu.addSeparator()
        file_menu.addAction(self._act("&Close", self.close, QKeySequence.StandardKey.Close))
        edit = self.menuBar().addMenu("&Edit")
        for act in (self.view.act_undo, self.view.act_redo):
            edit.addAction(act)
        edit.addSeparator()
        for act in (self.view.act_reject, self.view.act_flag, self.view.act_clear):
            edit.addAction(act)
        sample = self.menuBar().addMenu("&Sample")
        sample.addAction(self._act("Open in &editor", self.view.open_in_editor, "Ctrl+E"))

    def _act(self, text: str, slot, keys=None) -> QAction:
        act = QAction(text, self)
        if keys is not None:
            act.setShortcut(QKeySequence(keys))
        act.triggered.connect(slot)
        return act

    def open(self, out: str | Path, compare: bool = False) -> None:
        """Review ``out`` (beside the export shown when ``compare``)."""
        self.view.open(out, compare)
        names = [s.out.name for s in self.view.sessions]
        self.setWindowTitle(f"Review — {' | '.join(names)} — Occlusion Studio")

    def open_dialog(self, compare: bool = False) -> None:
        what = "Compare with export" if compare else "Open export"
        folder = QFileDialog.getExistingDirectory(self, f"{what} (a folder with manifest.jsonl)")
        if folder:
            self.open(folder, compare=compare and bool(self.view.sessions))

    def show_message(self, text: str) -> None:
        self.messages.append(text)
        self.statusBar().showMessage(f"⚠ {text}", 10000)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        """A dropped export folder: reviewed here (with Shift: compared beside this one)."""
        compare = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        for url in event.mimeData().urls():
            if is_export(url.toLocalFile()):
                self.open(url.toLocalFile(), compare=compare and bool(self.view.sessions))
                return
        self.show_message("not an export folder (no manifest.jsonl)")

    def when_idle(self, callback, waited_ms: int = 0, limit_ms: int = 60_000) -> None:
        """Call ``callback`` once rows, pictures and the thumbnails in view are in."""
        if self.view.busy() and waited_ms < limit_ms:
            QTimer.singleShot(50, lambda: self.when_idle(callback, waited_ms + 50, limit_ms))
        else:
            callback()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.view.shutdown()
        self.closed.emit(self)
        event.accept()
