"""A calm dark theme (Fusion style, one accent colour)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

#: text that warns (a value the export never draws, an unread message)
WARNING_COLOUR = "#ffb74d"

STYLE_SHEET = """
QLabel#hint { color: #8b93a1; font-size: 11px; }
QLabel#error { color: #ff8a80; font-size: 11px; }
QLabel#rangeLabel { color: #9fc9ff; font-size: 11px; }
QLabel#statusField { color: #c8ccd4; padding: 0 8px; }
QLabel#tileCaption { color: #aab1bd; font-size: 11px; }
QLabel#notice { color: #e1e4e9; font-size: 14px; background: rgba(20, 22, 26, 210);
                border: 1px solid #3a3f47; border-radius: 6px; padding: 14px; }
QLabel#legend { color: #e1e4e9; font-size: 11px; background: rgba(20, 22, 26, 200);
                border-radius: 4px; padding: 4px; }
QLabel#outside { color: #ffb74d; font-size: 11px; }
QLabel#blocker { color: #ffb74d; }
QToolButton#unread { color: #ffb74d; }
QTabWidget::pane { border: 1px solid #3a3f47; }
QTabBar::tab { padding: 5px 12px; }
QToolBar { spacing: 3px; border: none; }
QListView#tiles { background: #24272c; border: none; }
QScrollArea { border: none; }
QProgressBar { border: 1px solid #3a3f47; border-radius: 3px; text-align: center; height: 18px; }
QProgressBar::chunk { background: #2f8fd8; }
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = QPalette()
    base, window, text = QColor(36, 39, 44), QColor(45, 49, 56), QColor(225, 228, 233)
    pal.setColor(QPalette.ColorRole.Window, window)
    pal.setColor(QPalette.ColorRole.WindowText, text)
    pal.setColor(QPalette.ColorRole.Base, base)
    pal.setColor(QPalette.ColorRole.AlternateBase, window)
    pal.setColor(QPalette.ColorRole.Text, text)
    pal.setColor(QPalette.ColorRole.Button, QColor(55, 60, 68))
    pal.setColor(QPalette.ColorRole.ButtonText, text)
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor(30, 32, 36))
    pal.setColor(QPalette.ColorRole.ToolTipText, text)
    pal.setColor(QPalette.ColorRole.Highlight, QColor(47, 143, 216))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor(130, 136, 146))
    pal.setColor(QPalette.ColorRole.Link, QColor(108, 182, 255))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 125, 133))
    app.setPalette(pal)
    app.setStyleSheet(STYLE_SHEET)
