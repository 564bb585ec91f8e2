"""Masks held on a grid of cells and read at pixels.

The estimators (:mod:`studio.core.ops.estimate`) read a statistics region only on grids of
sampled pixels, never whole. A region that is defined at the scale of cells (the skin ring,
dilated on cells; the occluder's interior, eroded on cells) therefore stays on its cells: a
slice of a :class:`CellMask` looks the cells up at just the sliced pixels and combines them
with the full-resolution masks it is made with. A full copy is made only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.ops.backend import Array, Backend

Index = tuple[slice, slice]


@dataclass(frozen=True)
class CellMask:
    """A bool mask of ``shape`` pixels: pixel (y, x) is set when cell (y // f, x // f) is (a
    pixel beyond the whole cells is not), every mask of ``keep`` is set there and no mask of
    ``drop`` is. Sliced like an array (``mask[a:b:s, c:d:t]``) it returns that bool array."""

    be: Backend
    cells: Array  #: bool (ch, cw), on the backend
    f: int
    shape: tuple[int, int]
    keep: tuple[Array, ...] = ()
    drop: tuple[Array, ...] = ()

    def _cells_at(self, rows: np.ndarray, cols: np.ndarray) -> Array:
        xp = self.be.xp
        ch, cw = self.cells.shape
        padded = xp.zeros((ch + 1, cw + 1), bool)  # the last row and column: beyond the cells
        padded[:ch, :cw] = self.cells
        r = self.be.asarray(np.minimum(rows // self.f, ch))
        c = self.be.asarray(np.minimum(cols // self.f, cw))
        return padded[r][:, c]

    def _combined(self, out: Array, index: Index) -> Array:
        for k in self.keep:
            out &= k[index]
        for d in self.drop:
            out &= ~d[index]
        return out

    def __getitem__(self, index: Index) -> Array:
        rs, cs = index
        h, w = self.shape
        out = self._cells_at(np.arange(h)[rs], np.arange(w)[cs])
        return self._combined(out, index)

    def full(self) -> Array:
        """The whole mask (bool, ``shape``)."""
        be, xp = self.be, self.be.xp
        h, w = self.shape
        ch, cw = self.cells.shape
        out = xp.zeros((h, w), bool)
        if ch and cw:
            up = be.resize(self.cells.astype(xp.uint8), (cw * self.f, ch * self.f), mode="nearest")
            out[: ch * self.f, : cw * self.f] = up > 0
        return self._combined(out, (slice(None), slice(None)))


def cell_grid(shape: tuple[int, ...], f: int) -> tuple[int, int]:
    """(rows, columns) of whole f x f cells in an image of ``shape``."""
    return shape[0] // f, shape[1] // f


def any_in_cells(be: Backend, mask: Array, f: int) -> Array:
    """Cells (bool) holding at least one pixel of ``mask``."""
    ch, cw = cell_grid(mask.shape, f)
    part = mask[: ch * f, : cw * f].astype(be.xp.float32)
    return be.resize(part, (cw, ch), mode="area") > 0


def all_in_cells(be: Backend, mask: Array, f: int) -> Array:
    """Cells (bool) whose every pixel is in ``mask``."""
    ch, cw = cell_grid(mask.shape, f)
    part = mask[: ch * f, : cw * f].astype(be.xp.float32)
    return be.resize(part, (cw, ch), mode="area") >= np.float32(1.0 - 1e-4)
