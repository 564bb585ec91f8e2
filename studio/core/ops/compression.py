"""The photo's JPEG quality and effective resolution, estimated from its pixels, and both
carried over to a region of it (see :mod:`studio.core.engine.photo`).

JPEG quality: JPEG quantises each 8x8 block's DCT coefficients to multiples of a table's steps;
decoded, the luminance's coefficients still sit within rounding of those multiples. For every
quality of the IJG tables (libjpeg, OpenCV, Pillow and most cameras' software) the clearly
non-zero low-frequency coefficients of blocks on the image's 8-pixel grid are checked against
its steps; the table they fit best, well beyond chance, is the photo's quality (None: not
JPEG-compressed on this grid, or too fine to tell). A region is re-encoded at it on the same
grid (aligned to the 16-pixel chroma MCUs), so its blocks are the photo's blocks.

Effective resolution: a photo enlarged from a smaller one has next to no power above the
smaller one's Nyquist frequency; its luminance spectrum on a window of the face gives the factor
(1: native, 1/2 and 1/3: enlarged 2x and 3x). A region is carried to it by shrinking and
enlarging it again.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from studio.core.ops.backend import Array, Backend, jpeg_roundtrip_host
from studio.core.ops.estimate import LUMA

#: the IJG luminance quantisation table (quality 50), in natural order
IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]).reshape(8, 8)  # fmt: skip
#: the low frequencies checked (zig-zag order: the steps there are the finest)
ZIGZAG = ((0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0),
          (4, 0), (3, 1), (2, 2), (1, 3), (0, 4))  # fmt: skip
MAX_BLOCKS = 96  #: blocks read for the estimate
MIN_STEP = 4  #: coefficients are checked where the step is at least this
MIN_COEFFICIENTS = 64  #: ... at least this many clearly non-zero ones
#: a table fits when this share of the coefficients it does not fit by chance sit within
#: :data:`TOLERANCE` of its multiples; the best fitting table is the quality
FIT = 0.5
TOLERANCE = 1.0  #: coefficient units (decoding rounds the colours: about 0.3 here)
SKIP_ABOVE = 95.0  #: re-encoding at this quality or above changes too little to matter
MCU = 16  #: re-encoded regions are aligned to the 4:2:0 chroma blocks
RES_WINDOW = 128  #: the resolution is read on a window this many pixels a side
BANDS = ((0.08, 0.12), (0.16, 0.2), (0.26, 0.3))  #: spectral bands, cycles per pixel
#: (factor, (band, log10 of its power over the first band's below which the photo has that
#: resolution)), coarsest first: fitted on photos enlarged 2x and 3x (bilinear and bicubic;
#: native, JPEG-compressed and noisy photos read at least 0.4 decades above the limits)
RESOLUTION_TESTS = ((1 / 3, (1, -1.4)), (0.5, (2, -1.95)))


@functools.cache
def quant_table(quality: int) -> np.ndarray:
    """The IJG luminance table at ``quality`` (1..100), as libjpeg scales it."""
    q = max(1, min(100, int(quality)))
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip((IJG_LUMA * scale + 50) // 100, 1, 255).astype(np.float64)


@functools.cache
def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    d = np.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return d


def _blocks(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Unclipped 8x8 luminance blocks on the image's grid inside ``box`` (N x 8 x 8,
    level-shifted as JPEG does): at most :data:`MAX_BLOCKS`, spread over it."""
    x0, y0, x1, y1 = box
    x0, y0 = -(-x0 // 8) * 8, -(-y0 // 8) * 8
    x1, y1 = x0 + (x1 - x0) // 8 * 8, y0 + (y1 - y0) // 8 * 8
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 8, 8))
    nby, nbx = (y1 - y0) // 8, (x1 - x0) // 8
    grid = image[y0:y1, x0:x1].reshape(nby, 8, nbx, 8, 3)  # a view, in blocks
    which = np.arange(0, nby * nbx, max(1, nby * nbx // (2 * MAX_BLOCKS)))
    picked = grid[which // nbx, :, which % nbx]  # N x 8 x 8 x 3
    ok = (picked.min(axis=(1, 2, 3)) > 1) & (picked.max(axis=(1, 2, 3)) < 254)
    picked = picked[ok][:MAX_BLOCKS]
    return picked.astype(np.float64) @ np.array(LUMA) - 128.0


def jpeg_quality(image: np.ndarray, box: tuple[int, int, int, int]) -> float | None:
    """The IJG quality ``image`` (uint8 RGB, host) was last JPEG-compressed at, read on the
    blocks inside ``box`` (x0, y0, x1, y1); None when no table fits (not compressed on this
    grid, or above about quality 90, where the steps are too fine to tell)."""
    blocks = _blocks(image, box)
    if blocks.shape[0] < 8:
        return None
    d = _dct_matrix()
    coef = d @ blocks @ d.T
    rows, cols = zip(*ZIGZAG, strict=True)
    c = coef[:, rows, cols].T.astype(np.float32)  # K x N
    steps, least, chance_of = _tables()  # Q x K x 1
    use = np.abs(c)[None] > least  # Q x K x N: checked coefficients
    near = c[None] / steps  # -> the distance to the nearest multiple, in place
    np.round(near, out=near)
    near *= steps
    np.subtract(c[None], near, out=near)
    np.abs(near, out=near)
    fits = near <= TOLERANCE
    fits &= use
    q = fits.shape[0]
    used = use.view(np.uint8).sum(axis=2, dtype=np.int32)  # Q x K: coefficients checked
    counts = np.maximum(used.sum(axis=1), 1)
    fit = fits.reshape(q, -1).view(np.uint8).sum(axis=1, dtype=np.int32) / counts
    # what a table fits by chance: the share of each step within the tolerance of a multiple
    chance = (chance_of * used).sum(axis=1) / counts
    # less evidence, less credit: a fine table checked on few coefficients does not win
    score = (fit - chance) / (1.0 - chance + 1e-9) - 1.0 / np.sqrt(counts)
    score = np.where(counts >= MIN_COEFFICIENTS, score, -1.0)
    best = int(np.argmax(score))
    return float(best + 1) if score[best] >= FIT else None


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The steps of every quality (Q x K x 1, :func:`_steps`); the magnitude a coefficient
    must pass to be checked against them (infinite where a step is below
    :data:`MIN_STEP`: never checked); and the chance that a coefficient sits within
    :data:`TOLERANCE` of a multiple of each (Q x K, float64)."""
    steps = _steps()[:, :, None]
    least = np.where(steps >= MIN_STEP, 0.4 * steps, np.inf).astype(np.float32)
    chance = np.minimum(1.0, 2.0 * TOLERANCE / steps[:, :, 0]).astype(np.float64)
    return steps, least, chance


@functools.cache
def _steps() -> np.ndarray:
    """The steps of :data:`ZIGZAG` at every quality 1..99 (99 x K)."""
    rows, cols = zip(*ZIGZAG, strict=True)
    return np.stack([quant_table(q)[rows, cols] for q in range(1, 100)]).astype(np.float32)


def reencoded(
    be: Backend,
    image: Array,
    region: tuple[int, int, int, int],
    roi: Array,
    keep: Array,
    quality: float,
) -> Array:
    """``roi`` (the composited ``region`` of ``image``, uint8) with its ``keep`` pixels (bool,
    on the region) JPEG-re-encoded at ``quality`` on the image's grid: the region is grown to
    whole 16-pixel blocks of the image with its pixels around, encoded and decoded on the
    host."""
    x0, y0, x1, y1 = region
    h, w = image.shape[:2]
    bx0, by0 = x0 // MCU * MCU, y0 // MCU * MCU
    bx1, by1 = min(w, -(-x1 // MCU) * MCU), min(h, -(-y1 // MCU) * MCU)
    block = image[by0:by1, bx0:bx1].copy()
    block[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0] = roi
    decoded = be.host_only(lambda _host, b: jpeg_roundtrip_host(b, round(quality)), block)
    out = roi.copy()
    inner = decoded[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0]
    out[keep] = inner[keep]
    return out


def effective_resolution(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The photo's resolution as a factor of its pixels (1: native; 0.5: enlarged 2x), from
    the power spectrum of the luminance on a window in the middle of ``box`` (uint8 RGB,
    host): an enlarged photo has next to no power above its own Nyquist frequency."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    half = RES_WINDOW // 2
    crop = image[max(0, cy - half) : cy + half, max(0, cx - half) : cx + half]
    if crop.shape[:2] != (RES_WINDOW, RES_WINDOW):
        return 1.0
    lum = crop.astype(np.float32) @ np.array(LUMA, np.float32)
    band = _band_powers(lum - lum.mean())
    for factor, (index, limit) in RESOLUTION_TESTS:
        if math.log10(max(band[index], 1e-12) / max(band[0], 1e-12)) < limit:
            return factor
    return 1.0


@functools.cache
def _bands() -> tuple[np.ndarray, ...]:
    """The flat indices of each band of :data:`BANDS` in the window's spectrum."""
    fy, fx = np.fft.fftfreq(RES_WINDOW), np.fft.rfftfreq(RES_WINDOW)
    r = np.hypot(fy[:, None], fx[None, :]).reshape(-1)  # the half-spectrum of a real window
    return tuple(np.flatnonzero((r >= a) & (r < b)) for a, b in BANDS)


@functools.cache
def _window() -> np.ndarray:
    return np.outer(np.hanning(RES_WINDOW), np.hanning(RES_WINDOW)).astype(np.float32)


def _band_powers(lum: np.ndarray) -> list[float]:
    """Mean spectral power in each band of :data:`BANDS` (cycles per pixel; float32 in and
    out, summed in float64)."""
    spectrum = np.fft.rfft2(lum * _window()).reshape(-1)
    power = spectrum.real * spectrum.real + spectrum.imag * spectrum.imag
    return [float(power[band].mean(dtype=np.float64)) for band in _bands()]


def resampled(be: Backend, roi: Array, keep: Array, factor: float) -> Array:
    """``roi`` (uint8) with its ``keep`` pixels at ``factor`` of its resolution: shrunk (area)
    and enlarged again (bilinear)."""
    if factor >= 1.0:
        return roi
    h, w = roi.shape[:2]
    small = be.resize(roi, (max(2, round(w * factor)), max(2, round(h * factor))), mode="area")
    back = be.resize(small, (w, h), mode="linear")
    out = roi.copy()
    out[keep] = back[keep]
    return out
