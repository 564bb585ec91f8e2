"""A small line chart (QPainter): one curve per model, points added as they come."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#4aa3f0", "#f0a04a", "#6cc870", "#e06670", "#b08ae8", "#d8d060", "#60d0d0")


class CurveChart(QWidget):
    """Curves of ``y`` (in [0, 1]) against ``x`` (steps), keyed by series name."""

    def __init__(self, y_label: str = "test mIoU", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.y_label = y_label
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def add_series(self, name: str) -> None:
        self.series.setdefault(name, [])
        self.update()

    def add_point(self, name: str, x: float, y: float) -> None:
        self.series.setdefault(name, []).append((float(x), float(y)))
        self.update()

    def _range(self) -> tuple[float, float, float, float]:
        points = [p for pts in self.series.values() for p in pts]
        if not points:
            return 0.0, 1.0, 0.0, 1.0
        x1 = max(1.0, max(p[0] for p in points))
        ys = [p[1] for p in points]
        lo = max(0.0, min(ys) - 0.05)
        hi = min(1.0, max(ys) + 0.05)
        if hi - lo < 0.1:  # at least 0.1 tall, inside [0, 1]
            lo = min(lo, 0.9)
            hi = max(hi, lo + 0.1)
        return 0.0, x1, lo, hi

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(30, 33, 38))
        plot = QRectF(46, 10, max(10, self.width() - 210), max(10, self.height() - 40))
        x0, x1, y0, y1 = self._range()

        def at(x: float, y: float) -> QPointF:
            return QPointF(
                plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (y - y0) / (y1 - y0) * plot.height(),
            )

        grid = QPen(QColor(60, 65, 74))
        p.setPen(grid)
        p.drawRect(plot)
        p.setPen(QColor(150, 156, 166))
        for k in range(5):
            y = y0 + (y1 - y0) * k / 4
            pos = at(x0, y)
            p.setPen(grid)
            p.drawLine(QPointF(plot.left(), pos.y()), QPointF(plot.right(), pos.y()))
            p.setPen(QColor(150, 156, 166))
            p.drawText(QRectF(0, pos.y() - 8, 42, 16), Qt.AlignmentFlag.AlignRight, f"{y:.2f}")
        p.drawText(
            QRectF(plot.left(), plot.bottom() + 4, plot.width(), 16),
            Qt.AlignmentFlag.AlignCenter,
            f"steps 0 – {x1:.0f} · {self.y_label}",
        )
        for i, (name, points) in enumerate(self.series.items()):
            color = QColor(PALETTE[i % len(PALETTE)])
            p.setPen(QPen(color, 2))
            if points:
                path = QPainterPath(at(*points[0]))
                for pt in points[1:]:
                    path.lineTo(at(*pt))
                p.drawPath(path)
                for pt in points:
                    p.drawEllipse(at(*pt), 2.5, 2.5)
            legend_y = plot.top() + 4 + 18 * i
            p.drawLine(
                QPointF(plot.right() + 10, legend_y + 7), QPointF(plot.right() + 24, legend_y + 7)
            )
            p.setPen(QColor(210, 214, 220))
            last = f" {points[-1][1]:.3f}" if points else ""
            p.drawText(
                QRectF(plot.right() + 28, legend_y, 120, 16),
                Qt.AlignmentFlag.AlignLeft,
                f"{name}{last}",
            )
        p.end()
