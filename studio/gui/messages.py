"""The messages panel: every error and warning the studio shows, kept with time and source.

Sources that do not open, presets that do not load or save, exports and evaluations that fail,
sample tiles that cannot be drawn: each goes to the :class:`MessageLog` (a repeat of the last
message counts up instead of adding a row). The dockable :class:`MessagesDock` lists them; the
status bar's :class:`UnreadButton` shows how many arrived since the panel was last seen, and
opens it. Nothing is shown only for a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.gui.elided import elide

ERROR, WARNING, INFO = "error", "warning", "info"
MARKS = {ERROR: "⚠", WARNING: "△", INFO: "ℹ"}


@dataclass
class Message:
    """One message: when (the last time, for a repeat), how bad, from where, what."""

    level: str
    source: str
    text: str
    time: datetime = field(default_factory=datetime.now)
    count: int = 1

    def line(self) -> str:
        repeat = f" (×{self.count})" if self.count > 1 else ""
        return f"{self.time:%H:%M:%S}  {self.source}: {self.text}{repeat}"


class MessageLog(QObject):
    """The studio's messages, oldest first, and how many are unread."""

    added = Signal(object)  #: a Message (new, or a repeat counted up)
    changed = Signal()  #: the list or the unread count changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.items: list[Message] = []
        self.unread = 0

    def add(self, text: str, source: str = "Studio", level: str = ERROR) -> Message:
        last = self.items[-1] if self.items else None
        if last is not None and (last.level, last.source, last.text) == (level, source, text):
            last.count += 1
            last.time = datetime.now()
            message = last
        else:
            message = Message(level, source, text)
            self.items.append(message)
        if level != INFO:
            self.unread += 1
        self.added.emit(message)
        self.changed.emit()
        return message

    def texts(self) -> list[str]:
        """The texts, oldest first (one per row)."""
        return [m.text for m in self.items]

    def mark_read(self) -> None:
        if self.unread:
            self.unread = 0
            self.changed.emit()

    def clear(self) -> None:
        self.items.clear()
        self.unread = 0
        self.changed.emit()


class MessagesDock(QDockWidget):
    """A dockable list of the log's messages (time, source, text; newest at the bottom)."""

    def __init__(self, log: MessageLog, parent: QWidget | None = None) -> None:
        super().__init__("Messages", parent)
        self.setObjectName("messagesDock")
        self.log = log
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 4)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Time", "Source", "Message"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setColumnWidth(0, 90)
        self.tree.setColumnWidth(1, 90)
        layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.copy_button = QPushButton("Copy all")
        self.copy_button.clicked.connect(self.copy)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(log.clear)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.clear_button)
        layout.addLayout(buttons)
        self.setWidget(body)
        log.changed.connect(self.refresh)
        self.visibilityChanged.connect(self._seen)
        self.refresh()

    def refresh(self) -> None:
        if self.tree.topLevelItemCount() > len(self.log.items):
            self.tree.clear()
        for i, message in enumerate(self.log.items):
            item = self.tree.topLevelItem(i)
            if item is None:
                item = QTreeWidgetItem()
                self.tree.addTopLevelItem(item)
            repeat = f" (×{message.count})" if message.count > 1 else ""
            item.setText(0, f"{MARKS.get(message.level, '')} {message.time:%H:%M:%S}")
            item.setText(1, message.source)
            item.setText(2, message.text + repeat)
            item.setToolTip(2, message.text)
        if self.log.items:
            self.tree.scrollToItem(self.tree.topLevelItem(len(self.log.items) - 1))
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self.log.mark_read()

    def _seen(self, visible: bool) -> None:
        if visible:
            self.log.mark_read()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(m.line() for m in self.log.items))


class UnreadButton(QToolButton):
    """The status bar's count of unread messages with the newest one (elided); a click opens
    the messages panel. Hidden while nothing is unread."""

    WIDTH = 420  #: at most this many pixels: a long message never widens the window

    def __init__(self, log: MessageLog, dock: MessagesDock, parent: QWidget | None = None):
        super().__init__(parent)
        self.log, self.dock = log, dock
        self.setObjectName("unread")
        self.setAutoRaise(True)
        self.setMaximumWidth(self.WIDTH)
        self.clicked.connect(self.open_panel)
        log.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        n = self.log.unread
        self.setVisible(n > 0)
        if not n:
            return
        newest = next((m for m in reversed(self.log.items) if m.level != INFO), None)
        head = f"⚠ {n} unread message{'s' if n != 1 else ''}"
        text = f"{head}: {newest.source}: {newest.text}" if newest else head
        self.setText(elide(text, self.fontMetrics(), self.WIDTH - 16, Qt.TextElideMode.ElideRight))
        self.setToolTip(f"{text}\nClick to open the messages panel")

    def open_panel(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.log.mark_read()
