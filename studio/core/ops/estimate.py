"""Estimators of the image statistics that harmonisation matches: noise and sharpness.

Every function runs on a backend's arrays (``be.xp``, ``be.gaussian_blur``, ``be.resize``), so
the CUDA path runs this very code; estimates come back as host floats (NaN: cannot tell).

- Noise (:func:`noise_sigma`): the standard deviation of white noise from the median absolute
  value of Immerkaer's residual (``[1, -2, 1]`` in x times the same in y), which cancels ramps
  and most edges; the median makes it robust to the rest. Luminance and chroma (R - Y, B - Y).
- Sharpness (:func:`sharpness`, :func:`blur_sigma`): the equivalent Gaussian blur of image
  content. An edge blurred
  by ``s`` and re-blurred by a known ``b`` has a gradient energy ``K / sqrt(s^2 + b^2)``,
  whatever the edges' heights and directions; natural images (1/f^2 spectra) behave like
  edges. Smooth shading adds the same energy ``L`` at every small ``b``, so three energies
  (``b`` = 0, 2, 4 px) fix ``K``, ``L`` and ``s``: ``q = (E0 - E2) / (E2 - E4)`` depends on
  ``s`` alone. ``q(s)`` is tabulated once by running the very same discrete filters on
  blurred step edges, so sampling, reductions and differences cancel out; content finer
  than any blurred edge (textures, aliasing) continues the model's own curve. Energies are
  corrected for the noise's own; the estimate is robust to noise and lighting.
  :func:`sharpness` reports ``sqrt(s^2 + 1/3)``, the blur as the central differences see it
  (never 0, so ratios stay finite); :func:`blur_sigma` reports ``s`` itself.

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

from studio.core.ops.backend import Array, Backend, blur_radius
from studio.core.ops.cells import CellMask, StackedRows, all_in_cells, cell_grid

LUMA = (0.299, 0.587, 0.114)  #: Rec. 601 luminance weights
REBLUR = (2.0, 4.0)  #: sigmas (full pixels) of the known re-blurs of :func:`blur_sigma`
MAX_SIGMA = 12.0  #: blur estimates are capped here (content too flat to tell)
MIN_PIXELS = 64  #: fewer usable sampled pixels than this give no estimate (NaN)
SAMPLES = 8_000  #: the estimators sample about this many pixels of a region
MAD_TO_SIGMA = 1.4826 / 6.0  #: Immerkaer's residual of white noise has std 6 sigma
DIFF_VAR = 1.0 / 3.0  #: a central difference of spacing d smooths like a variance d^2 / 3
MIN_SIGMA = 0.05  #: the sharpest blur estimate (aliased, point-sampled edges)
MIN_ENERGY = 1e-3  #: content with less gradient energy (grey levels^2) is too flat to tell
RELIABLE = 0.02  #: ... and so is content whose energy is below this share of the noise's
MARGIN = blur_radius(REBLUR[0]) + 2  #: estimates on a cut-out keep this far inside its edge
INTERIOR_CELL = 2  #: :func:`interior_cells` erodes on cells of this many pixels
NOISE_FLOOR = 1e-3  #: residuals' median absolute values below this (grey levels) are none
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


#: RGB -> (Y, R - Y, B - Y)
PLANES = np.array(
    [LUMA, (1.0 - LUMA[0], -LUMA[1], -LUMA[2]), (-LUMA[0], -LUMA[1], 1.0 - LUMA[2])], np.float32
)


def planes(be: Backend, rgb: Array) -> tuple[Array, Array, Array]:
    """Luminance and two colour differences (R - Y, B - Y) of an HxWx3 image, float32 in
    0..255 units."""
    out = be.mix(rgb, PLANES)
    return out[..., 0], out[..., 1], out[..., 2]


def luminance(be: Backend, rgb: Array) -> Array:
    """Rec. 601 luminance of an HxWx3 image (float32, 0..255 units)."""
    return be.mix(rgb, PLANES[:1])


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


def _energy(g: list[list[Array]]) -> Array:
    """Squared central-difference gradient at the sampled pixels."""
    gx = g[1][2] - g[1][0]
    gy = g[2][1] - g[0][1]
    return (gx * gx + gy * gy) * np.float32(0.25)


def _mad_sigma(xp: Any, residual: Array, mask: Array) -> float:
    values = xp.abs(residual[mask])
    if values.size < MIN_PIXELS:
        return math.nan
    return float(xp.median(values)) * MAD_TO_SIGMA


def _medians(xp: Any, values: Array) -> list[float]:
    """The median of each column of ``values`` (N x k), by partial sorting."""
    n = values.shape[0]
    lo, hi = (n - 1) // 2, n // 2
    part = xp.partition(xp.ascontiguousarray(values.T), (lo, hi), axis=1)
    return [0.5 * (float(a) + float(b)) for a, b in zip(part[:, lo], part[:, hi], strict=True)]


def _mean(values: Array) -> tuple[float, int]:
    n = int(values.size)
    return (float(values.sum()) / n if n else 0.0), n


def noise_sigma(be: Backend, plane: Array, mask: Array) -> float:
    """Std of white noise in ``plane`` (HxW float32) over ``mask`` (HxW bool)."""
    if min(plane.shape) < 3:
        return math.nan
    step = sample_step(plane.shape)
    return _mad_sigma(be.xp, _residual(_grid(plane, step)), _mask_at(mask, step))


@functools.cache
def _noise_gain(sigma: float) -> float:
    """Mean squared central-difference gradient of unit white noise after a Gaussian blur of
    ``sigma`` (0: none)."""
    diff = np.array([0.5, 0.0, -0.5])
    if sigma <= 0:
        return 2.0 * float(np.sum(diff**2))
    g = cv2.getGaussianKernel(2 * blur_radius(sigma) + 1, sigma)[:, 0]
    return 2.0 * float(np.sum(np.convolve(g, diff) ** 2) * np.sum(g**2))


def _half_sigma(sigma: float) -> float:
    """Sigma on a 2x area-reduced grid such that the reduction (a 2-tap box, variance 1/4),
    this blur and the wider central differences there (smoothing 4 DIFF_VAR instead of
    DIFF_VAR) blur like ``sigma`` full pixels in all."""
    return math.sqrt(sigma * sigma - 0.25 - 3.0 * DIFF_VAR) / 2.0


def _reblurred_energies(be: Backend, half_lum: Array, mask: Array) -> tuple[list[float], int]:
    """Mean gradient energies (per full pixel) of the 2x-reduced luminance ``half_lum`` after
    each re-blur of :data:`REBLUR`, over the full-resolution ``mask``."""
    step = max(1, sample_step(half_lum.shape))
    hh, hw = half_lum.shape
    m = mask[2 : 2 * hh - 2 : 2 * step, 2 : 2 * hw - 2 : 2 * step]
    out, n = [], 0
    for b in REBLUR:
        blurred = be.gaussian_blur(half_lum, _half_sigma(b))
        e, n = _mean(_energy(_grid(blurred, step))[m])
        out.append(e * 0.25)  # gradients per half pixel -> per full pixel
    return out, n


def _energies(be: Backend, lum: Array, mask: Array) -> tuple[float, int, list[float], int]:
    """E0 at the sampled pixels of ``lum`` and the re-blurred energies of its 2x reduction."""
    step = sample_step(lum.shape)
    e0, n0 = _mean(_energy(_grid(lum, step))[_mask_at(mask, step)])
    eb, nb = _reblurred_energies(be, _half(be, lum), mask)
    return e0, n0, eb, nb


def _edge(sigma: float, phase: float, width: int = 192, rows: int = 24) -> np.ndarray:
    """A vertical step edge blurred by ``sigma``, sampled at the pixel centres ``phase`` pixels
    off the grid (float32, 0..100). A pixel's own aperture is a blur of about 0.29 px, so
    photos read from there up; point-sampled (aliased) edges read lower."""
    x = np.arange(width) + 0.5 - (width / 2 + phase)
    erf = np.frompyfunc(math.erf, 1, 1)
    row = 0.5 * (1.0 + erf(x / (math.sqrt(2.0) * sigma)).astype(np.float64)) * 100.0
    return np.repeat(row[None, :].astype(np.float32), rows, axis=0)


@functools.cache
def _q_table() -> tuple[np.ndarray, np.ndarray]:
    """Blur variances ``v = s^2 + DIFF_VAR`` (increasing) and their ``q`` (decreasing), through
    the estimator's own filters on blurred step edges."""
    from studio.core.ops.backend import get_backend

    be = get_backend("cpu")
    sigmas = np.geomspace(MIN_SIGMA, MAX_SIGMA, 96)
    qs = []
    for sigma in sigmas:
        vals = []
        for phase in (0.0, 0.25, 0.5, 0.75):
            img = _edge(float(sigma), phase)
            e0, _, (e1, e2), _ = _energies(be, img, np.ones(img.shape, bool))
            vals.append((e0 - e1) / (e1 - e2))
        qs.append(float(np.mean(vals)))
    return sigmas**2 + DIFF_VAR, np.minimum.accumulate(np.array(qs))


def _model_q(v: float | np.ndarray) -> float | np.ndarray:
    """``q`` of the continuous model ``E(b) = (v + b^2)^(-1/2)`` (decreasing in ``v``)."""
    b1, b2 = REBLUR[0] ** 2, REBLUR[1] ** 2
    e0, e1, e2 = v**-0.5, (v + b1) ** -0.5, (v + b2) ** -0.5
    return (e0 - e1) / (e1 - e2)


MODEL_RANGE = (1e-6, 1e6)  #: the blur variances the model's curve is inverted over
MODEL_POINTS = 16385  #: ... on this many points, even in log v (a step of 0.17 %)


@functools.cache
def _model_table() -> tuple[np.ndarray, np.ndarray]:
    """The model's ``q`` (increasing) and its ``log v`` on :data:`MODEL_POINTS` points."""
    log_v = np.linspace(math.log(MODEL_RANGE[0]), math.log(MODEL_RANGE[1]), MODEL_POINTS)
    q = np.asarray(_model_q(np.exp(log_v)))
    return q[::-1].copy(), log_v[::-1].copy()


def _model_v(q: float) -> float:
    """Inverse of :func:`_model_q`: linear in log v between the points of
    :func:`_model_table` (relative error below 1e-5), clamped to :data:`MODEL_RANGE`."""
    qs, log_v = _model_table()
    return math.exp(float(np.interp(q, qs, log_v)))


def _variance(q: float) -> float:
    """Blur variance ``v`` for a measured ``q``: the table, continued past its sharpest entry
    by the model's curve scaled to meet it."""
    vs, qs = _q_table()
    if q <= qs[0]:
        return float(np.interp(-q, -qs, vs))
    return _model_v(q) * _model_scale()


@functools.cache
def _model_scale() -> float:
    """The factor that makes the model's curve meet the table at its sharpest entry."""
    vs, qs = _q_table()
    return float(vs[0]) / _model_v(float(qs[0]))


def _variance_from(e0: float, n0: int, eb: list[float], nb: int, noise: float) -> float:
    """Blur variance ``v`` from the three gradient energies, the noise's removed (NaN: cannot
    tell)."""
    if n0 < MIN_PIXELS or nb < MIN_PIXELS // 4:
        return math.nan
    var = noise * noise if math.isfinite(noise) else 0.0
    e0 -= var * _noise_gain(0.0)
    # a 2x2 mean has a quarter of the variance; per full pixel the energy is a quarter
    e1, e2 = (
        e - var * 0.25 * _noise_gain(_half_sigma(b)) * 0.25 for e, b in zip(eb, REBLUR, strict=True)
    )
    fine, coarse = e0 - e1, e1 - e2
    if coarse <= max(MIN_ENERGY, RELIABLE * var) or fine <= 0:
        return math.nan  # too flat to tell: the content's energy is within the noise's
    return min(_variance(fine / coarse), MAX_SIGMA**2 + DIFF_VAR)


def _half(be: Backend, image: Array) -> Array:
    """``image`` reduced 2x by averaging 2x2 blocks (odd last rows/columns dropped)."""
    h, w = image.shape[:2]
    hh, hw = h // 2, w // 2
    return be.resize(image[: 2 * hh, : 2 * hw], (hw, hh), mode="area")


def sharpness(be: Backend, lum: Array, mask: Array, noise: float = 0.0) -> float:
    """Effective blur ``sqrt(s^2 + 1/3)`` (pixels) of ``lum`` (HxW float32) over ``mask``;
    ``noise`` is its white-noise std (from :func:`noise_sigma`). NaN when the mask is too
    small or the content too flat to tell."""
    if min(lum.shape) < 8:
        return math.nan
    return math.sqrt(_variance_from(*_energies(be, lum, mask), noise))


def blur_sigma(be: Backend, lum: Array, mask: Array, noise: float = 0.0) -> float:
    """Equivalent Gaussian blur ``s`` (pixels) of ``lum`` over ``mask`` (0 for content sharper
    than a blurred edge); see :func:`sharpness`."""
    return as_blur(sharpness(be, lum, mask, noise))


def as_blur(effective: float) -> float:
    """Blur sigma ``s`` of an effective blur ``sqrt(s^2 + 1/3)`` (NaN stays NaN)."""
    if not math.isfinite(effective):
        return effective
    return math.sqrt(max(effective * effective - DIFF_VAR, 0.0))


@dataclass(frozen=True)
class Measured:
    """Statistics of a region: effective blur (:func:`sharpness`), luminance and chroma noise
    std (NaN: unknown)."""

    blur: float
    luma: float
    chroma: float


def measure(
    be: Backend, rgb: Array, mask: Array, *, blur: bool = True, budget: int | None = None
) -> Measured:
    """Noise (and blur) of an RGB region (HxWx3, uint8 or float32) over ``mask`` (HxW bool);
    the noise of float colours includes what rounding them to whole levels will add.

    The residual and the gradients are linear, so they are computed on the RGB neighbourhoods
    of the sampled pixels and turned into luminance and colour differences afterwards; the
    re-blur runs on a 2x reduced copy. The cost of the noise grows with the samples, not the
    region; so does the blur's with a ``budget`` (pixels): a larger region's blur is read on
    strips of it holding about that many (:func:`strips`)."""
    xp = be.xp
    if min(rgb.shape[:2]) < 8:
        return Measured(math.nan, math.nan, math.nan)
    step = sample_step(rgb.shape)
    g = [[v.astype(xp.float32) for v in row] for row in _grid(rgb, step)]
    m = _mask_at(mask, step)
    values = xp.abs(be.mix(_residual(g), PLANES)[m])  # N x 3: luminance, R - Y, B - Y
    if values.shape[0] < MIN_PIXELS:
        luma = chroma = math.nan
    else:
        # below NOISE_FLOOR it is the float rounding of the planes (a grey image's chroma)
        mad = [v * MAD_TO_SIGMA if v >= NOISE_FLOOR else 0.0 for v in _medians(xp, values)]
        luma, chroma = mad[0], 0.5 * (mad[1] + mad[2])
    if rgb.dtype != np.uint8:  # the 8-bit result will also hold the rounding's noise
        luma, chroma = rounded(luma, 0), rounded(chroma, 1)
    sigma = math.nan
    if blur:
        parts = strips(be, rgb, mask, budget) if budget is not None else None
        if parts is None:
            gx = luminance(be, g[1][2] - g[1][0])
            gy = luminance(be, g[2][1] - g[0][1])
            e0, n0 = _mean(((gx * gx + gy * gy) * np.float32(0.25))[m])
            eb, nb = _reblurred_energies(be, luminance(be, _half(be, rgb)), mask)
        else:
            e0, n0, eb, nb = _strip_energies(be, *parts)
        raw = unrounded(luma, 0) if rgb.dtype != np.uint8 else luma  # what lum holds now
        sigma = math.sqrt(_variance_from(e0, n0, eb, nb, raw))
    return Measured(sigma, luma, chroma)


def _row_energy(be: Backend, image: Array, rows: np.ndarray, step: int) -> Array:
    """Squared central-difference gradients of ``image`` (HxW) at its rows ``rows`` (host
    ints, none the first or last) and every ``step``-th column from the second."""
    w = image.shape[1]
    at, above, below = (image[be.asarray(rows + d)] for d in (0, -1, 1))
    gx = at[:, 2:w:step] - at[:, 0 : w - 2 : step]
    gy = below[:, 1 : w - 1 : step] - above[:, 1 : w - 1 : step]
    return (gx * gx + gy * gy) * np.float32(0.25)


def _strip_energies(
    be: Backend, stack: Array, mask: StackedRows
) -> tuple[float, int, list[float], int]:
    """:func:`_energies` on the strips of :func:`strips`: on every row of the strips (their
    margins only feed the filters), at column steps that give about :data:`SAMPLES`."""
    w = stack.shape[1]
    rows = np.flatnonzero(mask.rows >= 0)
    step = max(1, round(len(rows) * w / SAMPLES))
    e = _row_energy(be, luminance(be, stack), rows, step)
    e0, n0 = _mean(e[mask.at(rows, slice(1, w - 1, step))])
    half = luminance(be, _half(be, stack))
    hh, hw = half.shape
    half_rows = rows[rows % 2 == 0] // 2
    half_rows = half_rows[(half_rows > 0) & (half_rows < hh - 1)]
    step = max(1, round(len(half_rows) * hw / SAMPLES))
    where = mask.at(2 * half_rows, slice(2, 2 * hw - 2, 2 * step))
    eb, nb = [], 0
    for b in REBLUR:
        blurred = be.gaussian_blur(half, _half_sigma(b))
        energy, nb = _mean(_row_energy(be, blurred, half_rows, step)[where])
        eb.append(energy * 0.25)  # gradients per half pixel -> per full pixel
    return e0, n0, eb, nb


STRIP_ROWS = 8  #: a large region's blur is read on strips of this many rows (even) ...
#: ... with this many rows around them (even): all of the first re-blur's reach, all but the
#: outer 1 % of the second's weight
STRIP_MARGIN = 8
BLUR_BUDGET = 32_000  #: the engine reads the blur of larger regions on about this many pixels


def strips(be: Backend, rgb: Array, mask: Array, budget: int) -> tuple[Array, StackedRows] | None:
    """Evenly spaced full-width strips of a region holding about ``budget`` of its pixels,
    stacked: ``(rgb, mask)`` of the stack, the mask (a
    :class:`~studio.core.ops.cells.StackedRows`, read only where sampled) set only on the
    strips' own rows, not on their margins. None when the strips and their margins would
    hold more than half of the region's rows.

    Each strip is read with :data:`STRIP_MARGIN` rows of its surroundings above and below, and
    starts on an even row: the 2x reduction and the re-blurs of :func:`measure` see on the
    strips' rows (almost exactly) what they see on the whole region. The blur is then an
    average over a fixed number of samples spread over the region, whatever its size: on
    regions of 400-500k pixels its scatter (against the estimate from every pixel) is no
    larger than that of :func:`measure` on the whole region's sparser grid."""
    xp = be.xp
    h, w = rgb.shape[:2]
    rows, margin = STRIP_ROWS, STRIP_MARGIN
    n = -(-budget // (w * rows))
    if 2 * n * (rows + 2 * margin) > h:
        return None
    span = h - rows - 2 * margin
    starts = [2 * int(span * (k + 0.5) / n / 2) for k in range(n)]  # of the strips' context
    stack = xp.concatenate([rgb[y : y + rows + 2 * margin] for y in starts])
    own = np.full(rows + 2 * margin, -1)
    own[margin : margin + rows] = np.arange(margin, margin + rows)
    mapped = np.concatenate([np.where(own >= 0, own + y, -1) for y in starts])
    return stack, StackedRows(be, mask, mapped)


def interior(be: Backend, label: Array, radius: int) -> Array:
    """Pixels of a label (bool) at least ``radius`` pixels inside its edge."""
    return be.morph(label.astype(be.xp.uint8), radius, dilate=False) > 0


def interior_cells(be: Backend, label: Array, radius: int) -> CellMask:
    """Pixels of a label about ``radius`` pixels or more inside its edge, as the estimators
    read them: eroded (a disc) on cells of :data:`INTERIOR_CELL` pixels, each cell in when
    all its pixels are, so the edge is exact to a cell; only the sampled pixels are ever
    looked up (see :mod:`studio.core.ops.cells`)."""
    f = INTERIOR_CELL
    ch, cw = cell_grid(label.shape, f)
    if radius < 2 * f or min(ch, cw) < 2:
        return CellMask(be, interior(be, label, radius), 1, label.shape)
    inside = all_in_cells(be, label, f).view(be.xp.uint8)
    eroded = be.morph(inside, -(-radius // f), dilate=False) > 0
    return CellMask(be, eroded, f, label.shape, keep=(label,))


PLANE_TRIM = 2.5  #: the light plane is fitted again without residuals beyond this many MADs
PLANE_MIN = 64  #: fewer pixels than this give no light plane
PLANE_POINTS = 1024  #: ... and it is fitted on at most about this many of them


def fit_plane(rgb: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[float, float] | None:
    """The gradient ``(d/dx, d/dy)`` of a plane fitted to the log luminance of pixel colours
    ``rgb`` (N x 3 host floats, 0..255 units) at ``(xs, ys)``: least squares, then again
    without the outliers (eyes, brows). None with fewer than :data:`PLANE_MIN` pixels.

    Least squares of a plane has a closed form: about the points' mean, the gradient solves
    the 2x2 system of their position covariances."""
    if rgb.shape[0] < PLANE_MIN:
        return None
    if rgb.shape[0] > PLANE_POINTS:  # a plane needs no more
        k = -(-rgb.shape[0] // PLANE_POINTS)
        rgb, xs, ys = rgb[::k], xs[::k], ys[::k]
    lum = np.ascontiguousarray(rgb) @ np.array(LUMA, rgb.dtype)
    target = np.log(lum.astype(np.float64) + 1.0)
    x, y = xs.astype(np.float64), ys.astype(np.float64)
    keep = None
    gradient = (0.0, 0.0)
    for _ in range(2):
        sx, sy, st = (v if keep is None else v[keep] for v in (x, y, target))
        if sx.size < PLANE_MIN:
            return None
        dx, dy, dt = sx - sx.mean(), sy - sy.mean(), st - st.mean()
        xx, xy, yy = float(dx @ dx), float(dx @ dy), float(dy @ dy)
        xt, yt = float(dx @ dt), float(dy @ dt)
        det = xx * yy - xy * xy
        if det <= 1e-12 * max(xx * yy, 1e-300):  # the points lie on a line: no plane
            return None
        gx, gy = (yy * xt - xy * yt) / det, (xx * yt - xy * xt) / det
        residual = target - (gx * x + gy * y)
        residual -= float((st - gx * sx - gy * sy).mean())
        kept = residual if keep is None else residual[keep]
        mad = _medians(np, np.abs(kept)[:, None])[0] + 1e-6
        keep = np.abs(residual) <= PLANE_TRIM * 1.4826 * mad
        gradient = (gx, gy)
    return gradient


def light_plane(be: Backend, image: Array, sampled: Array, step: int) -> tuple[float, float] | None:
    """The light across ``image`` (uint8 RGB): :func:`fit_plane` on its pixels on a grid of
    ``step`` (``image[::step, ::step]``) where ``sampled`` (bool, on that grid) is set, the
    gradient per pixel of ``image``."""
    px = be.to_numpy(image[::step, ::step][sampled]).astype(np.float32)
    ys, xs = np.nonzero(be.to_numpy(sampled))
    return fit_plane(px, xs * step, ys * step)


def delit(
    px: np.ndarray, xs: np.ndarray, ys: np.ndarray, trend: tuple[float, float] | None
) -> np.ndarray:
    """Pixel colours (N x 3, host) at ``(xs, ys)`` with the light plane ``trend`` taken out
    (divided by it, about their mean position; None: as they are)."""
    if trend is None or px.shape[0] == 0:
        return px
    gx, gy = trend
    factor = np.exp(-(gx * (xs - xs.mean()) + gy * (ys - ys.mean())))
    return (px * factor[:, None]).astype(px.dtype, copy=False)
