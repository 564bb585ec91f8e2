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

    def _combined(self, out: Array, index: Index | tuple[Array, slice]) -> Array:
        for k in self.keep:
            out &= k[index] if isinstance(index[0], slice) else k[index[0]][:, index[1]]
        for d in self.drop:
            out &= ~(d[index] if isinstance(index[0], slice) else d[index[0]][:, index[1]])
        return out

    def rows(self, rows: np.ndarray, cols: slice) -> Array:
        """The pixels of the rows ``rows`` (host ints) at the columns ``cols``."""
        picked = self._cells_at(rows, np.arange(self.shape[1])[cols])
        return self._combined(picked, (self.be.asarray(rows), cols))

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


@dataclass(frozen=True)
class StackedRows:
    """A bool mask whose row ``i`` is row ``rows[i]`` of ``mask`` (a :class:`CellMask` or a
    bool array; unset where ``rows[i]`` is negative): rows of a region stacked on one another.
    Sliced like an array, it reads ``mask`` only at the sliced pixels."""

    be: Backend
    mask: CellMask | Array
    rows: np.ndarray  #: host ints

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), self.mask.shape[1]

    def __getitem__(self, index: Index) -> Array:
        rs, cs = index
        return self.at(np.arange(len(self.rows))[rs], cs)

    def at(self, rows: np.ndarray, cols: slice) -> Array:
        """The pixels of the stack's rows ``rows`` (host ints) at the columns ``cols``."""
        xp = self.be.xp
        wanted = self.rows[rows]
        out = xp.zeros((len(wanted), len(range(*cols.indices(self.shape[1])))), bool)
        valid = wanted >= 0
        if valid.any():
            picked = wanted[valid]
            if isinstance(self.mask, CellMask):
                part = self.mask.rows(picked, cols)
            else:
                part = self.mask[self.be.asarray(picked)][:, cols]
            out[self.be.asarray(np.flatnonzero(valid))] = part
        return out


def cell_grid(shape: tuple[int, ...], f: int) -> tuple[int, int]:
    """(rows, columns) of whole f x f cells in an image of ``shape``."""
    return shape[0] // f, shape[1] // f


#: cells of at most this many pixels are counted on 8 bits: a {0, 255} mask averaged over
#: one of them reads at least 0.5 (rounded up to 1) with one pixel set and below 254.5 with
#: one pixel clear
EXACT_U8_CELL = 510


def _cell_means(be: Backend, mask: Array, f: int) -> tuple[Array, float, float]:
    """Means of a bool mask over whole f x f cells, with the values that mean "none set" and
    "all set": on 8 bits ({0, 255}, rounded) while that is exact, else in float32."""
    xp = be.xp
    ch, cw = cell_grid(mask.shape, f)
    part = mask[: ch * f, : cw * f]
    if f * f <= EXACT_U8_CELL:
        scaled = xp.multiply(part.view(xp.uint8), xp.uint8(255))
        return be.resize(scaled, (cw, ch), mode="area"), 0.0, 255.0
    return be.resize(part.astype(xp.float32), (cw, ch), mode="area"), 0.0, 1.0 - 1e-4


def any_in_cells(be: Backend, mask: Array, f: int) -> Array:
    """Cells (bool) holding at least one pixel of ``mask``."""
    means, none, _ = _cell_means(be, mask, f)
    return means > none


def all_in_cells(be: Backend, mask: Array, f: int) -> Array:
    """Cells (bool) whose every pixel is in ``mask``."""
    means, _, full = _cell_means(be, mask, f)
    return means >= full
