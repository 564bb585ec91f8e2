"""The harmonize steps on a placed occluder: focus, noise and shading (see
:mod:`studio.core.engine.harmonize` for the stage that runs them,
:mod:`studio.core.ops.estimate` for the statistics they match).

Placed occluders are premultiplied colours (HxWx3, 0..255; uint8 until a step filters them,
then float32) with their HxW alpha (0..255). The steps do not apply their changes one after
the other: focus returns filtered colours and their normaliser, shading a per-pixel factor,
noise a noise field, and :func:`compose` applies them all with one rounding, clipped to
[0, alpha].
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from studio.core.ops.backend import Array, Backend, blur_radius
from studio.core.ops.estimate import LUMA, PLANES, planes

SHARPEN_MAX = 1.0  #: most unsharp-mask amount of the focus step: it sharpens lightly
SHADING_GRID = 6.0  #: the shading base layer is blurred with this sigma on its reduced grid
SHADING_STRIDE = 2  #: ... whose cells are averaged from about this many pixels per side
GAIN_RANGE = (0.25, 2.5)  #: the shading gain is kept within these factors
PLANE_MAX = 4.0  #: most log-luminance change the light plane makes across the work region


USM_GAIN = 0.9  #: calibrated: an unsharp mask of amount k removes k g / (1 + k g) of the blur


def focus_plan(target: float, current: float, strength: float) -> tuple[float, float]:
    """(blur sigma, sharpen amount) that move a blur of ``current`` towards ``target``.

    Blurs add in variance: ``sigma^2 = strength * (target^2 - current^2)``. An unsharp mask of
    sigma ``current`` and amount ``k`` removes a share ``q = k g / (1 + k g)`` of the blur
    variance as :func:`studio.core.ops.estimate.blur_sigma` reads it (``g`` =
    :data:`USM_GAIN`, fitted on blurred step edges), so ``k = q / (g (1 - q))`` for
    ``q = strength * (1 - target^2 / current^2)``, at most :data:`SHARPEN_MAX`.
    """
    if strength <= 0 or not (math.isfinite(target) and math.isfinite(current)):
        return 0.0, 0.0
    if target > current:
        return math.sqrt(strength * (target * target - current * current)), 0.0
    if current <= 0:
        return 0.0, 0.0
    q = strength * (1.0 - (target / current) ** 2)
    if q <= 0:
        return 0.0, 0.0
    return 0.0, min(SHARPEN_MAX, q / (USM_GAIN * (1.0 - q)) if q < 1.0 else SHARPEN_MAX)


def refocus(
    be: Backend, colours: Array, alpha: Array, blur: float, sharpen: float, sigma: float
) -> tuple[Array, Array]:
    """Blur (``blur`` > 0) or unsharp-mask (``sharpen`` > 0, sigma ``sigma``) the colours of a
    placed occluder: premultiplied HxWx3 (uint8 or float32) with its HxW float32 alpha
    (0..255).

    Returns ``(colours, norm)``, float32: the premultiplied colours are ``colours * alpha /
    norm`` (see :func:`compose`, which applies it). The colours are filtered with a
    mask-normalised Gaussian (``norm`` is the blurred alpha: no dark fringe from outside the
    shape) and premultiplied again by the unchanged alpha: the silhouette stays as placed.
    Unchanged colours come back as they are, with ``norm = alpha``.
    """
    xp = be.xp
    s = blur if blur > 0 else sigma
    if s <= 0 or (blur <= 0 and sharpen <= 0):
        return colours, alpha
    num = be.gaussian_blur(colours, s, floats=True)
    den = be.gaussian_blur(alpha, s)
    if blur > 0:
        return num, den
    # (1 + k) x - k blur(x), the blurred colours normalised (no fringe) and premultiplied again
    smooth = be.gain(num, alpha * (np.float32(sharpen) / xp.maximum(den, np.float32(1e-3))))
    sharp = colours * np.float32(1.0 + sharpen)
    sharp -= smooth
    return sharp, alpha


NOISE_TILE = 1024  #: side of the table of normal numbers that the added noise is read from
NOISE_TILE_SEED = 20221  #: its fixed seed


@functools.cache
def noise_tile() -> np.ndarray:
    """:data:`NOISE_TILE`^2 x 3 independent standard normal numbers (float32, host), drawn
    once per process from a fixed seed: the noise of every render is a window of it."""
    rng = np.random.default_rng(NOISE_TILE_SEED)
    return rng.standard_normal((NOISE_TILE, NOISE_TILE, 3), dtype=np.float32)


def noise_mix(luma: float, chroma: float, rng: np.random.Generator) -> np.ndarray:
    """The (3, 3) matrix from three unit normal planes to RGB noise of std ``luma`` (the
    luminance) and ``chroma`` (R - Y and B - Y): the chroma part leaves the luminance
    unchanged and the luminance part the colour differences. Which plane plays which part,
    and their signs, are drawn from ``rng``."""
    g_r, g_b = -LUMA[0] / LUMA[1], -LUMA[2] / LUMA[1]
    parts = np.array([[luma] * 3, [chroma, chroma * g_r, 0.0], [0.0, chroma * g_b, chroma]])
    order = rng.permutation(3)
    signs = rng.choice(np.array([-1.0, 1.0]), 3)
    mix = np.zeros((3, 3))
    for part, plane in enumerate(order):
        mix[:, plane] = signs[part] * parts[part]
    return mix.astype(np.float32)


def noise_field(
    be: Backend, tile: Array, shape: tuple[int, int], luma: float, chroma: float, seed: int
) -> Array | None:
    """Seeded white noise (HxWx3 float32 RGB) of std ``luma`` (luminance) and ``chroma`` (R - Y,
    B - Y), or None when there is none to add.

    It is a window of the fixed table ``tile`` (:func:`noise_tile`, on ``be``) at an offset
    drawn from ``seed``, its planes assigned and signed by :func:`noise_mix`: one slice and one
    per-pixel 3x3 product instead of drawing h x w x 3 numbers, and the same numbers on every
    backend. A window larger than the table wraps around it.
    """
    luma, chroma = max(luma, 0.0), max(chroma, 0.0)
    if luma <= 0 and chroma <= 0:
        return None
    xp = be.xp
    h, w = shape
    t = tile.shape[0]
    rng = np.random.default_rng(seed)
    oy, ox = (int(rng.integers(0, t - n + 1 if n <= t else t)) for n in (h, w))
    mix = noise_mix(luma, chroma, rng)
    if h <= t and w <= t:
        window = tile[oy : oy + h, ox : ox + w]
    else:  # wrap around the table (windows this large are rare)
        rows = be.asarray((oy + np.arange(h)) % t)
        cols = be.asarray((ox + np.arange(w)) % t)
        window = xp.take(xp.take(tile, rows, axis=0), cols, axis=1)
    return be.mix(window, mix)


def premultiply(
    be: Backend, colours: Array, alpha: Array, norm: Array, gain: Array | None
) -> Array:
    """``colours * alpha / norm`` times ``gain`` (HxW or None), float32: the colours
    :func:`compose` rounds, before its noise."""
    xp = be.xp
    scale = alpha / xp.maximum(norm, np.float32(1e-3))
    return be.gain(colours.astype(xp.float32, copy=False), scale if gain is None else scale * gain)


def compose(
    be: Backend,
    colours: Array,
    alpha: Array,
    norm: Array,
    gain: Array | None,
    noise: Array | None,
) -> Array:
    """The harmonised occluder, uint8 premultiplied: ``colours * alpha / norm``, times the
    per-pixel ``gain`` (HxW or None), plus ``noise`` weighted by alpha (or None), rounded and
    clipped to [0, alpha] (``alpha`` the uint8 placed alpha, ``norm`` float32). One pass
    over the occluder for everything the steps changed; float32 ``colours`` are overwritten.

    It works on the straight colours ``y = colours * gain * 255 / norm (+ noise)``: clipping
    them to [0, 255] and premultiplying by ``alpha / 255`` keeps every value within
    [0, alpha]."""
    xp = be.xp
    scale = xp.maximum(norm, np.float32(1e-3))
    xp.divide(np.float32(255.0), scale, out=scale)
    if gain is not None:
        scale *= gain
    if colours.dtype != np.float32:
        colours = colours.astype(xp.float32)
    straight = be.gain(colours, scale, out=colours)
    return be.premultiply_u8(straight, alpha, noise)


IMMERKAER = np.outer([1.0, -2.0, 1.0], [1.0, -2.0, 1.0])  #: the noise estimators' residual


def residual_ratio(sigma: float, sharpen: float = 0.0) -> float:
    """Factor by which a Gaussian blur of ``sigma`` (or, with ``sharpen`` = k > 0, an unsharp
    mask ``(1 + k) x - k blur(x)``) scales the noise that the estimators read in white noise
    (to 3 decimals of sigma and k, tabulated as used)."""
    return _residual_ratio(round(sigma, 3), round(sharpen, 3))


@functools.lru_cache(maxsize=4096)
def _residual_ratio(sigma: float, sharpen: float) -> float:
    if sigma <= 0:
        return 1.0
    g = cv2.getGaussianKernel(2 * blur_radius(sigma) + 1, sigma)[:, 0]
    kernel = np.outer(g, g)
    if sharpen > 0:
        delta = np.zeros_like(kernel)
        delta[kernel.shape[0] // 2, kernel.shape[1] // 2] = 1.0
        kernel = (1.0 + sharpen) * delta - sharpen * kernel
    k = cv2.filter2D(np.pad(kernel, 2), -1, IMMERKAER[::-1, ::-1])
    return math.sqrt(float(np.sum(k**2)) / float(np.sum(IMMERKAER**2)))


@functools.cache
def _residual_ratios() -> tuple[np.ndarray, np.ndarray]:
    """Blur sigmas and their :func:`residual_ratio` (decreasing), to invert."""
    sigmas = np.linspace(0.2, 4.0, 77)
    return sigmas, np.array([residual_ratio(float(s)) for s in sigmas])


def chroma_sigma(current: float, target: float, strength: float) -> float:
    """Blur sigma of the colour differences that lowers their (white) noise from ``current``
    towards ``target`` (in variance, by ``strength``); 0 when nothing is to lower."""
    if strength <= 0 or not (math.isfinite(current) and math.isfinite(target)):
        return 0.0
    if current <= target or current <= 0:
        return 0.0
    goal = math.sqrt(current * current - strength * (current * current - target * target))
    sigmas, ratios = _residual_ratios()
    wanted = goal / current
    if wanted >= ratios[0]:
        return float(sigmas[0]) if wanted < 1.0 else 0.0
    return float(np.interp(wanted, ratios[::-1], sigmas[::-1]))


def smooth_chroma(be: Backend, premultiplied: Array, alpha: Array, sigma: float) -> Array:
    """Blur the colour differences (R - Y, B - Y) of a placed occluder by ``sigma``
    (mask-normalised), keeping its luminance: chroma noise drops, detail stays."""
    if sigma <= 0:
        return premultiplied
    xp = be.xp
    y, cr, cb = planes(be, premultiplied)
    blurred = be.gaussian_blur(xp.stack([cr, cb, alpha], axis=-1), sigma)
    norm = alpha / xp.maximum(blurred[..., 2], np.float32(1e-3))
    cr, cb = blurred[..., 0] * norm, blurred[..., 1] * norm
    r, b = y + cr, y + cb
    g = (y - np.float32(LUMA[0]) * r - np.float32(LUMA[2]) * b) * np.float32(1.0 / LUMA[1])
    return xp.stack([r, g, b], axis=-1)


def shading_gain(
    be: Backend,
    face_rgb: Array,
    face_mask: Array,
    label: Array,
    sigma: float,
    window: tuple[int, int, int, int],
    strength: float,
    trend: tuple[float, float] | None = None,
    light: float = 0.0,
) -> tuple[Array, float] | None:
    """The factor ``1 + strength * (gain - 1)`` by which the light on each pixel of ``window``
    differs from its mean over ``label``, and the factor's RMS over ``label`` (by which the
    occluder's noise scales).

    ``face_rgb`` (uint8), ``face_mask`` and ``label`` (bool) cover a work region; ``window`` =
    (x0, y0, x1, y1) is the occluder's region inside it. The base layer is the skin-weighted
    Gaussian (``sigma`` pixels) of the face's luminance: the face is averaged over cells of
    about ``sigma / SHADING_GRID`` pixels (from every :data:`SHADING_STRIDE`-th pixel of a
    cell's side: a low-frequency field needs no more), each cell weighted by its share of
    skin, blurred there, normalised by its mean over the occluder there, and only then
    interpolated onto the window. Where there is little skin nearby the gain fades to 1.

    ``trend``: the light across the skin ring, a plane of its log luminance (its gradient
    per work-region pixel, :func:`studio.core.ops.estimate.light_plane`). It is taken out of
    the luminance before the base layer, and ``light`` of it multiplies the factor (on the
    same cells, with mean 1 over the label): the occluder is lit across its whole extent as
    the ring is, the base layer adds what the plane does not carry. Returns None when
    neither gives anything (the occluder sees no skin, no plane).
    """
    xp = be.xp
    f32 = np.float32
    f = max(1, int(sigma / SHADING_GRID))
    k = max(1, f // SHADING_STRIDE)  # pixels read per cell side: f // k
    f = k * (f // k)
    h, w = face_mask.shape
    ch, cw = max(1, h // f), max(1, w // f)
    cells = (slice(0, ch * f), slice(0, cw * f))  # whole cells only
    read = (cw * (f // k), ch * (f // k))  # every k-th pixel of them

    def shrink(a: Array, dtype=None) -> Array:
        part = a[cells].view(xp.uint8) if a.dtype == bool else a[cells]
        picked = be.resize(part, read, mode="nearest")
        return be.resize(picked if dtype is None else picked.astype(dtype), (cw, ch), mode="area")

    small_label = shrink(label, xp.float32)  # shares of the label
    factor = None
    if strength > 0:
        small_rgb = shrink(face_rgb)
        small_w = shrink(face_mask, xp.float32)  # shares of skin
        factor = _base_layer(be, small_rgb, small_w, small_label, sigma / f, strength,
                             _plane_cells(be, trend, -1.0, f, (ch, cw)))  # fmt: skip
    if trend is not None and light > 0:
        plane = _plane_cells(be, trend, light, f, (ch, cw))
        assert plane is not None
        label_sum = float(small_label.sum())
        if label_sum > 0:
            plane = plane * f32(label_sum / float((plane * small_label).sum()))
            factor = plane if factor is None else factor * plane
    if factor is None:
        return None
    rms = math.sqrt(float((factor * factor * small_label).sum()) / float(small_label.sum()))
    return _on_window(be, factor, f, window), rms


def _base_layer(
    be: Backend,
    small_rgb: Array,
    small_w: Array,
    small_label: Array,
    s: float,
    strength: float,
    detrend: Array | None,
) -> Array | None:
    """:func:`shading_gain`'s base-layer factor on its cells (None: no skin to read)."""
    xp = be.xp
    f32 = np.float32
    lum = be.mix(small_rgb, PLANES[:1])
    if detrend is not None:  # the plane's light is carried by the plane: only the rest here
        lum = lum * detrend
    num = be.gaussian_blur(lum * small_w, s)
    den = be.gaussian_blur(small_w, s)
    field = num / xp.maximum(den, f32(1e-4))
    conf = xp.clip(den * f32(4.0), 0.0, 1.0)  # full confidence from 25 % skin
    weights = small_label * conf
    total = float(weights.sum())
    if total <= 1e-6:
        return None
    ref = float((field * weights).sum()) / total
    if ref <= 1.0:
        return None
    gain = xp.clip(field * f32(1.0 / ref), *GAIN_RANGE)
    return f32(1.0) + (conf * f32(strength)) * (gain - f32(1.0))


def _plane_cells(
    be: Backend, trend: tuple[float, float] | None, power: float, f: int, shape: tuple[int, int]
) -> Array | None:
    """``exp(power * plane)`` at the centres of f x f cells (``shape`` of them) of the work
    region, the plane's change across them bounded by :data:`PLANE_MAX` (None: no plane)."""
    if trend is None:
        return None
    ch, cw = shape
    gx, gy = trend
    span = math.hypot(gx * cw * f, gy * ch * f)
    scale = power * min(1.0, PLANE_MAX / span) if span > 0 else power
    xs = (np.arange(cw) + 0.5) * f
    ys = (np.arange(ch) + 0.5) * f
    ex, ey = np.exp(scale * gx * xs), np.exp(scale * gy * ys)
    return be.asarray(np.outer(ey, ex).astype(np.float32))


def _on_window(be: Backend, cells: Array, f: int, window: tuple[int, int, int, int]) -> Array:
    """``cells`` (one value per f x f cell of the work region, at the cell's centre)
    interpolated (bilinear, constant beyond the outer centres) onto the pixels of ``window``.
    Only the cells around the window are resized, by the integer factor ``f``."""
    xp = be.xp
    x0, y0, x1, y1 = window
    ch, cw = cells.shape[0] + 2, cells.shape[1] + 2  # padded by one cell: cell p is p - 1
    c0, r0 = max(0, x0 // f - 1), max(0, y0 // f - 1)
    c1, r1 = min(cw, -(-x1 // f) + 3), min(ch, -(-y1 // f) + 3)
    # the padded cells r0:r1, c0:c1, read from the cells (the padding repeats the edge)
    rows = be.asarray(np.clip(np.arange(r0, r1) - 1, 0, ch - 3))
    cols = be.asarray(np.clip(np.arange(c0, c1) - 1, 0, cw - 3))
    part = xp.take(xp.take(cells, rows, axis=0), cols, axis=1)
    up = be.resize(part, ((c1 - c0) * f, (r1 - r0) * f), mode="linear")
    # pixel q of ``up`` is work pixel q + (c0 - 1) * f (x), likewise in y
    ox, oy = (c0 - 1) * f, (r0 - 1) * f
    return up[y0 - oy : y1 - oy, x0 - ox : x1 - ox]

