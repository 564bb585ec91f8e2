"""Helpers shared by the GUI tests (a module of its own: ``conftest`` names are ambiguous
across test folders)."""


def render(win):
    """Render the newest pending preview request now (synchronous worker)."""
    return win.preview.worker.run_pending()


def drop(widget, path):
    """Drop ``path`` (a file or folder URL) on ``widget``, as a file manager would."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    widget.dropEvent(event)
