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


def many_faces(root, n, side=64, name="f{:05d}.jpg"):
    """An images/ + masks/ pair of ``n`` faces (the same small JPEG and mask written ``n``
    times: decodable, cheap to write). Returns the images folder."""
    import cv2
    import numpy as np

    from studio.core.sources.synthetic import synthetic_face

    face = synthetic_face(side, seed=1)
    jpeg = cv2.imencode(".jpg", face.image[:, :, ::-1])[1].tobytes()
    mask = cv2.imencode(".png", face.mask.astype(np.uint8) * 255)[1].tobytes()
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        stem = name.format(i)
        (root / "images" / stem).write_bytes(jpeg)
        (root / "masks" / (stem.rsplit(".", 1)[0] + ".png")).write_bytes(mask)
    return root / "images"


def qimage_array(image):
    """An RGB QImage (or QPixmap) as an HxWx3 uint8 array."""
    import numpy as np
    from PySide6.QtGui import QImage

    image = image.toImage() if hasattr(image, "toImage") else image
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    return data.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def drag(widget, start, end, steps=6):
    """Drag with the left button from ``start`` to ``end`` (QPoints in ``widget``), with real
    press, move and release events (QTest), in ``steps`` moves."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseMove(widget, start)
    QTest.mousePress(widget, left, none, start)
    for i in range(1, steps + 1):
        t = i / steps
        at = QPoint(
            round(start.x() + (end.x() - start.x()) * t),
            round(start.y() + (end.y() - start.y()) * t),
        )
        QTest.mouseMove(widget, at)
    QTest.mouseRelease(widget, left, none, end)


def on_canvas(window, scene_point):
    """Where a scene point of the canvas is in its viewport (a QPoint)."""
    return window.canvas.mapFromScene(scene_point)


def wheel(widget, pos, steps=1, modifiers=None):
    """A real wheel event of ``steps`` notches (120 each; positive: away from the user) at
    ``pos`` in ``widget``."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    event = QWheelEvent(
        QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton, modifiers or Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)
