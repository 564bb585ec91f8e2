"""Text that never widens the window: one line, elided to the space it is given, the full text
in its tooltip (and, for errors and warnings, in the messages panel)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def elide(text: str, metrics: QFontMetrics, width: int, mode=Qt.TextElideMode.ElideMiddle) -> str:
    """``text`` on one line, elided to ``width`` pixels."""
    return metrics.elidedText(" ".join(text.split()), mode, max(0, width))


def breakable(text: str) -> str:
    """``text`` that a word-wrapped label may also break after a ``/`` (long paths)."""
    return text.replace("/", "/\u200b")


def set_elided(label: QLabel, text: str, width: int) -> None:
    """Show ``text`` in ``label`` elided to ``width`` pixels, the full text in its tooltip."""
    shown = elide(text, label.fontMetrics(), width, Qt.TextElideMode.ElideRight)
    label.setText(shown)
    label.setToolTip(text if shown != text else "")


class ElidedLabel(QLabel):
    """A one-line label that asks for no width: its text is elided to whatever width the
    layout gives it (the end by default, the middle for paths), the full text in the tooltip
    (unless a tooltip of its own is set)."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self.mode = mode
        self._full = ""
        self._own_tip = False
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        if not self._own_tip:
            super().setToolTip(text if self._elided() != text else "")
        super().setText(text)
        self.update()

    def setToolTip(self, tip: str) -> None:
        self._own_tip = bool(tip)
        super().setToolTip(tip)

    def text(self) -> str:
        return self._full

    def _elided(self) -> str:
        return elide(self._full, self.fontMetrics(), self.contentsRect().width(), self.mode)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), 200), hint.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self._own_tip:
            super().setToolTip(self._full if self._elided() != self._full else "")

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        align = self.alignment() | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(self.contentsRect(), int(align), self._elided())
