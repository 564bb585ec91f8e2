"""Where the occluder lands: the one geometry path of sampling, rendering and the canvas.

``place()`` warps the occluder's shape alpha onto the face; the label (alpha >= 128) and the
coverage computed from it are exactly those a render gives, because ``render`` places through
:func:`placement` too. A :class:`Placement` (region, matrix, source size) travels with every
render result, so the studio draws the occluder's outline from the engine's own geometry.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from studio.core.engine.cache import RenderCache, no_cache, on_device
from studio.core.engine.coords import band_radius, center_pixels, pixel_scale
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import RenderParams
from studio.core.ops import geometry
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
    """The occluder's shape placed on the face: its geometry, alpha and label (host)."""

    placement: Placement
    alpha: np.ndarray  #: uint8 placed shape alpha in the region
    label: np.ndarray  #: alpha >= 128: the occluded pixels of the region

    @property
    def region(self) -> Region:
        return self.placement.region


def reduced_size(size: tuple[int, int], scale: float) -> tuple[int, int] | None:
    """The size of the area-reduced copy of an occluder of ``size`` shrunk by ``scale``, or
    None when it is used as it is."""
    if scale >= PRESCALE_BELOW:
        return None
    w, h = size
    return max(2, round(w * scale)), max(2, round(h * scale))


def reduced(
    be: Backend,
    rgb: Array,
    alpha: Array,
    size: tuple[int, int] | None,
    cache: RenderCache,
    tag: Hashable,
) -> tuple[Array, Array]:
    """(rgb, alpha) area-reduced to ``size`` (as they are for None), cached by size."""
    if size is None:
        return rgb, alpha
    return cache.get(
        ("reduced", be.name, tag, size), lambda: (be.resize(rgb, size), be.resize(alpha, size))
    )


def _forward_matrix(
    face: Face, occ_size: tuple[int, int], params: RenderParams
) -> tuple[np.ndarray, float]:
    aug = params.augment
    scale = pixel_scale(face, occ_size, params) * aug.affine_scale
    matrix = geometry.occluder_matrix(
        occ_size,
        center_pixels(face, params.center_rel),
        scale,
        params.rotation + aug.affine_rotation,
        params.flip,
        aug.affine_shear,
    )
    return matrix, scale


def _pad(face: Face, params: RenderParams) -> int:
    b = params.blend
    return band_radius(face, params) + math.ceil(3 * max(b.feather, b.edge_blur) * face.scale) + 2


def placement(
    be: Backend,
    face: Face,
    rgb: Array,
    alpha: Array,
    key: Hashable,
    params: RenderParams,
    cache: RenderCache,
    alpha_key: Hashable | None = None,
) -> tuple[Placement, Array] | None:
    """The placement and the placed uint8 shape alpha (on ``be``, read-only: it may be shared)
    of an occluder whose ``(rgb, alpha)`` are cached under ``key`` (``alpha_key``: the key of
    its alpha alone, when the colours are not the occluder's own); None when it misses the
    face image."""
    size = (alpha.shape[1], alpha.shape[0])
    matrix, scale = _forward_matrix(face, size, params)
    small = reduced_size(size, scale)
    _, alpha_src = reduced(be, rgb, alpha, small, cache, key)
    back = geometry.translate(0.0, 0.0) if small is None else geometry.resize_matrix(size, small)
    full = geometry.compose(matrix, back)
    src_size = (alpha_src.shape[1], alpha_src.shape[0])
    region = geometry.region_of(full, src_size, face.size, _pad(face, params))
    if region is None:
        return None
    placed = Placement(region, full, src_size, scale, small)
    # sampling places the shape to measure coverage, the render places it again: the warp is
    # shared through the cache's recent values (keyed by the alpha's source and the geometry)
    warped = cache.recent(
        ("placed-alpha", be.name, key if alpha_key is None else alpha_key, small, region,
         full.tobytes()),
        lambda: _read_only(geometry.warp_region(be, alpha_src, full, region)),
    )  # fmt: skip
    return placed, warped


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
    be = get_backend(backend)
    cache = cache or no_cache()
    image, alpha = on_device(be, cache, occluder.key, occluder.image, occluder.alpha)
    found = placement(be, face, image, alpha, occluder.key, params, cache)
    if found is None:
        return None
    where, placed_alpha = found
    host = be.to_numpy(placed_alpha)
    return Placed(where, host, host >= 128)


def coverage_of(face: Face, placed: Placed | None) -> float:
    """Fraction of the face mask that the placed occluder hides."""
    if placed is None:
        return 0.0
    x0, y0, x1, y1 = placed.region
    hidden = np.count_nonzero(face.mask[y0:y1, x0:x1] & placed.label)
    return hidden / max(1, int(np.count_nonzero(face.mask)))
