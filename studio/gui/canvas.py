"""The canvas: the live preview with direct manipulation of the occluder.

Drag inside the occluder to move it, drag a corner to scale it, drag the round handle to
rotate it; the wheel over the occluder scales it, elsewhere it zooms; drag the background
(or middle-drag) to pan; in the before/after view drag the divider. Edits become new
:class:`RenderParams`; the canvas moves its outline at once and the image follows when the
worker's frame arrives. Zoomed in, the visible region is shown at full resolution
(:mod:`studio.gui.canvas_overlays`). What a frame looks like in each view mode is
:mod:`studio.gui.view_modes`; a class map gets its legend here. With nothing to show, a
sentence says why instead.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)

from studio.core.engine.coords import center_pixels, relative_center
from studio.core.engine.resolve import aimed
from studio.core.model.inputs import Face
from studio.core.model.params import RenderParams
from studio.core.ops.geometry import screen_angle
from studio.gui.canvas_overlays import REFINE_ABOVE, Notice, RegionOverlay, SplitHandle
from studio.gui.class_map import legend, legend_html
from studio.gui.preview import PreviewFrame
from studio.gui.view_modes import CLASS_MAP, VIEW_MODES, compose_view

HANDLE_PX = 9  # handle size on screen
ROTATE_OFFSET_PX = 28
ACCENT = QColor(64, 196, 255)


def to_qimage(rgb: np.ndarray) -> QImage:
    """An RGB (or grey) uint8 array as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    if rgb.ndim == 2:
        return QImage(rgb.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    """An RGB (or grey) uint8 array as a pixmap, without a copy of the array first: Qt
    converts RGB888 and Grayscale8 into a screen format of its own pixels (where it would
    share them instead, the image is copied)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    if rgb.ndim == 2:
        image = QImage(rgb.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    pixmap = QPixmap.fromImage(image)
    if pixmap.toImage().format() == image.format():  # shares the array's pixels
        pixmap = QPixmap.fromImage(image.copy())
    return pixmap


def _handle(rect_item: bool) -> QGraphicsItem:
    s = HANDLE_PX
    item = (
        QGraphicsRectItem(-s / 2, -s / 2, s, s)
        if rect_item
        else QGraphicsEllipseItem(-s / 2 - 1, -s / 2 - 1, s + 2, s + 2)
    )
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    item.setBrush(QBrush(QColor(255, 255, 255)))
    item.setPen(QPen(ACCENT, 1.5))
    item.setZValue(3)
    return item


class Canvas(QGraphicsView):
    """QGraphicsView showing the preview frames and the occluder's handles."""

    paramsEdited = Signal(object, str, object)
    zoomChanged = Signal(float)
    regionWanted = Signal()  #: the view settled: the full-resolution region may be needed

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setBackgroundBrush(QBrush(QColor(34, 36, 40)))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setMinimumSize(320, 320)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.pixmap_item)
        self.outline = QGraphicsPolygonItem()
        pen = QPen(ACCENT, 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setZValue(2)
        self.scene().addItem(self.outline)
        self.rotate_line = QGraphicsLineItem()
        line_pen = QPen(ACCENT, 1.5)
        line_pen.setCosmetic(True)
        self.rotate_line.setPen(line_pen)
        self.rotate_line.setZValue(2)
        self.scene().addItem(self.rotate_line)
        self.corner_items = [_handle(True) for _ in range(4)]
        self.rotate_item = _handle(False)
        for item in [*self.corner_items, self.rotate_item]:
            self.scene().addItem(item)
        self.region = RegionOverlay(self.scene())
        self.split_handle = SplitHandle(self.scene(), ACCENT)
        self.split = 0.5  #: the before/after divider, as a fraction of the width
        self._split_drag = False
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(120)
        self._settle.timeout.connect(self.regionWanted)
        self.view_mode = VIEW_MODES[0]
        self.show_handles = True
        self.face: Face | None = None
        self.params: RenderParams | None = None
        self.frame: PreviewFrame | None = None
        self.corners: list[QPointF] = []
        self._fitted = False
        self._drag: dict | None = None
        self._gesture = 0
        self.class_names: tuple[str, ...] | None = None  #: of the face source's class maps
        self.notice = Notice(self.viewport())
        self.has_notice = False  #: a sentence stands instead of the preview
        self.legend = Notice(self.viewport(), corner=True)

    # ---- nothing to show ----------------------------------------------------------------------
    def set_notice(self, text: str | None) -> None:
        """Show ``text`` (why there is nothing to preview) instead of the image and handles;
        None shows the preview again."""
        self.has_notice = bool(text)
        if text:
            self.frame = None
            self.pixmap_item.setPixmap(QPixmap())
            self.region.hide()
            self._set_corners([])
            self.legend.set_text(None)
        self.notice.set_text(text)

    # ---- frames -----------------------------------------------------------------------------
    def set_context(self, face: Face, params: RenderParams) -> None:
        """The preview-resolution face and current params (what a drag edits)."""
        self.face, self.params = face, params

    def show_frame(self, frame: PreviewFrame) -> None:
        if self.has_notice:
            return  # a frame asked for before the sources failed
        self.frame = frame
        self.face = frame.request.face
        image = compose_view(frame, self.view_mode, self.split)
        self.pixmap_item.setPixmap(to_pixmap(image))
        self.region.hide()  # of an older frame
        self._place_split()
        self._settle.start()
        w, h = frame.request.face.size
        scene_rect = QRectF(-w * 0.5, -h * 0.5, w * 2.0, h * 2.0)
        if self.sceneRect() != scene_rect:
            self.scene().setSceneRect(scene_rect)
        if not self._fitted and self.isVisible():
            self.fit()
            self._fitted = True
        if self._drag is None and frame.corners:
            corners = [QPointF(x, y) for x, y in frame.corners]
            if corners != self.corners:  # a new colour leaves the outline where it is
                self._set_corners(corners)
        self._show_legend()

    def _show_legend(self) -> None:
        result = self.frame.result if self.frame is not None else None
        if self.view_mode != CLASS_MAP or result is None or result.labels is None:
            self.legend.set_text(None)
            return
        entries = legend(result.labels, self.frame.request.params.occluder_class, self.class_names)
        self.legend.set_text(legend_html(entries))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted and self.face is not None and self.frame is not None:
            self.fit()
            self._fitted = True

    def set_view_mode(self, mode: str) -> None:
        self.view_mode = mode
        region = self.region.frame
        self._show_legend()
        if self.frame is not None:
            self.show_frame(self.frame)
        if region is not None:
            self.show_region(region)

    # ---- full-resolution region and the before/after divider ---------------------------------
    def show_region(self, frame: PreviewFrame) -> None:
        """Show a full-resolution region frame over the preview."""
        if self.face is None or frame.result is None:
            return
        image = compose_view(frame, self.view_mode, self.split)
        self.region.show(frame, to_pixmap(image), self.face.size)
        self._magnification()

    def _magnification(self) -> None:
        if self.face is not None:
            native = self.transform().m11() * self.devicePixelRatioF() * self.face.scale
            self.region.set_magnification(native)

    def hide_region(self) -> None:
        self.region.hide()

    def wanted_region(self) -> tuple[float, float, float, float] | None:
        """The visible part of the image in native pixels (x0, y0, x1, y1) when the preview
        is magnified on screen (a preview pixel covers more than ``REFINE_ABOVE`` device
        pixels); None otherwise."""
        face = self.face
        if face is None or face.scale >= 1.0 or self.frame is None:
            return None
        if self.transform().m11() * self.devicePixelRatioF() <= REFINE_ABOVE:
            return None
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        s = face.scale
        return seen.left() / s, seen.top() / s, seen.right() / s, seen.bottom() / s

    def set_split(self, split: float) -> None:
        """Move the before/after divider to ``split`` (a fraction of the width)."""
        self.split = float(np.clip(split, 0.0, 1.0))
        region = self.region.frame
        if self.frame is not None:
            image = compose_view(self.frame, self.view_mode, self.split)
            self.pixmap_item.setPixmap(to_pixmap(image))
        if region is not None:
            self.show_region(region)
        self._place_split()

    def _place_split(self) -> None:
        on = self.view_mode == "Before / after" and self.face is not None
        self.split_handle.set_visible(on)
        if on:
            w, h = self.face.size
            self.split_handle.place(self.split * w, h)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self._settle.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.notice.place()
        self.legend.place()
        self._settle.start()

    def set_show_handles(self, show: bool) -> None:
        """Show or hide the occluder's outline and handles."""
        self.show_handles = show
        self._set_corners(self.corners)

    def fit_next_frame(self) -> None:
        """Fit the next frame to the view (a new face: another size, another place); done
        when the canvas is next shown if another tab is in front."""
        self._fitted = False

    def _set_corners(self, corners: list[QPointF]) -> None:
        self.corners = corners
        visible = self.show_handles and len(corners) == 4
        for item in [self.outline, self.rotate_line, self.rotate_item, *self.corner_items]:
            item.setVisible(visible)
        if not visible:
            return
        self.outline.setPolygon(QPolygonF(corners))
        for item, pt in zip(self.corner_items, corners, strict=True):
            item.setPos(pt)
        top, knob = self._rotate_anchor()
        self.rotate_line.setLine(top.x(), top.y(), knob.x(), knob.y())
        self.rotate_item.setPos(knob)

    def center(self) -> QPointF:
        """The occluder's centre (the mean of its corners) in scene coordinates."""
        xs = [p.x() for p in self.corners]
        ys = [p.y() for p in self.corners]
        return QPointF(sum(xs) / 4.0, sum(ys) / 4.0)

    def _scene_per_px(self) -> float:
        return 1.0 / max(1e-6, self.transform().m11())

    def _rotate_anchor(self) -> tuple[QPointF, QPointF]:
        c = self.center()
        top = (self.corners[0] + self.corners[1]) / 2.0
        d = top - c
        n = math.hypot(d.x(), d.y()) or 1.0
        off = ROTATE_OFFSET_PX * self._scene_per_px()
        return top, top + QPointF(d.x() / n * off, d.y() / n * off)

    # ---- zoom -------------------------------------------------------------------------------
    def fit(self) -> None:
        if self.face is None:
            return
        w, h = self.face.size
        self.fitInView(-8, -8, w + 16, h + 16, Qt.AspectRatioMode.KeepAspectRatio)
        self._after_zoom()

    def actual_size(self) -> None:
        """1:1 with the face's native pixels."""
        if self.face is None:
            return
        s = 1.0 / self.face.scale
        self.setTransform(self.transform().fromScale(s, s))
        self._after_zoom()

    def zoom_by(self, factor: float) -> None:
        self.scale(factor, factor)
        self._after_zoom()

    def _after_zoom(self) -> None:
        self._settle.start()
        self._magnification()
        if self.corners:
            self._set_corners(self.corners)
        self.zoomChanged.emit(self.transform().m11())

    # ---- hit tests --------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> str | None:
        if len(self.corners) != 4 or not self.show_handles or self.params is None:
            return None
        tol = (HANDLE_PX + 4) * self._scene_per_px()
        _, knob = self._rotate_anchor()
        if math.hypot(pos.x() - knob.x(), pos.y() - knob.y()) <= tol:
            return "rotate"
        for pt in self.corners:
            if math.hypot(pos.x() - pt.x(), pos.y() - pt.y()) <= tol:
                return "scale"
        if QPolygonF(self.corners).containsPoint(pos, Qt.FillRule.OddEvenFill):
            return "move"
        return None

    # ---- mouse ------------------------------------------------------------------------------
    def _on_split(self, pos: QPointF) -> bool:
        tol = (HANDLE_PX + 2) * self._scene_per_px()
        return self.face is not None and self.split_handle.hit(pos, tol, self.face.size[1])

    def mousePressEvent(self, event) -> None:
        pos = self.mapToScene(event.position().toPoint())
        left = event.button() == Qt.MouseButton.LeftButton
        if left and self._hit(pos) not in ("scale", "rotate") and self._on_split(pos):
            self._split_drag = True
            event.accept()
            return
        hit = self._hit(pos) if left else None
        if hit is None:
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            super().mousePressEvent(event)
            return
        self._gesture += 1
        self._drag = {
            "mode": hit,
            "press": pos,
            "params": self.params,
            "corners": list(self.corners),
            "center": self.center(),
        }
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._split_drag and self.face is not None:
            pos = self.mapToScene(event.position().toPoint())
            self.set_split(pos.x() / self.face.size[0])
            event.accept()
            return
        if self._drag is None:
            pos = self.mapToScene(event.position().toPoint())
            if self._on_split(pos) and self._hit(pos) not in ("scale", "rotate"):
                self.viewport().setCursor(Qt.CursorShape.SplitHCursor)
                super().mouseMoveEvent(event)
                return
            hit = self._hit(pos)
            shapes = {
                "move": Qt.CursorShape.SizeAllCursor,
                "scale": Qt.CursorShape.SizeFDiagCursor,
                "rotate": Qt.CursorShape.CrossCursor,
            }
            if self.dragMode() == QGraphicsView.DragMode.NoDrag:
                self.viewport().setCursor(shapes.get(hit, Qt.CursorShape.ArrowCursor))
            super().mouseMoveEvent(event)
            return
        self.drag_to(self.mapToScene(event.position().toPoint()))
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._split_drag:
            self._split_drag = False
            event.accept()
            return
        if self._drag is not None:
            self._drag = None
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        pos = self.mapToScene(event.position().toPoint())
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if not ctrl and self._hit(pos) is not None and self.params is not None:
            area = float(np.clip(self.params.area_ratio * 1.1**steps, 1e-3, 16.0))
            self._gesture += 1
            self.paramsEdited.emit(
                self.params.replace(area_ratio=area), "Scale occluder", ("wheel",)
            )
        else:
            self.zoom_by(1.15**steps)
        event.accept()

    # ---- the edit of one drag step -----------------------------------------------------------
    def drag_to(self, pos: QPointF) -> RenderParams | None:
        """Apply the current drag gesture at scene position ``pos``; emits the new params."""
        drag = self._drag
        if drag is None or self.face is None:
            return None
        start: RenderParams = drag["params"]
        c0: QPointF = drag["center"]
        press: QPointF = drag["press"]
        mode = drag["mode"]
        if mode == "move":
            delta = pos - press
            cx, cy = center_pixels(self.face, start.center_rel)
            center = (cx + delta.x(), cy + delta.y())
            rel = relative_center(self.face, center)
            new = aimed(
                start.replace(center_rel=rel, center_px=_native(self.face, center)), self.face
            )
            corners = [p + delta for p in drag["corners"]]
            corners = _rotate_pts(corners, c0 + delta, new.rotation - start.rotation)
            text = "Move occluder"
        elif mode == "scale":
            r0 = math.hypot(press.x() - c0.x(), press.y() - c0.y()) or 1.0
            r1 = math.hypot(pos.x() - c0.x(), pos.y() - c0.y())
            ratio = max(0.05, r1 / r0)
            area = float(np.clip(start.area_ratio * ratio**2, 1e-3, 16.0))
            ratio = math.sqrt(area / start.area_ratio)
            new = start.replace(area_ratio=area)
            corners = [c0 + (p - c0) * ratio for p in drag["corners"]]
            text = "Scale occluder"
        else:
            a0 = screen_angle(press.x() - c0.x(), press.y() - c0.y())
            a1 = screen_angle(pos.x() - c0.x(), pos.y() - c0.y())
            turn = (a1 - a0 + 180.0) % 360.0 - 180.0
            rotation = (start.rotation + turn + 180.0) % 360.0 - 180.0
            new = start.replace(rotation=rotation)
            if start.aim_up is not None:
                new = new.replace(aim_jitter=start.aim_jitter + turn)
            corners = _rotate_pts(drag["corners"], c0, turn)
            text = "Rotate occluder"
        self.params = new
        self._set_corners(corners)
        self.paramsEdited.emit(new, text, ("drag", self._gesture))
        return new

    def begin_drag(self, mode: str, press: QPointF) -> None:
        """Start a gesture programmatically (tests and the latency benchmark)."""
        self._gesture += 1
        self._drag = {
            "mode": mode,
            "press": press,
            "params": self.params,
            "corners": list(self.corners),
            "center": self.center() if self.corners else press,
        }

    def end_drag(self) -> None:
        self._drag = None


def _native(face: Face, center: tuple[float, float]) -> tuple[float, float]:
    return center[0] / face.scale, center[1] / face.scale


def _rotate_pts(points: list[QPointF], c: QPointF, degrees: float) -> list[QPointF]:
    """Rotate points about ``c`` counter-clockwise on screen."""
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    out = []
    for p in points:
        dx, dy = p.x() - c.x(), p.y() - c.y()
        out.append(QPointF(c.x() + cos * dx + sin * dy, c.y() - sin * dx + cos * dy))
    return out
