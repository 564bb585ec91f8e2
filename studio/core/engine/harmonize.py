"""The paste stage of ``render()``: the lighting colour method and the harmonize steps.

Between warping the occluder onto the face and compositing it, the placed occluder
(premultiplied, in face pixels) goes through, in order:

1. ``lighting`` colour (when it is the colour method), towards the whole face's skin or, with
   ``harmonize.color_target: ring``, towards the skin ring around the occluder (SOT and
   Reinhard with the ring target run before the warp, in render, on the ring's colours);
   then the photo's look (:mod:`studio.core.engine.photo`): monochrome or toned, colour cast,
   tone curve and colourfulness;
2. shading: the face's low-frequency luminance field where the occluder sits modulates it;
   with ``light``, a plane fitted to the ring's log luminance sets the light's direction and
   strength across the whole occluder (the shading field then carries what the plane does
   not);
3. focus: blurred (or lightly sharpened) to the ring's sharpness;
4. noise: its excess chroma noise smoothed, then seeded noise brings its noise (luminance and
   chroma) up to the ring's;
5. cast shadow: the face beside the occluder is darkened by a soft offset copy of its shape.

Everything is computed near the occluder, never on the whole image: ring statistics on a work
region (the occluder's region grown by the ring), the shadow on the box it can reach. The ring
is the face-mask pixels within ``ring`` (times the occluder size) of the occluder's label,
outside its label and edge band. Its statistics depend on the placement, so they are computed
per render, from a sampled grid of its pixels (:mod:`studio.core.ops.estimate`; the ring and
the occluder's interior are held on cells, :mod:`studio.core.ops.cells`, and looked up only
where the estimators sample). The occluder's own statistics are measured once, on it as
placed (in face pixels, after the warp's resampling: scaling and interpolation change its
blur and noise in ways a cached estimate in its own pixels cannot predict) and before any
step changes it; what the steps do to its noise is predicted (the shading field's RMS, the
focus filter's white-noise gain), not measured again. The steps build one per-pixel gain
(the shading field, the focus filter's normalisation) and one noise field, applied with the
rounding in a single pass (:func:`studio.core.ops.harmonize.compose`). A step whose strength
is 0 is skipped, and with no step active the stage is not entered: the render is then
byte-identical to one without harmonisation. Labels never change.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from studio.core.engine import photo
from studio.core.engine.cache import RenderCache, on_device
from studio.core.engine.placement import Placed
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import RenderParams
from studio.core.ops import cells, color, shadow
from studio.core.ops import estimate as est
from studio.core.ops import harmonize as hz
from studio.core.ops.backend import Array, Backend, get_backend

Region = tuple[int, int, int, int]
RING_GRID = 6  #: the ring's dilation runs on a grid where it is at most this many cells wide
MIN_RING_PIXELS = 64  #: a ring with fewer skin pixels gives no statistics (steps skipped)
CHROMA_PASSES = 2  #: smoothing passes of the occluder's excess chroma noise


def relights(params: RenderParams) -> bool:
    """True when the colour method is ``lighting`` (run by this stage, on the placed occluder)."""
    return params.color.method == "lighting" and params.color.strength > 0


def filters(params: RenderParams) -> bool:
    """True when a step changes the occluder's own pixels (the photo's look, shading, light,
    focus or noise)."""
    h = params.harmonize
    steps = (h.shading, h.light, h.focus, h.noise)
    return h.enabled and (any(v > 0 for v in steps) or photo.renders_look(params))


def casts_shadow(params: RenderParams) -> bool:
    h = params.harmonize
    return h.enabled and h.shadow.opacity > 0


def needs_stage(params: RenderParams) -> bool:
    """True when the paste stage changes anything (else render skips it entirely)."""
    return relights(params) or filters(params) or casts_shadow(params)


def ring_target(params: RenderParams) -> bool:
    """True when colour transfer targets the skin ring instead of the whole face."""
    h = params.harmonize
    return h.enabled and h.color_target == "ring" and params.color.method != "none"


def transfers_to_ring(params: RenderParams) -> bool:
    """True when SOT or Reinhard (run before placement) take the skin ring as their target."""
    return ring_target(params) and params.color.method in color.TRANSFERS


def needs_ring(params: RenderParams) -> bool:
    """True when the render reads the skin ring: as the colour target, or in a step."""
    return transfers_to_ring(params) or relights(params) or filters(params)


def ring_radius(params: RenderParams, size: float) -> int:
    return max(2, math.ceil(params.harmonize.ring * size))


def work_region(
    params: RenderParams, region: Region, size: float, image_size: tuple[int, int]
) -> Region:
    """The occluder's region grown by the skin ring (clipped to the image)."""
    grow = ring_radius(params, size) + 2
    x0, y0, x1, y1 = region
    w, h = image_size
    return max(0, x0 - grow), max(0, y0 - grow), min(w, x1 + grow), min(h, y1 + grow)


def _embed(xp, inner: Array, region: Region, work: Region) -> Array:
    """``inner`` (laid out on ``region``) on a zero canvas laid out on ``work``."""
    x0, y0, x1, y1 = region
    wx0, wy0, wx1, wy1 = work
    out = xp.zeros((wy1 - wy0, wx1 - wx0), inner.dtype)
    out[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0] = inner
    return out


def ring_mask(be: Backend, label: Array, band: Array, skin: Array, radius: int) -> cells.CellMask:
    """Skin pixels within about ``radius`` of ``label``, outside it and its edge ``band``.

    The dilation runs on a grid of whole cells, reduced so that the radius is about
    :data:`RING_GRID` cells: a cell is in the label when any of its pixels is. The ring's
    edge is therefore blocky at the cells' scale (it is a statistics region, not a label),
    and it stays on its cells (a :class:`~studio.core.ops.cells.CellMask`)."""
    xp = be.xp
    f = max(1, radius // RING_GRID)
    ch, cw = cells.cell_grid(label.shape, f)
    if f > 1 and ch > 0 and cw > 0:
        small = cells.any_in_cells(be, label, f).view(xp.uint8)
        grown = be.morph(small, max(1, round(radius / f)), dilate=True) > 0
    else:
        f, grown = 1, be.morph(label.astype(xp.uint8), radius, dilate=True) > 0
    return cells.CellMask(be, grown, f, label.shape, keep=(skin,), drop=(label, band))


@dataclass
class Ring:
    """The face around a placed occluder, on the work region; the ring's pixels and their
    statistics are computed when first asked for."""

    be: Backend
    image: Array  #: face colours on the work region, uint8
    skin: Array  #: face mask on the work region
    label: Array  #: the occluder's label on the work region
    band: Array  #: its edge band on the work region
    radius: int  #: ring width in pixels
    work: Region  #: the work region: the occluder's region grown by the ring (in the image)
    key: Hashable = None  #: what made it: the placement and the ring's width

    @cached_property
    def cells(self) -> cells.CellMask:
        """The ring's pixels, as read by the estimators."""
        return ring_mask(self.be, self.label, self.band, self.skin, self.radius)

    @cached_property
    def mask(self) -> Array:
        """The ring's pixels (bool)."""
        return self.cells.full()

    @property
    def step(self) -> int:
        """The estimators' sampling step on the work region."""
        return est.sample_step(self.label.shape)

    @cached_property
    def sampled(self) -> Array:
        """The ring's pixels on the estimators' grid (every :attr:`step`-th row and column)."""
        s = self.step
        return self.cells[::s, ::s]

    @cached_property
    def count(self) -> int:
        """About how many pixels the ring holds (counted on the estimators' grid)."""
        s = self.step
        return int(self.be.xp.count_nonzero(self.sampled)) * s * s

    @property
    def usable(self) -> bool:
        return self.count >= MIN_RING_PIXELS

    @cached_property
    def colour(self) -> color.ColourStats:
        s = self.step
        return color.colour_stats(self.be, self.image, self.cells if s > 1 else self.mask, s)

    @cached_property
    def stats(self) -> est.Measured:
        """Blur and noise of the ring's skin."""
        return est.measure(self.be, self.image, self.cells, budget=est.BLUR_BUDGET)

    @cached_property
    def noise(self) -> est.Measured:
        """Noise of the ring's skin (no blur estimate unless :attr:`stats` was asked for)."""
        if "stats" in self.__dict__:
            return self.stats
        return est.measure(self.be, self.image, self.cells, blur=False)

    @cached_property
    def light(self) -> tuple[float, float] | None:
        """The light across the ring: the gradient of a plane fitted to its log luminance,
        per pixel (None: too few pixels)."""
        return est.light_plane(self.be, self.image, self.sampled, self.step)

    @cached_property
    def delit_colour(self) -> color.ColourStats:
        """:attr:`colour` with the light across the ring taken out (what the light step
        puts back)."""
        return color.colour_stats(get_backend("cpu"), self.skin_pixels(delit=True) * 255.0)

    def skin_pixels(self, max_count: int = 16384, delit: bool = False) -> np.ndarray:
        """The ring's colours (N x 3 float32 in [0, 1], host) on a regular grid of about
        ``max_count`` of them (the target of SOT / Reinhard with the ring target); with
        ``delit``, the light across the ring (:attr:`light`) taken out."""
        s = max(1, math.ceil(math.sqrt(self.count / max_count)))
        where = self.cells[::s, ::s]
        px = self.be.to_numpy(self.image[::s, ::s][where]).astype(np.float32)
        if delit:
            ys, xs = np.nonzero(self.be.to_numpy(where))
            px = est.delit(px, xs * s, ys * s, self.light)
        return px / np.float32(255.0)


def ring_of(
    be: Backend, params: RenderParams, face_image: Array, face_mask: Array, placed: Placed
) -> Ring:
    """The skin ring of a placed occluder, on its work region."""
    xp = be.xp
    region = placed.region
    size = (face_image.shape[1], face_image.shape[0])
    work = work_region(params, region, placed.size, size)
    wx0, wy0, wx1, wy1 = work
    return Ring(
        be,
        face_image[wy0:wy1, wx0:wx1],
        face_mask[wy0:wy1, wx0:wx1],
        _embed(xp, placed.label, region, work),
        _embed(xp, placed.band, region, work),
        ring_radius(params, placed.size),
        work,
        ("ring", placed.key, params.harmonize.ring),
    )


@dataclass
class Pasted:
    """What the stage hands to the compositor."""

    premultiplied: Array  #: uint8 placed occluder colours (premultiplied), on the region
    face_roi: Array  #: uint8 face under the region (shadowed where a shadow is cast)
    shadow_box: Region | None = None  #: the pixels the shadow darkened, or None
    shadow_pixels: Array | None = None  #: their new values (uint8)


def source_stats(occluder: Occluder, cache: RenderCache) -> color.ColourStats:
    """Colour statistics of an occluder's own pixels (host, cached by content)."""
    cpu = get_backend("cpu")
    return cache.get(
        ("colour-stats", occluder.key),
        lambda: color.colour_stats(cpu, occluder.image, occluder.alpha >= 128),
    )


def face_skin(face: Face, cache: RenderCache, delit: bool = False) -> np.ndarray:
    """The whole face's skin pixels (:func:`~studio.core.ops.color.skin_pixels`, host),
    cached by content: the colour transfers' target and the lighting's statistics; with
    ``delit``, the light across the face taken out (the light step puts it back)."""
    key = ("skin", face.key, face.bbox) + (("delit",) if delit else ())
    return cache.get(key, lambda: color.skin_pixels(face.image, face.mask, face.bbox, delit))


def face_stats(face: Face, cache: RenderCache, delit: bool = False) -> color.ColourStats:
    """Colour statistics of the whole face's skin pixels (host, cached by content)."""
    cpu = get_backend("cpu")
    skin = face_skin(face, cache, delit)
    key = ("skin-stats", face.key, face.bbox) + (("delit",) if delit else ())
    return cache.get(key, lambda: color.colour_stats(cpu, skin * np.float32(255.0)))


def delights(params: RenderParams) -> bool:
    """True when the light step puts the light back: colour targets are taken without it."""
    h = params.harmonize
    return h.enabled and h.light > 0


def paste(
    be: Backend,
    face: Face,
    face_image: Array,
    placed: Placed,
    ring: Ring | None,
    premultiplied: Array,
    params: RenderParams,
    occluder: Occluder,
    cache: RenderCache,
) -> Pasted:
    """Run the steps on the placed occluder (see the module docstring); ``ring``: its skin
    ring (:func:`ring_of`, built by the render when :func:`needs_ring`)."""
    xp = be.xp
    h = params.harmonize
    x0, y0, x1, y1 = placed.region
    if relights(params) or filters(params):
        assert ring is not None
        premultiplied = _harmonised(be, face, placed, ring, premultiplied, params, occluder, cache)
    face_roi = face_image[y0:y1, x0:x1]
    if not casts_shadow(params):
        return Pasted(premultiplied, face_roi)
    box = shadow.window(h.shadow, placed.size, placed.region, face.size)
    if box is None:
        return Pasted(premultiplied, face_roi)
    pixels = shadow.cast(
        be, face_image, placed.alpha, placed.region, box, h.shadow, placed.size,
        params.blend.opacity,
    )  # fmt: skip
    return Pasted(premultiplied, _overlay(xp, face_roi, placed.region, pixels, box), box, pixels)


def _overlay(xp, roi: Array, region: Region, pixels: Array, box: Region) -> Array:
    """``roi`` (the face on ``region``) with ``pixels`` (on ``box``) written over it."""
    x0, y0, x1, y1 = region
    bx0, by0, bx1, by1 = box
    ix0, iy0, ix1, iy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
    if ix1 <= ix0 or iy1 <= iy0:
        return roi
    out = roi.copy()
    part = pixels[iy0 - by0 : iy1 - by0, ix0 - bx0 : ix1 - bx0]
    out[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = part
    return out


@dataclass
class Pending:
    """The placed occluder's colours as the steps leave them for
    :func:`~studio.core.ops.harmonize.compose`: premultiplied ``colours * alpha / norm``, times
    ``gain``; and the factor by which the steps scaled its noise."""

    colours: Array
    alpha: Array  #: float32 placed alpha (0..255)
    norm: Array
    gain: Array | None = None
    noise_gain: float = 1.0


def _harmonised(
    be: Backend,
    face: Face,
    placed: Placed,
    ring: Ring,
    premultiplied: Array,
    params: RenderParams,
    occluder: Occluder,
    cache: RenderCache,
) -> Array:
    """The placed occluder's colours after lighting, shading, focus and noise (uint8
    premultiplied).

    The occluder's statistics are measured once, as placed, before any step changes it; each
    step's effect on its noise is then predicted (the shading factor's RMS, the focus filter's
    white-noise gain) rather than measured again. The steps build one per-pixel gain (the
    shading field, the focus filter's normalisation) and one noise field, applied in a single
    pass by :func:`studio.core.ops.harmonize.compose`.
    """
    xp = be.xp
    h, c = params.harmonize, params.color
    alpha = placed.alpha.astype(xp.float32)
    colours = None  # float32 premultiplied colours, once a step needs them
    if relights(params):
        use_ring = ring_target(params) and ring.usable
        if delights(params):
            target = ring.delit_colour if use_ring else face_stats(face, cache, delit=True)
        else:
            target = ring.colour if use_ring else face_stats(face, cache)
        target, c = photo.lighting_target(face, target, params, cache)
        colours = premultiplied.astype(xp.float32)
        its = source_stats(occluder, cache)
        relative = photo.renders_look(params)
        colours = color.lighting(be, colours, alpha, its, target, c, relative)
    if photo.renders_look(params):  # the photo's colour rendering, after the colour method
        looked = photo.with_look(be, face, premultiplied if colours is None else colours,
                                 alpha, params, cache)  # fmt: skip
        colours = colours if looked is None else looked
    matched = h.enabled and (h.focus > 0 or h.noise > 0) and ring.usable
    inside = est.interior_cells(be, placed.label, est.MARGIN) if matched else None
    own = None
    if inside is not None:
        measured = premultiplied if colours is None else colours
        own = est.measure(be, measured, inside, blur=h.focus > 0, budget=est.BLUR_BUDGET)
        if measured.dtype != np.uint8:  # the noise its pixels hold, not counting the rounding
            own = est.Measured(own.blur, est.unrounded(own.luma, 0), est.unrounded(own.chroma, 1))
    # the colours stay uint8 until a step filters them
    pending = Pending(premultiplied if colours is None else colours, alpha, alpha)
    # the light across the ring (a plane of its log luminance), when the light step is on
    trend = ring.light if delights(params) and ring.usable else None
    if h.enabled and (h.shading > 0 or trend is not None):
        x0, y0, x1, y1 = placed.region
        wx0, wy0 = ring.work[:2]
        inner = (x0 - wx0, y0 - wy0, x1 - wx0, y1 - wy0)
        sigma = h.shading_smooth * math.sqrt(face.bbox_area)
        shaded = hz.shading_gain(
            be, ring.image, ring.skin, ring.label, sigma, inner, h.shading, trend, h.light
        )
        if shaded is not None:
            pending.gain, pending.noise_gain = shaded
    noise = None
    if own is not None:
        assert inside is not None
        pending, noise = _focus_and_noise(be, pending, own, inside, ring, params, cache)
    older = relights(params) or h.shading > 0 or h.focus > 0 or h.noise > 0
    if not older and colours is None and pending.gain is None and noise is None:
        return premultiplied  # the later steps found nothing to change: as placed
    return hz.compose(be, pending.colours, placed.alpha, pending.norm, pending.gain, noise)


def _focus_and_noise(
    be: Backend,
    pending: Pending,
    own: est.Measured,
    inside: cells.CellMask,
    ring: Ring,
    params: RenderParams,
    cache: RenderCache,
) -> tuple[Pending, Array | None]:
    """Focus, then noise, matched on the occluder's interior in face pixels: the colours as
    :func:`studio.core.ops.harmonize.compose` takes them, and the noise to add. The noise the
    focus filter and the shading leave is predicted (white-noise model), not re-measured."""
    h = params.harmonize
    target = ring.stats if h.focus > 0 else ring.noise
    colours, alpha, norm, gain = pending.colours, pending.alpha, pending.norm, pending.gain
    ratio = pending.noise_gain
    if h.focus > 0:
        blur, sharpen = hz.focus_plan(target.blur, own.blur, h.focus)
        if blur > 0 or sharpen > 0:
            colours, norm = hz.refocus(be, colours, alpha, blur, sharpen, own.blur)
            ratio *= hz.residual_ratio(blur if blur > 0 else own.blur, sharpen)
    # the noise its pixels hold, scaled by the steps, then rounded once more at the end
    luma, chroma = est.rounded(own.luma * ratio, 0), est.rounded(own.chroma * ratio, 1)
    if h.noise <= 0:
        return Pending(colours, alpha, norm, gain, ratio), None
    # chroma noise above the ring's is smoothed away (the luminance keeps its detail); the
    # occluder's noise is not white, so a second pass corrects what the first one missed
    for _ in range(CHROMA_PASSES):
        sigma = hz.chroma_sigma(chroma, target.chroma, h.noise)
        if sigma <= 0:
            break
        if gain is not None or norm is not alpha:  # the colours as they are now, premultiplied
            colours = hz.premultiply(be, colours, alpha, norm, gain)
            norm, gain = alpha, None
        colours = hz.smooth_chroma(be, colours, alpha, sigma)
        chroma = est.measure(be, colours, inside, blur=False).chroma
    add_l = _missing(target.luma, luma, h.noise)
    add_c = _missing(target.chroma, chroma, h.noise)
    (tile,) = on_device(be, cache, ("noise-tile", hz.NOISE_TILE_SEED), hz.noise_tile())
    noise = hz.noise_field(be, tile, alpha.shape, add_l, add_c, h.noise_seed)
    return Pending(colours, alpha, norm, gain, ratio), noise


def _missing(target: float, current: float, strength: float) -> float:
    """Std of the noise to add so that ``current`` moves towards ``target`` (in variance)."""
    if not (math.isfinite(target) and math.isfinite(current)):
        return 0.0
    return math.sqrt(max(0.0, strength * (target * target - current * current)))
