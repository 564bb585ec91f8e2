"""The photo's own rendering, estimated once per face and carried over to the occluder.

- Its look (:mod:`studio.core.ops.look`): monochrome or toned, colour cast, colourfulness and
  tone curve. :func:`look_parts` says which parts a sample applies, after its colour method: a
  transfer towards the skin (SOT, Reinhard) has taken the skin's cast, colourfulness and tone
  already, so only a monochrome photo's toning is left to it; ``lighting`` aims at the scene
  before the photo's rendering (:func:`studio.core.ops.look.unrendered`) and takes the cast
  from here instead of its own white balance; no colour method takes all of it.
- Its JPEG quality and effective resolution (:mod:`studio.core.ops.compression`): after
  compositing, the occluder's pixels (its label and edge band) are brought to the photo's
  resolution and re-encoded at its quality on its 8-pixel grid (:func:`finish`).

Each estimate is a pure function of the face, cached by its content key.
"""

from __future__ import annotations

import dataclasses

from studio.core.engine.cache import RenderCache
from studio.core.engine.placement import Placed
from studio.core.model.inputs import Face
from studio.core.model.params import ColorParams, RenderParams
from studio.core.ops import color, compression, look
from studio.core.ops.backend import Array, Backend


def renders_look(params: RenderParams) -> bool:
    """True when the photo's look is applied to the occluder."""
    h = params.harmonize
    return h.enabled and (h.look > 0 or h.tone > 0)


def compresses(params: RenderParams) -> bool:
    """True when the occluder takes on the photo's JPEG quality and resolution."""
    h = params.harmonize
    return h.enabled and h.compression > 0


def face_look(face: Face, cache: RenderCache, parts: look.Parts | None = None) -> look.Look:
    """The face photo's look (host values, cached by content); only as much of it as
    ``parts`` apply (a transfer towards the skin leaves only the toning to the look: the
    rest is not estimated)."""
    if parts is not None and parts.cast == 0 and parts.tone == 0:
        return cache.get(
            ("look", face.key, face.bbox, "toning"),
            lambda: look.estimate(face.image, face.mask, face.bbox, toning_only=True),
        )
    return cache.get(
        ("look", face.key, face.bbox), lambda: look.estimate(face.image, face.mask, face.bbox)
    )


def look_parts(params: RenderParams) -> look.Parts:
    """Which parts of the look a sample applies (see the module docstring)."""
    h = params.harmonize
    if params.color.method in color.TRANSFERS and params.color.strength > 0:
        return look.Parts(mono=h.look)
    return look.Parts(mono=h.look, cast=h.look * h.white_balance, tone=h.tone)


def lighting_target(
    face: Face, target: color.ColourStats, params: RenderParams, cache: RenderCache
) -> tuple[color.ColourStats, ColorParams]:
    """The ``lighting`` method's target and parameters with the look on: the target before
    the photo's rendering, and no white balance of its own (the look's cast replaces it); its
    contrast is then matched relative to the level (``lighting(relative=True)``)."""
    if not renders_look(params):
        return target, params.color
    unrendered = look.unrendered(target, face_look(face, cache), look_parts(params))
    return unrendered, dataclasses.replace(params.color, white_balance=0.0)


def with_look(
    be: Backend,
    face: Face,
    colours: Array,
    alpha: Array,
    params: RenderParams,
    cache: RenderCache,
) -> Array | None:
    """The placed occluder (premultiplied, uint8 or float32; float32 ``alpha``) rendered with
    the photo's look, float32; None when the look changes nothing."""
    xp = be.xp
    parts = look_parts(params)
    seen = face_look(face, cache, parts)
    if not parts.changes(seen):
        return None
    return look.render_look(be, colours.astype(xp.float32, copy=False), alpha, seen, parts)


@dataclasses.dataclass(frozen=True)
class Compression:
    """The photo's JPEG quality (None: none to carry over) and effective resolution."""

    quality: float | None
    resolution: float


def face_compression(face: Face, cache: RenderCache) -> Compression:
    """The face photo's JPEG quality and resolution (read on its face box; cached)."""

    def make() -> Compression:
        x0, y0, x1, y1 = (round(v) for v in face.bbox)
        box = (x0, y0, x1, y1)
        quality = compression.jpeg_quality(face.image, box)
        resolution = compression.effective_resolution(face.image, box)
        return Compression(quality, resolution)

    return cache.get(("compression", face.key, face.bbox), make)


def finish(
    be: Backend,
    face: Face,
    face_image: Array,
    roi: Array,
    placed: Placed,
    params: RenderParams,
    cache: RenderCache,
) -> Array:
    """The composited region ``roi`` with the occluder's pixels (label and edge band) at the
    photo's resolution and JPEG quality (``strength`` of the way from none)."""
    s = params.harmonize.compression
    found = face_compression(face, cache)
    keep = placed.label | placed.band
    factor = 1.0 - s * (1.0 - found.resolution)
    if factor < 0.98:
        roi = compression.resampled(be, roi, keep, factor)
    if found.quality is not None:
        quality = 100.0 - s * (100.0 - found.quality)
        if quality < compression.SKIP_ABOVE:
            roi = compression.reencoded(be, face_image, placed.region, roi, keep, quality)
    return roi
