"""The mouse wheel over a scrolling panel scrolls the panel: a slider, spin box or combo box
under the cursor takes the wheel only when it has the keyboard focus (clicked or tabbed to).
Otherwise scrolling a long panel would change whichever value passes under the cursor."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QWidget,
)

GUARDED = (QAbstractSlider, QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Event filter that hands unfocused value widgets' wheel events to the scroll area."""

    def __init__(self, area: QAbstractScrollArea) -> None:
        super().__init__(area)
        self.area = area

    def guard(self, root: QWidget) -> None:
        """Guard every value widget inside ``root`` (and ``root`` itself)."""
        widgets = [root, *root.findChildren(QWidget)]
        for widget in widgets:
            if isinstance(widget, GUARDED):
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel gives no focus
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget):
            return False
        if watched.hasFocus():
            return False
        QCoreApplication.sendEvent(self.area.viewport(), event)
        return True
