"""The sample grid: random samples of the whole preset, to judge the distribution.

Tiles are the first samples of an export with the grid's seed, drawn as the exporter draws them
(at thumbnail resolution; a face no larger than a tile is drawn pixel for pixel as exported).
Clicking a tile loads its face, occluder and exact parameters. Tile captions are elided (the full
text in the tooltip); tiles that cannot be drawn are summed up once in the messages panel. A note
says which pinned values of the preview the export never draws (outside their ranges).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.engine.cache import RenderCache
from studio.core.engine.draw import draw_sample, face_index, sample_rng
from studio.core.engine.pool import ItemPool
from studio.core.engine.render import render
from studio.core.model.errors import StudioError
from studio.core.model.params import RenderParams
from studio.core.model.preset import Preset
from studio.core.model.vocab import pool_role
from studio.gui.canvas import to_qimage
from studio.gui.elided import elide
from studio.gui.library import Library

TILE = 150


@dataclass
class Sample:
    face_id: str
    occluder_id: str | None
    params: RenderParams | None
    error: str | None = None


def grid_sample(
    preset: Preset,
    library: Library,
    seed: int,
    index: int,
    cache: RenderCache,
    inputs: dict,
    side: int = TILE,
) -> tuple[np.ndarray | None, Sample]:
    """Sample ``index`` of an export of ``preset`` with job seed ``seed``, drawn exactly as
    the exporter draws it (same face, occluder and parameters), rendered at ``side`` px."""
    faces = inputs.setdefault("face_ids", library.faces.ids())
    if not faces:
        return None, Sample("?", None, None, "no faces to draw from")
    other = getattr(library, pool_role(preset.mode))
    pool = inputs.get(preset.mode)
    if pool is None:
        pool = inputs[preset.mode] = ItemPool(other)
    face_id = faces[face_index(index, len(faces), preset.output.count_per_face)]
    rng = sample_rng(seed, index)
    try:
        full = inputs.get(("face", face_id))
        if full is None:  # a face drawn by several tiles is decoded once per refresh
            full = inputs[("face", face_id)] = library.faces.load(face_id)
        drawn = draw_sample(preset.engine(), rng, full, pool, cache)
        factor = min(1.0, side / max(full.size))
        face = full.resized(factor) if factor < 1 else full
        result = render(face, drawn.item, drawn.params, "cpu", cache)
    except StudioError as err:
        return None, Sample(face_id, None, None, err.line())
    return result.image, Sample(face_id, drawn.item_id or None, drawn.params)


class SampleGrid(QWidget):
    """A grid of random samples with a reseed button."""

    sampleChosen = Signal(object)
    tileReady = Signal(int, int, object, object)
    problem = Signal(str)  #: tiles that could not be drawn, summed up once per refresh

    def __init__(self, library: Library, rows: int = 3, cols: int = 3, parent=None) -> None:
        super().__init__(parent)
        self.library = library
        self.rows, self.cols = rows, cols
        self.preset: Preset | None = None
        self.samples: dict[int, Sample] = {}
        self.images: dict[int, np.ndarray] = {}  #: the tiles' pictures (device pixels)
        self._said = ""  #: the last problem summary sent (not repeated)
        self._generation = 0
        self._pending = 0
        self._stale = True
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="samples")
        self._dpr = self.devicePixelRatioF()
        self._cache = RenderCache(128 * 2**20)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(
            QLabel("The first samples of an export with this seed; click one to edit it.")
        )
        top.addStretch(1)
        top.addWidget(QLabel("Seed"))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.valueChanged.connect(lambda _: self.refresh())
        top.addWidget(self.seed)
        self.reseed_button = QPushButton("Reseed")
        self.reseed_button.setToolTip("Draw new samples (R)")
        self.reseed_button.clicked.connect(self.reseed)
        top.addWidget(self.reseed_button)
        layout.addLayout(top)
        self.note = QLabel()  #: the preview's pinned values the export never draws
        self.note.setObjectName("outside")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        grid = QGridLayout()
        grid.setSpacing(6)
        self.tiles: list[QToolButton] = []
        for i in range(rows * cols):
            tile = QToolButton()
            tile.setIconSize(QSize(TILE, TILE))
            tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            tile.setAutoRaise(True)
            tile.clicked.connect(lambda _=False, i=i: self._clicked(i))
            grid.addWidget(tile, i // cols, i % cols)
            self.tiles.append(tile)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.tileReady.connect(self._set_tile)

    def set_library(self, library: Library) -> None:
        """Draw from ``library``'s sources (the browsers' sources changed)."""
        self.library = library
        self._stale = True
        if self.isVisible():
            self.refresh()

    def set_preset(self, preset: Preset) -> None:
        if preset != self.preset:
            self.preset = preset
            self._stale = True
            if self.isVisible():
                self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def reseed(self) -> None:
        self.seed.setValue(int(time.time_ns() % 1_000_000))

    def busy(self) -> bool:
        return self._pending > 0

    def refresh(self) -> None:
        """Draw all tiles again for the current preset and seed (in the background)."""
        if self.preset is None:
            return
        self._stale = False
        self._generation += 1
        self.samples.clear()
        self.images.clear()
        self._pending = len(self.tiles)
        inputs: dict = {}
        for i, tile in enumerate(self.tiles):
            tile.setText("rendering…")
            self._pool.submit(
                self._work, self._generation, self.preset, self.seed.value(), i, inputs
            )

    def _work(self, generation: int, preset: Preset, seed: int, index: int, inputs: dict) -> None:
        if generation != self._generation:
            self.tileReady.emit(generation, index, None, None)
            return
        try:
            side = round(TILE * self._dpr)  # device pixels: sharp on high-DPI screens
            image, info = grid_sample(
                preset, self.library, seed, index, self._cache, inputs, side
            )
        except Exception as err:  # one broken input must not stop the grid
            image, info = None, Sample("?", None, None, f"{type(err).__name__}: {err}")
        qimage = None if image is None else to_qimage(image)
        self.tileReady.emit(generation, index, qimage, (info, image))

    def _set_tile(self, generation: int, index: int, image, drawn) -> None:
        if generation != self._generation:
            return
        info, picture = drawn if drawn is not None else (None, None)
        if picture is not None:
            self.images[index] = picture
        self._pending = max(0, self._pending - 1)
        tile = self.tiles[index]
        self.samples[index] = info
        if not self._pending:
            self._sum_up_problems()
        if image is None:
            tile.setIcon(QIcon())
            self._caption(tile, f"⚠ {info.error}")
            tile.setToolTip(info.error or "")
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self._dpr)
        tile.setIcon(QIcon(pixmap))
        p = info.params
        self._caption(tile, f"area {p.area_ratio:.2f} · {p.rotation:+.0f}° · {p.color.method}")
        tile.setToolTip(f"{info.face_id} + {info.occluder_id}\nclick to load these parameters")

    def _caption(self, tile: QToolButton, text: str) -> None:
        """A tile's caption, elided to the tile's width (a long one never widens the grid)."""
        tile.setText(elide(text, tile.fontMetrics(), TILE + 40, Qt.TextElideMode.ElideRight))

    def _sum_up_problems(self) -> None:
        failed = [(i, s) for i, s in sorted(self.samples.items()) if s.error]
        if not failed:
            self._said = ""
            return
        first = failed[0][1]
        text = (
            f"{len(failed)} of {len(self.tiles)} samples could not be drawn "
            f"(sample {failed[0][0]}, {first.face_id}: {first.error})"
        )
        if text != self._said:
            self._said = text
            self.problem.emit(text)

    def set_note(self, text: str) -> None:
        """Say which pinned values of the preview the export never draws ("": none)."""
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _clicked(self, index: int) -> None:
        info = self.samples.get(index)
        if info is not None and info.params is not None:
            self.sampleChosen.emit(info)

    def shutdown(self) -> None:
        self._generation += 1
        self._pool.shutdown(wait=True, cancel_futures=True)
