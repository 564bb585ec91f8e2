"""The occluder as it will be pasted, before placement: built (RandOcc shape and texture),
colour-transferred towards the skin, photometrically augmented, premultiplied.

None of it depends on where the occluder goes, so all of it is cached (by the occluder's
content key, the colour target and the parameters): dragging an occluder recomputes nothing
here. Keys are tuples of what made the value.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from studio.core.engine import harmonize as stage
from studio.core.engine.cache import RenderCache, on_device
from studio.core.engine.placement import Placed, Placement
from studio.core.model.errors import RenderError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams
from studio.core.ops import augment, color, geometry, shapes
from studio.core.ops.backend import Array, Backend

NO_PHOTOMETRIC = (0.0, None, 0.0, 1.0)  #: blur, JPEG, brightness, contrast that change nothing


def base_occluder(
    params: RenderParams, occluder: Occluder | Texture | None, cache: RenderCache
) -> Occluder:
    """The occluder to paste: as given (NatOcc) or built from the shape and texture (RandOcc).

    RandOcc shapes are always built on the host (CPU backend), whatever ``be`` is: sampling
    checks coverage on exactly this rasterisation, so every backend pastes the same shape.
    """
    if params.mode == "randocc":
        shape = params.shape
        if shape is None:
            raise RenderError("randocc parameters carry no shape")
        texture = occluder if isinstance(occluder, Texture) else None
        # the alpha is rasterised once per shape: sampling (no texture) and rendering share it
        alpha = cache.get(("shape-alpha", shape), lambda: shapes.shape_alpha(shape))
        key = ("shape", shape, None if texture is None else texture.key)
        return cache.get(
            key, lambda: shapes.shape_occluder(shape, texture, params.occluder_id, alpha)
        )
    if not isinstance(occluder, Occluder):
        raise RenderError("natocc rendering needs an Occluder")
    if params.augment.min_fragment > 0:
        return _cleaned(occluder, params.augment.min_fragment, cache)[0]
    return occluder


def _cleaned(occluder: Occluder, share: float, cache: RenderCache) -> tuple[Occluder, int]:
    """The cut-out without the parts of its shape smaller than ``share`` of its largest, and
    how many label pixels that dropped (cached by content)."""

    def make() -> tuple[Occluder, int]:
        alpha, dropped = shapes.drop_fragments(occluder.alpha, share)
        if dropped == 0:
            return occluder, 0
        clean = Occluder(occluder.image, alpha, occluder.id, occluder.kind, occluder.up)
        return clean, dropped

    return cache.get(("fragments", occluder.key, share), make)


def fragments_dropped(
    params: RenderParams, occluder: Occluder | Texture | None, cache: RenderCache
) -> int | None:
    """Label pixels of the cut-out dropped as fragments (None: the option is off)."""
    share = params.augment.min_fragment
    if share <= 0 or params.mode == "randocc" or not isinstance(occluder, Occluder):
        return None
    return _cleaned(occluder, share, cache)[1]


@dataclass
class Prepared:
    """The prepared occluder on a backend: colours, shape alpha, the key they are cached
    under, and the base occluder they came from."""

    rgb: Array
    alpha: Array
    key: Hashable
    base: Occluder


def prepare(
    be: Backend,
    face: Face,
    occ: Occluder,
    params: RenderParams,
    cache: RenderCache,
    ring: stage.Ring | None = None,
) -> Prepared:
    """The occluder ``occ`` (:func:`base_occluder`) after colour transfer (SOT or Reinhard;
    ``lighting`` runs on the placed occluder) and photometric augmentation, on ``be``.

    The colour target is the face's skin, or the skin ring's (``ring``, when the harmonize
    parameters say so and it is large enough).
    When the occluder is JPEG re-compressed, everything that feeds the JPEG encoder (colour
    transfer, blur) runs on the host: JPEG turns 1-level float differences between backends
    into blocks of larger ones, so the host result is computed once and uploaded.
    """
    if not be.on_host and params.augment.jpeg_quality is not None:
        host = prepare(be.host, face, occ, params, cache, ring)
        rgb, alpha = on_device(be, cache, host.key, host.rgb, host.alpha)
        return Prepared(rgb, alpha, host.key, host.base)
    image, alpha = on_device(be, cache, occ.key, occ.image, occ.alpha)
    transfers = params.color.method in color.TRANSFERS
    to_ring = ring is not None and stage.transfers_to_ring(params) and ring.usable
    delit = stage.delights(params)  # the target without its light: the light step adds it
    target = (ring.key if ring is not None and to_ring else face.key, delit)

    def colored() -> Array:
        if not transfers or params.color.strength <= 0:
            return image
        # the transport does not depend on the strength: a new strength only applies it
        moved = cache.get(
            ("transport", occ.key, target, color.transport_key(params.color), be.name),
            lambda: color.transport(be, image, alpha, skin(), params.color),
        )
        c = params.color
        return image if moved is None else moved.apply(be, image, c.strength, c.highlights)

    def skin() -> np.ndarray:
        if ring is not None and to_ring:
            return ring.skin_pixels(delit=delit)
        return stage.face_skin(face, cache, delit)

    color_key = ("color", occ.key, target if transfers else None, params.color)
    rgb = cache.get((*color_key, be.name), colored)
    photometric = params.augment.photometric
    if photometric == NO_PHOTOMETRIC:
        return Prepared(rgb, alpha, color_key, occ)
    rgb = cache.get(
        ("augment", color_key, photometric, be.name),
        lambda: augment.augment_occluder(be, rgb, params.augment),
    )
    return Prepared(rgb, alpha, (color_key, photometric), occ)


def premultiplied(be: Backend, prepared: Prepared, where: Placement, cache: RenderCache) -> Array:
    """The prepared colours premultiplied by alpha (uint8), at the placement's reduced size:
    cached by that size, so every scale that reduces to it shares one copy."""

    def make() -> Array:
        rgb, alpha, size = prepared.rgb, prepared.alpha, where.reduced_size
        if size is not None:  # the area-reduced copy the placement maps from
            rgb, alpha = be.resize(rgb, size), be.resize(alpha, size)
        xp = be.xp
        a = alpha.astype(xp.float32) * np.float32(1 / 255)
        return (rgb.astype(xp.float32) * a[..., None] + np.float32(0.5)).astype(xp.uint8)

    return cache.get(("premultiplied", be.name, prepared.key, where.reduced_size), make)


def placed_colours(be: Backend, prepared: Prepared, placed: Placed, cache: RenderCache) -> Array:
    """The prepared colours premultiplied and warped onto the placed region (uint8)."""
    where = placed.placement
    prem = premultiplied(be, prepared, where, cache)
    return geometry.warp_region(be, prem, where.matrix, where.region)
