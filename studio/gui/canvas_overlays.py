"""What the canvas draws over the preview: the full-resolution region and the before/after split.

- :class:`RegionOverlay`: zoomed in past the preview's resolution (the 512 px preview would be
  magnified), the visible region rendered at full resolution with the same params lies over
  the preview, pixel for pixel (smoothly magnified up to 2 device pixels per pixel, as blocks
  beyond, so native pixels can be inspected).
- :class:`SplitHandle`: the before/after divider, a line with a knob that can be dragged.
- :class:`RegionRefiner`: asks the preview worker for that region when the view settles
  (after a zoom, a pan or a new frame) and hands the result to the canvas.
- :class:`Notice`: a text over the view: why there is nothing to preview (centred), or the
  class-map legend (in a corner).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QLabel,
    QWidget,
)

from studio.core.model.inputs import Face
from studio.gui.elided import breakable
from studio.gui.preview import PreviewController, PreviewFrame

#: refine when a preview pixel covers more than this many device pixels
REFINE_ABOVE = 1.25
BLOCKS_FROM = 2.0  #: device pixels per native pixel from which pixels are drawn as blocks
REGION_MARGIN = 16  #: native pixels rendered around the visible region (small pans stay sharp)
KNOB_PX = 14


class RegionOverlay:
    """The full-resolution render of the visible region, placed over the preview."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.item.setZValue(1)
        self.item.hide()
        scene.addItem(self.item)
        self.frame: PreviewFrame | None = None

    def show(self, frame: PreviewFrame, pixmap: QPixmap, preview_size: tuple[int, int]) -> None:
        """Show ``frame`` (a region frame) over a preview of ``preview_size`` (w, h)."""
        full_w, full_h = frame.request.face.size
        sx, sy = preview_size[0] / full_w, preview_size[1] / full_h
        x0, y0 = frame.request.region[:2]
        self.frame = frame
        self.item.setPixmap(pixmap)
        self.item.setTransform(QTransform.fromScale(sx, sy))
        self.item.setPos(x0 * sx, y0 * sy)
        self.item.show()

    def hide(self) -> None:
        self.frame = None
        self.item.hide()

    def set_magnification(self, device_px: float) -> None:
        """How many device pixels a native pixel covers on screen now."""
        mode = (
            Qt.TransformationMode.FastTransformation
            if device_px >= BLOCKS_FROM - 1e-6
            else Qt.TransformationMode.SmoothTransformation
        )
        if self.item.transformationMode() != mode:
            self.item.setTransformationMode(mode)

    def covers(self, region: tuple[int, int, int, int]) -> bool:
        """Whether the region on screen holds ``region`` (native pixels)."""
        if self.frame is None:
            return False
        x0, y0, x1, y1 = self.frame.request.region
        return x0 <= region[0] and y0 <= region[1] and x1 >= region[2] and y1 >= region[3]


class SplitHandle:
    """The before/after divider: a vertical line over the image with a round knob."""

    def __init__(self, scene: QGraphicsScene, color: QColor) -> None:
        pen = QPen(QColor(255, 255, 255), 1.5)
        pen.setCosmetic(True)
        self.line = QGraphicsLineItem()
        self.line.setPen(pen)
        self.line.setZValue(4)
        self.knob = QGraphicsEllipseItem(-KNOB_PX / 2, -KNOB_PX / 2, KNOB_PX, KNOB_PX)
        self.knob.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.knob.setBrush(QBrush(QColor(255, 255, 255)))
        self.knob.setPen(QPen(color, 2))
        self.knob.setZValue(5)
        for item in (self.line, self.knob):
            scene.addItem(item)
            item.hide()
        self.x = 0.0

    def place(self, x: float, height: float) -> None:
        self.x = x
        self.line.setLine(x, 0.0, x, height)
        self.knob.setPos(QPointF(x, height / 2.0))

    def set_visible(self, visible: bool) -> None:
        self.line.setVisible(visible)
        self.knob.setVisible(visible)

    def hit(self, pos: QPointF, tolerance: float, height: float) -> bool:
        return self.line.isVisible() and abs(pos.x() - self.x) <= tolerance and (
            -tolerance <= pos.y() <= height + tolerance
        )


def native_region(
    wanted: tuple[float, float, float, float], size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """``wanted`` (x0, y0, x1, y1 in native pixels) with a margin, rounded outwards and
    clipped to an image of ``size`` (w, h); None when nothing of the image is in it."""
    w, h = size
    x0 = max(0, math.floor(wanted[0]) - REGION_MARGIN)
    y0 = max(0, math.floor(wanted[1]) - REGION_MARGIN)
    x1 = min(w, math.ceil(wanted[2]) + REGION_MARGIN)
    y1 = min(h, math.ceil(wanted[3]) + REGION_MARGIN)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


class RegionRefiner(QObject):
    """Keeps the canvas's full-resolution region in step with the view and the preview."""

    def __init__(
        self, canvas, preview: PreviewController, full_face: Callable[[], Face | None]
    ) -> None:
        super().__init__(canvas)
        self.canvas, self.preview, self.full_face = canvas, preview, full_face
        self.requested = 0  #: region requests sent (for tests)
        canvas.regionWanted.connect(self.refine)
        preview.regionShown.connect(canvas.show_region)

    def refine(self) -> None:
        wanted = self.canvas.wanted_region()
        face = self.full_face()
        frame = self.preview.last_frame
        if wanted is None or face is None or frame is None:
            self.canvas.hide_region()
            return
        if self.preview.preview_face(face) is not frame.request.face:
            return  # the face on screen is not the current one yet: its frame will come
        region = native_region(wanted, face.size)
        if region is None:
            self.canvas.hide_region()
            return
        if self.canvas.region.covers(region):
            return
        if self.preview.request_region(face, region) is not None:
            self.requested += 1


class Notice(QLabel):
    """Text over the canvas's viewport: centred and wrapped (a sentence saying why there is
    nothing to preview), or in the top-left corner (the class-map legend). Hidden without text."""

    def __init__(self, viewport: QWidget, corner: bool = False) -> None:
        super().__init__(viewport)
        self.corner = corner
        self.setObjectName("legend" if corner else "notice")
        self.setWordWrap(not corner)
        self.setTextFormat(Qt.TextFormat.RichText if corner else Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def set_text(self, text: str | None) -> None:
        self.setText((text if self.corner else breakable(text)) if text else "")
        self.setVisible(bool(text))
        self.place()

    def place(self) -> None:
        if not self.isVisible():
            return
        area = self.parentWidget().rect()
        if self.corner:
            self.adjustSize()
            self.move(8, 8)
            return
        width = max(120, min(520, area.width() - 40))
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((area.width() - width) // 2, max(8, (area.height() - self.height()) // 2))
