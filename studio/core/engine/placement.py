"""Where the occluder lands: the one geometry path of sampling, rendering and the canvas.

``place()`` warps the occluder's shape alpha onto the face; the label (alpha >= 128) and the
coverage computed from it are exactly those a render gives, because ``render`` places through
:func:`placed_on` too, once: its :class:`Placed` (geometry, alpha, label, edge band, size) is
what colour, harmonisation and compositing read. A :class:`Placement` (region, matrix, source
size) travels with every render result, so the studio draws the occluder's outline from the
engine's own geometry.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from studio.core.engine.cache import RenderCache, no_cache, on_device
from studio.core.engine.coords import (
    band_radius,
    center_pixels,
    edge_sizes,
    nominal_size,
    pixel_scale,
)
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import RenderParams
from studio.core.ops import blend, geometry
from studio.core.ops.backend import Array, Backend, get_backend

PRESCALE_BELOW = 0.75  #: occluders shrunk more than this are first reduced with an area filter

Region = tuple[int, int, int, int]


@dataclass(frozen=True)
class Placement:
    """The geometry of a placed occluder (host values)."""

    region: Region  #: (x0, y0, x1, y1) of the face image the occluder (and its band) touch
    matrix: np.ndarray  #: forward 2x3 affine from the (reduced) occluder to the face
    source_size: tuple[int, int]  #: (w, h) of the (reduced) occluder the matrix maps from
    scale: float  #: occluder pixels to face pixels
    reduced_size: tuple[int, int] | None  #: the area-reduced copy's size, None when not reduced

    def corners(self) -> list[tuple[float, float]]:
        """The occluder's outer corners on the face (pixel edges), in order."""
        w, h = self.source_size
        m = self.matrix
        pts = [(-0.5, -0.5), (w - 0.5, -0.5), (w - 0.5, h - 0.5), (-0.5, h - 0.5)]
        return [
            (
                float(m[0, 0] * x + m[0, 1] * y + m[0, 2]),
                float(m[1, 0] * x + m[1, 1] * y + m[1, 2]),
            )
            for x, y in pts
        ]


@dataclass
class Placed:
    """The occluder's shape placed on the face, as every stage of a render reads it: the
    geometry, the placed shape alpha and its label, and (made when first asked for) its edge
    band and size. Arrays on ``be``, read-only: a placement is made once and shared by the
    sampling that measured it and every render that uses it (a drag of any other parameter
    places nothing again).
    """

    be: Backend
    placement: Placement
    alpha: Array  #: uint8 placed shape alpha on the region
    band_radius: int  #: half-width of the edge band in pixels
    #: what made it (the face, the shape and the geometry): what is computed from the
    #: placement alone (the skin ring) is cached under it
    key: Hashable = None
    label: Array = field(init=False)  #: the occluded pixels of the region (alpha >= 128)

    def __post_init__(self) -> None:
        self.label = _read_only(self.alpha >= 128)

    @property
    def region(self) -> Region:
        return self.placement.region

    @cached_property
    def band(self) -> Array:
        """Pixels within :attr:`band_radius` of the label's boundary, on both sides."""
        return _read_only(blend.edge_band(self.be, self.label, self.band_radius))

    @cached_property
    def size(self) -> float:
        """Size in pixels of the placed occluder (:func:`label_size` of its label)."""
        return label_size(self.be, self.label)

    def on_host(self) -> Placed:
        """The same placement with its alpha on the host."""
        if self.be.on_host:
            return self
        alpha = self.be.to_numpy(self.alpha)
        return Placed(self.be.host, self.placement, alpha, self.band_radius, self.key)


def label_size(be: Backend, label: Array) -> float:
    """Size in pixels of a placed occluder's ``label``: the geometric mean of its bbox sides
    (1 when it covers nothing)."""
    xp = be.xp
    rows = xp.flatnonzero(label.any(axis=1))
    cols = xp.flatnonzero(label.any(axis=0))
    if rows.size == 0:
        return 1.0
    h = int(rows[-1]) - int(rows[0]) + 1
    w = int(cols[-1]) - int(cols[0]) + 1
    return math.sqrt(h * w)


def reduced_size(size: tuple[int, int], scale: float) -> tuple[int, int] | None:
    """The size of the area-reduced copy of an occluder of ``size`` shrunk by ``scale``, or
    None when it is used as it is."""
    if scale >= PRESCALE_BELOW:
        return None
    w, h = size
    return max(2, round(w * scale)), max(2, round(h * scale))


def _forward_matrix(
    face: Face, occ_size: tuple[int, int], params: RenderParams
) -> tuple[np.ndarray, float]:
    aug = params.augment
    center = center_pixels(face, params.center_rel)
    scale = pixel_scale(face, occ_size, params) * aug.affine_scale
    angle = params.rotation + aug.affine_rotation
    matrix = geometry.occluder_matrix(occ_size, center, scale, angle, params.flip, aug.affine_shear)
    return matrix, scale


def _pad(face: Face, params: RenderParams, size: float) -> int:
    """Pixels around the warped shape that compositing may touch: the edge band and the reach
    of the feather and the edge blur (``size``: the occluder's :func:`nominal_size`). At least
    what the sizes in native pixels need: the region, and with it the warp's fixed-point
    rounding of the label, stays the same when a relative band is the narrower."""
    native = dataclasses.replace(params.blend, relative_to=0)
    pads = []
    for sizes in {params.blend, native}:
        band, feather, edge_blur = edge_sizes(face, params.replace(blend=sizes), size)
        pads.append(band + math.ceil(3 * max(feather, edge_blur)) + 2)
    return max(pads)


def placed_on(
    be: Backend, face: Face, occluder: Occluder, params: RenderParams, cache: RenderCache
) -> Placed | None:
    """The occluder's shape placed on the face (arrays on ``be``); None when it misses the
    face image."""
    _, alpha = on_device(be, cache, occluder.key, occluder.image, occluder.alpha)
    size = (alpha.shape[1], alpha.shape[0])
    matrix, scale = _forward_matrix(face, size, params)
    nominal = nominal_size(size, scale)
    radius = band_radius(face, params, nominal)
    small = reduced_size(size, scale)
    alpha_src = alpha
    if small is not None:  # shrunk a lot: placed from its area-reduced copy (cached by size)
        alpha_src = cache.get(
            ("reduced-alpha", be.name, occluder.key, small), lambda: be.resize(alpha, small)
        )
    back = geometry.translate(0.0, 0.0) if small is None else geometry.resize_matrix(size, small)
    full = geometry.compose(matrix, back)
    src_size = (alpha_src.shape[1], alpha_src.shape[0])
    region = geometry.region_of(full, src_size, face.size, _pad(face, params, nominal))
    if region is None:
        return None
    # sampling places the shape to measure coverage, the render places it again, and a drag
    # of another parameter renders it again and again: the Placed (its warp, label and band)
    # is shared through the cache's recent values, keyed by what made it
    key = (face.key, occluder.key, small, region, full.tobytes(), radius)

    def make() -> Placed:
        warped = _read_only(geometry.warp_region(be, alpha_src, full, region))
        return Placed(be, Placement(region, full, src_size, scale, small), warped, radius, key)

    return cache.recent(("placed", be.name, key), make)


def _read_only(array: Array) -> Array:
    if isinstance(array, np.ndarray):
        array.flags.writeable = False
    return array


def place(
    face: Face,
    occluder: Occluder,
    params: RenderParams,
    backend: str | Backend = "cpu",
    cache: RenderCache | None = None,
) -> Placed | None:
    """Place the occluder's shape alpha on the face (no colours); None if it misses the image.

    ``render`` uses exactly this geometry (the same function), so the label and coverage
    computed here are the ones a render gives. Arrays are returned on the host.
    """
    placed = placed_on(get_backend(backend), face, occluder, params, cache or no_cache())
    return None if placed is None else placed.on_host()


def coverage_of(face: Face, placed: Placed | None) -> float:
    """Fraction of the face mask that the placed occluder hides."""
    if placed is None:
        return 0.0
    x0, y0, x1, y1 = placed.region
    hidden = np.count_nonzero(face.mask[y0:y1, x0:x1] & placed.label)
    return hidden / max(1, int(np.count_nonzero(face.mask)))
