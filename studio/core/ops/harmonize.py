"""The harmonize steps on a placed occluder: focus, noise and shading (see
:mod:`studio.core.harmonize` for the stage that runs them, :mod:`studio.core.ops.estimate` for
the statistics they match).

Placed occluders are float32 premultiplied colours (HxWx3, 0..255) with their float32 alpha
(HxW, 0..255); the steps may leave values outside [0, alpha], which the stage clips once.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from studio.core.backend import Array, Backend, blur_radius
from studio.core.ops import geometry
from studio.core.ops.estimate import LUMA, luminance, planes

SHARPEN_MAX = 1.0  #: most unsharp-mask amount of the focus step: it sharpens lightly
SHADING_GRID = 6.0  #: the shading base layer is blurred with this sigma on its reduced grid
GAIN_RANGE = (0.25, 2.5)  #: the shading gain is kept within these factors


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
    be: Backend, premultiplied: Array, alpha: Array, blur: float, sharpen: float, sigma: float
) -> Array:
    """Blur (``blur`` > 0) or unsharp-mask (``sharpen`` > 0, sigma ``sigma``) the colours of a
    placed occluder, float32 premultiplied HxWx3 with its HxW float32 alpha (0..255).

    The colours are filtered with a mask-normalised Gaussian (no dark fringe from outside the
    shape) and premultiplied again by the unchanged alpha: the silhouette stays as placed.
    Values may leave [0, alpha]; the caller clips once at the end.
    """
    xp = be.xp
    s = blur if blur > 0 else sigma
    if s <= 0 or (blur <= 0 and sharpen <= 0):
        return premultiplied
    num = be.gaussian_blur(premultiplied, s)
    den = be.gaussian_blur(alpha, s)
    smooth = num * (alpha / xp.maximum(den, np.float32(1e-3)))[..., None]  # blurred colours x a
    if blur > 0:
        return smooth
    k = np.float32(sharpen)
    return premultiplied * (np.float32(1.0) + k) - smooth * k


@functools.cache
def _gauss_table() -> np.ndarray:
    """256 standard-normal quantiles (at (i + 1/2) / 256), scaled to unit variance: a byte
    drawn uniformly and looked up here is a (256-level) standard normal number."""
    from statistics import NormalDist

    q = np.array([NormalDist().inv_cdf((i + 0.5) / 256.0) for i in range(256)])
    return (q / q.std()).astype(np.float32)


def add_noise(
    be: Backend,
    premultiplied: Array,
    alpha: Array,
    luma: float,
    chroma: float,
    seed: int,
) -> Array:
    """Add seeded white noise of std ``luma`` (luminance) and ``chroma`` (R - Y and B - Y) to
    a placed occluder (float32 premultiplied, alpha 0..255); the luminance noise leaves the
    colour differences unchanged and the chroma noise leaves the luminance unchanged.

    Three bytes per pixel are drawn on the host from ``seed`` (``Generator.bytes``, far faster
    than normal draws), uploaded and mapped to normal numbers through :func:`_gauss_table`,
    so every backend adds the same noise.
    """
    luma, chroma = max(luma, 0.0), max(chroma, 0.0)
    if luma <= 0 and chroma <= 0:
        return premultiplied
    xp = be.xp
    h, w = alpha.shape
    raw = np.frombuffer(np.random.default_rng(seed).bytes(h * w * 3), np.uint8)
    normal = xp.take(be.asarray(_gauss_table()), be.asarray(raw.reshape(h, w, 3)))
    # (luma, R - Y, B - Y) noise -> RGB: G carries what keeps the luminance of the chroma part
    g_r, g_b = -LUMA[0] / LUMA[1], -LUMA[2] / LUMA[1]
    mix = np.array(
        [[luma, luma, luma], [chroma, chroma * g_r, 0.0], [0.0, chroma * g_b, chroma]],
        np.float32,
    )
    noise = normal @ be.asarray(mix)
    return premultiplied + noise * (alpha * np.float32(1 / 255))[..., None]


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
) -> Array | None:
    """The factor ``1 + strength * (gain - 1)`` by which the light on each pixel of ``window``
    differs from its mean over ``label``.

    ``face_rgb`` (uint8), ``face_mask`` and ``label`` (bool) cover a work region; ``window`` =
    (x0, y0, x1, y1) is the occluder's region inside it. The base layer is the skin-weighted
    Gaussian (``sigma`` pixels) of the face's luminance: the face is averaged over cells of
    ``sigma / SHADING_GRID`` pixels, each cell weighted by its share of skin, blurred there,
    normalised by its mean over the occluder there, and only then interpolated onto the
    window. Where there is little skin nearby the gain fades to 1. Returns the window's HxW
    float32 factor, or None when the occluder sees no skin.
    """
    xp = be.xp
    f = max(1, int(sigma / SHADING_GRID))
    h, w = face_mask.shape
    ch, cw = max(1, h // f), max(1, w // f)
    cells = (slice(0, ch * f), slice(0, cw * f))  # whole cells only: an integer reduction

    def shrink(a: Array) -> Array:
        return be.resize(a[cells], (cw, ch), mode="area")

    small_w = shrink(face_mask.astype(xp.uint8) * np.uint8(255)).astype(xp.float32) / 255
    small_label = shrink(label.astype(xp.uint8) * np.uint8(255)).astype(xp.float32) / 255
    s = sigma / f
    num = be.gaussian_blur(luminance(be, shrink(face_rgb)) * small_w, s)
    den = be.gaussian_blur(small_w, s)
    field = num / xp.maximum(den, np.float32(1e-4))
    conf = xp.clip(den * np.float32(4.0), 0.0, 1.0)  # full confidence from 25 % skin
    weights = small_label * conf
    total = float(weights.sum())
    if total <= 1e-6:
        return None
    ref = float((field * weights).sum()) / total
    if ref <= 1.0:
        return None
    gain = xp.clip(field * np.float32(1.0 / ref), *GAIN_RANGE)
    factor = np.float32(1.0) + (conf * np.float32(strength)) * (gain - np.float32(1.0))
    x0, y0, x1, y1 = window
    to_window = geometry.compose(
        geometry.translate(-x0, -y0), geometry.resize_matrix((cw * f, ch * f), (cw, ch))
    )
    return be.warp_affine(
        factor.astype(xp.float32, copy=False), to_window, (x1 - x0, y1 - y0), replicate=True
    )


def apply_gain(premultiplied: Array, factor: Array) -> Array:
    """Scale the colours by a per-pixel ``factor`` (HxW)."""
    return premultiplied * factor[..., None]
