"""Estimators of the image statistics that harmonisation matches: noise and sharpness.

Every function runs on a backend's arrays (``be.xp``, ``be.gaussian_blur``, ``be.resize``), so
the CUDA path runs this very code; estimates come back as host floats (NaN: cannot tell).

- Noise (:func:`noise_sigma`): the standard deviation of white noise from the median absolute
  value of Immerkaer's residual (``[1, -2, 1]`` in x times the same in y), which cancels ramps
  and most edges; the median makes it robust to the rest. Luminance and chroma (R - Y, B - Y).
- Sharpness (:func:`blur_sigma`): the equivalent Gaussian blur of image content (including
  the pixel's own aperture, so a perfectly sharp image reads about 0.3 px). An edge blurred
  by ``s`` has a Laplacian energy proportional to ``1 / s^3``, so re-blurring by a known ``b``
  gives ``E(0) / E(b) = ((s^2 + b^2) / s^2)^(3/2)``, whatever the edges' heights and
  directions; natural images (1/f^2 spectra) behave like edges. The Laplacian ignores smooth
  shading (a lighting gradient has none), both energies are corrected for the noise's own
  energy and for the smoothing of the discrete Laplacian that measures them.

Regions are sampled, not swept: the residual and the gradients are evaluated at pixels on a
regular grid (every pixel of small regions, about :data:`SAMPLES` pixels of large ones) from
strided views of their 3x3 neighbourhoods, and the re-blur runs on a 2x area-reduced copy. A
1024 px face's skin ring costs a few small array passes instead of full-resolution filters.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from studio.core.backend import Array, Backend, blur_radius

LUMA = (0.299, 0.587, 0.114)  #: Rec. 601 luminance weights
REBLUR = 2.0  #: sigma (full pixels) of the known re-blur of :func:`blur_sigma`
MAX_SIGMA = 12.0  #: blur estimates are capped here (content too flat to tell)
MIN_PIXELS = 64  #: fewer usable sampled pixels than this give no estimate (NaN)
SAMPLES = 8_000  #: the estimators sample about this many pixels of a region
MAD_TO_SIGMA = 1.4826 / 6.0  #: Immerkaer's residual of white noise has std 6 sigma
DIFF_VAR = 1.0 / 6.0  #: the discrete Laplacian of spacing d smooths like a variance d^2 / 6
PIXEL_VAR = 1.0 / 12.0  #: the blur of a pixel's own aperture (a 1 px box), always counted
MIN_VAR = 0.01  #: aliased content can read sharper than a pixel; estimates stop at 0.1 px
MARGIN = blur_radius(REBLUR) + 2  #: estimates on a cut-out keep this far inside its edge
#: noise std that rounding float colours to whole levels adds to the luminance and (on
#: average over R - Y and B - Y) the chroma: uniform errors of variance 1/12 per channel,
#: mixed by the planes' weights
ROUNDING = (
    math.sqrt(float(np.sum(np.square(LUMA))) / 12.0),
    0.5
    * sum(
        math.sqrt(float(np.sum(np.square(np.eye(3)[c] - np.array(LUMA)))) / 12.0) for c in (0, 2)
    ),
)


def rounded(sigma: float, plane: int) -> float:
    """``sigma`` of float colours once rounded to whole levels (plane 0 luma, 1 chroma)."""
    return math.hypot(sigma, ROUNDING[plane])


def unrounded(sigma: float, plane: int) -> float:
    """Inverse of :func:`rounded` (0 when the rounding explains it all)."""
    return math.sqrt(max(0.0, sigma * sigma - ROUNDING[plane] ** 2))


def planes(be: Backend, rgb: Array) -> tuple[Array, Array, Array]:
    """Luminance and two colour differences (R - Y, B - Y), float32 in 0..255 units."""
    f = rgb.astype(be.xp.float32)
    y = f[..., 0] * np.float32(LUMA[0]) + f[..., 1] * np.float32(LUMA[1])
    y += f[..., 2] * np.float32(LUMA[2])
    return y, f[..., 0] - y, f[..., 2] - y


def luminance(be: Backend, rgb: Array) -> Array:
    """Rec. 601 luminance (float32, 0..255 units)."""
    return planes(be, rgb)[0]


def sample_step(shape: tuple[int, ...]) -> int:
    """Grid step of the estimators on a region of ``shape``: 1 up to about :data:`SAMPLES`
    pixels, then sparser."""
    return max(1, math.isqrt(max(1, shape[0] * shape[1]) // SAMPLES))


def _grid(a: Array, step: int) -> list[list[Array]]:
    """Strided views of the 3x3 neighbours of the interior pixels on a grid of ``step``:
    ``g[i][j]`` holds pixel ``(r + i - 1, c + j - 1)`` of each sampled pixel ``(r, c)``."""
    h, w = a.shape[:2]
    return [[a[i : h - 2 + i : step, j : w - 2 + j : step] for j in range(3)] for i in range(3)]


def _mask_at(mask: Array, step: int) -> Array:
    """``mask`` at the sampled pixels of :func:`_grid`."""
    h, w = mask.shape[:2]
    return mask[1 : h - 1 : step, 1 : w - 1 : step]


def _residual(g: list[list[Array]]) -> Array:
    rows = [r[0] - 2.0 * r[1] + r[2] for r in g]
    return rows[0] - 2.0 * rows[1] + rows[2]


def _laplacian(g: list[list[Array]]) -> Array:
    return g[0][1] + g[2][1] + g[1][0] + g[1][2] - 4.0 * g[1][1]


def _energy(g: list[list[Array]]) -> Array:
    lap = _laplacian(g)
    return lap * lap


def _mad_sigma(xp: Any, residual: Array, mask: Array) -> float:
    values = xp.abs(residual[mask])
    if values.size < MIN_PIXELS:
        return math.nan
    return float(xp.median(values)) * MAD_TO_SIGMA


def _mean(values: Array) -> tuple[float, int]:
    n = int(values.size)
    return (float(values.sum()) / n if n else 0.0), n


def noise_sigma(be: Backend, plane: Array, mask: Array) -> float:
    """Std of white noise in ``plane`` (HxW float32) over ``mask`` (HxW bool)."""
    if min(plane.shape) < 3:
        return math.nan
    step = sample_step(plane.shape)
    return _mad_sigma(be.xp, _residual(_grid(plane, step)), _mask_at(mask, step))


LAPLACIAN = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


@functools.cache
def _noise_gain(sigma: float) -> float:
    """Mean squared Laplacian of unit white noise after a Gaussian blur of ``sigma`` (0: none)."""
    if sigma <= 0:
        return float(np.sum(LAPLACIAN**2))
    g = cv2.getGaussianKernel(2 * blur_radius(sigma) + 1, sigma)[:, 0]
    kernel = cv2.filter2D(np.pad(np.outer(g, g), 2), -1, LAPLACIAN[::-1, ::-1])
    return float(np.sum(kernel**2))


def _half_sigma(sigma: float) -> float:
    """Sigma on a 2x area-reduced grid such that the reduction (a 2-tap box, variance 1/4),
    this blur and the wider Laplacian there (smoothing 4 x DIFF_VAR instead of DIFF_VAR)
    blur like ``sigma`` full pixels in all."""
    return math.sqrt(sigma * sigma - 0.25 - 3.0 * DIFF_VAR) / 2.0


def _reblurred_energy(be: Backend, half_lum: Array, mask: Array) -> tuple[float, int]:
    """Mean Laplacian energy (per full pixel) of the 2x-reduced luminance ``half_lum`` after
    the re-blur, over the full-resolution ``mask``."""
    step = max(1, sample_step(half_lum.shape))
    blurred = be.gaussian_blur(half_lum, _half_sigma(REBLUR))
    hh, hw = half_lum.shape
    m = mask[2 : 2 * hh - 2 : 2 * step, 2 : 2 * hw - 2 : 2 * step]
    e, n = _mean(_energy(_grid(blurred, step))[m])
    return e / 16.0, n  # second derivatives per half pixel -> per full pixel


def _sigma_from(e0: float, n0: int, eb: float, nb: float, noise: float) -> float:
    """Blur sigma from the two Laplacian energies, the noise's removed."""
    if n0 < MIN_PIXELS or nb < MIN_PIXELS // 4:
        return math.nan
    var = noise * noise if math.isfinite(noise) else 0.0
    e0 -= var * _noise_gain(0.0)
    # a 2x2 mean has a quarter of the variance; per full pixel the energy is a 16th
    eb -= var * 0.25 * _noise_gain(_half_sigma(REBLUR)) / 16.0
    if eb <= max(1e-3, 1e-3 * var) or e0 <= 0:
        return math.nan
    ratio = e0 / eb
    if ratio <= 1.0 + 1e-6:
        return MAX_SIGMA
    var_s = REBLUR * REBLUR / (ratio ** (2.0 / 3.0) - 1.0) - DIFF_VAR  # E(0) saw s^2 + 1/6
    return min(MAX_SIGMA, math.sqrt(max(var_s + PIXEL_VAR, MIN_VAR)))


def _half(be: Backend, image: Array) -> Array:
    """``image`` reduced 2x by averaging 2x2 blocks (odd last rows/columns dropped)."""
    h, w = image.shape[:2]
    hh, hw = h // 2, w // 2
    return be.resize(image[: 2 * hh, : 2 * hw], (hw, hh), mode="area")


def blur_sigma(be: Backend, lum: Array, mask: Array, noise: float = 0.0) -> float:
    """Equivalent Gaussian blur (pixels) of ``lum`` (HxW float32) over ``mask``; ``noise`` is
    its white-noise std (from :func:`noise_sigma`). NaN when the mask is too small or the
    content too flat to tell; at most :data:`MAX_SIGMA`."""
    if min(lum.shape) < 8:
        return math.nan
    step = sample_step(lum.shape)
    e0, n0 = _mean(_energy(_grid(lum, step))[_mask_at(mask, step)])
    eb, nb = _reblurred_energy(be, _half(be, lum), mask)
    return _sigma_from(e0, n0, eb, nb, noise)


@dataclass(frozen=True)
class Measured:
    """Statistics of a region: blur sigma, luminance and chroma noise std (NaN: unknown)."""

    blur: float
    luma: float
    chroma: float


def measure(be: Backend, rgb: Array, mask: Array, *, blur: bool = True) -> Measured:
    """Noise (and blur) of an RGB region (HxWx3, uint8 or float32) over ``mask`` (HxW bool);
    the noise of float colours includes what rounding them to whole levels will add.

    The residual and the gradients are linear, so they are computed on the RGB neighbourhoods
    of the sampled pixels and turned into luminance and colour differences afterwards; the
    re-blur runs on a 2x reduced copy. The cost grows with the samples, not the region."""
    xp = be.xp
    if min(rgb.shape[:2]) < 8:
        return Measured(math.nan, math.nan, math.nan)
    step = sample_step(rgb.shape)
    g = [[v.astype(xp.float32) for v in row] for row in _grid(rgb, step)]
    m = _mask_at(mask, step)
    ry, rcr, rcb = planes(be, _residual(g))
    luma = _mad_sigma(xp, ry, m)
    cr, cb = _mad_sigma(xp, rcr, m), _mad_sigma(xp, rcb, m)
    chroma = 0.5 * (cr + cb)
    if rgb.dtype != np.uint8:  # the 8-bit result will also hold the rounding's noise
        luma, chroma = rounded(luma, 0), rounded(chroma, 1)
    sigma = math.nan
    if blur:
        lap = luminance(be, _laplacian(g))
        e0, n0 = _mean((lap * lap)[m])
        eb, nb = _reblurred_energy(be, luminance(be, _half(be, rgb)), mask)
        sigma = _sigma_from(e0, n0, eb, nb, luma)
    return Measured(sigma, luma, chroma)


def interior(be: Backend, label: Array, radius: int) -> Array:
    """Pixels of a label (bool) at least ``radius`` pixels inside its edge."""
    return be.morph(label.astype(be.xp.uint8), radius, dilate=False) > 0
