"""The photo's look: how a face photo renders colour and tone, and the same rendering applied to
a pasted occluder (see :mod:`studio.core.engine.photo`, which estimates it once per face).

A :class:`Look` describes the photo relative to a plain colour photo:

- monochrome and toned (grey, sepia, duotone): the scene's colour, once the mean colour of
  each luminance level (the toning) is taken away, is next to nothing: ``mono`` goes from 0
  (colour) to 1 (monochrome) with the median of what is left, and ``tint`` is the toning (the
  RGB offset from grey at each level). A toning spans most levels and changes gradually
  from level to level: mean colours that jump (a grey backdrop, then skin) are a colour
  photo's;
- colour cast (white balance, colour grade): a shift in log chromaticity ``(log R/G,
  log B/G)``. Skin colours of every complexion lie near one line there (the skin locus), so
  the skin's distance across it is the cast across it; along it, a robust grey world of the
  scene around the face (the trimmed mean log chromaticity of its unclipped pixels, skin
  excluded), kept within what leaves the skin a complexion of the prior (a blue sky does not
  make a cast). Small shifts are shrunk to 0, so a plain photo gives next to none;
- colourfulness: of the scene (Hasler and Suesstrunk's measure) against a plain photo's, and
  of the skin against its prior, their geometric mean, at most 1;
- tone curve: blacks lifted above a plain photo's darkest level (the scene's 1st luminance
  percentile) give ``y -> black + contrast * y``, the whites dimmed about as much (a faded
  print); whites alone say nothing (a dark photo is not a faded one).

:func:`render_look` applies it to a placed occluder (premultiplied float colours): the tone
curve, a 3x3 colour matrix (cast and colourfulness), and the toning where the photo is
monochrome.
:func:`unrendered` maps statistics measured on the photo back through the tone curve and cast,
so that a colour method aiming at them (``lighting``) aims at the scene before the photo's
rendering, which is then applied once.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from studio.core.ops.backend import Array, Backend
from studio.core.ops.color import ColourStats
from studio.core.ops.estimate import LUMA, luminance

SCENE_GROW = 0.5  #: the scene: the face bbox grown by this share of its size on each side
SCENE_GRID = 64  #: ... averaged onto cells, at most this many a side
CELL_READS = 2  #: ... from at least about this many pixels a cell side
LEVELS = 8  #: luminance levels of the toning
MONO = (0.75, 2.0)  #: residual colour (grey levels, median): monochrome at or below, colour above
TONING_LEVELS = 5  #: a toning is read on at least this many of the levels
TONING_STEP = 20.0  #: its colour changes by at most this (grey levels) from level to level
TONING_HUE = (6.0, 0.5)  #: ... and, between levels more colourful than the first, in hue (cosine)
#: the skin-colour locus in (log R/G, log B/G): its direction, its offset across it, and how
#: far along it the skin of a plain photo lies (pale to dark)
SKIN_AXIS = (0.82, -0.57)
SKIN_OFFSET = 0.0
SKIN_ALONG = (0.15, 0.6)
CAST_TRIM = 0.2  #: log chromaticities are averaged without this share of outliers
CAST_SHRINK = 0.04  #: casts are shrunk by this much (log units): the scene's own colours
CAST_MAX = 0.5  #: ... and bounded by this
COLOURFUL = 25.0  #: the colourfulness of a plain colour photo's scene (Hasler-Suesstrunk)
SKIN_CHROMA = 0.2  #: ... and of its skin (log chromaticity along the locus)
TONE_PRIOR = 4.0  #: a plain photo's 1st luminance percentile is at most this
#: blacks lifted more than the first dim the whites by the second times the excess
FADE_WHITE = (8.0, 0.9)
USABLE = (6.0, 250.0)  #: the cast is read on pixels whose channels all lie within these
_EDGES = np.linspace(0.0, 255.0, LEVELS + 1)  #: the levels' edges
_EYE = np.eye(3)


@dataclass(frozen=True)
class Look:
    """How a photo renders colour, relative to a plain colour photo (host values)."""

    mono: float = 0.0  #: 0 colour .. 1 monochrome or toned
    levels: tuple[float, ...] = ()  #: luminance levels of the toning
    tint: tuple[tuple[float, float, float], ...] = ()  #: RGB offset from grey at each level
    cast: tuple[float, float] = (0.0, 0.0)  #: colour cast, (log R/G, log B/G)
    saturation: float = 1.0  #: colourfulness, a share of a plain photo's
    black: float = 0.0  #: tone curve: ``black + contrast * y``
    contrast: float = 1.0

    def gains(self, share: float) -> np.ndarray:
        """Per-channel gains of ``share`` of the cast, keeping the luminance."""
        r, b = (share * c for c in self.cast)
        g = np.array([math.exp(r), 1.0, math.exp(b)])
        return g / float(np.dot(LUMA, g))


PLAIN = Look()  #: a plain colour photo: nothing to render


def scene_box(bbox: tuple[float, ...], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The face bbox grown by :data:`SCENE_GROW` a side, clipped to an image of ``size``."""
    x0, y0, x1, y1 = bbox
    gw, gh = SCENE_GROW * (x1 - x0), SCENE_GROW * (y1 - y0)
    w, h = size
    return (max(0, int(x0 - gw)), max(0, int(y0 - gh)), min(w, math.ceil(x1 + gw)),
            min(h, math.ceil(y1 + gh)))  # fmt: skip


def estimate(
    image: np.ndarray, mask: np.ndarray, bbox: tuple[float, ...], toning_only: bool = False
) -> Look:
    """The look of a face photo (uint8 RGB and its face mask, host) from the scene around the
    face and its skin; see the module docstring. With ``toning_only``, only how monochrome it
    is and its toning (what a transfer towards the skin leaves to the look); the rest is a
    plain photo's."""
    x0, y0, x1, y1 = scene_box(bbox, (image.shape[1], image.shape[0]))
    f = min(1.0, SCENE_GRID / max(x1 - x0, y1 - y0, 1))
    size = (max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f)))
    # averaged over cells (read on a grid of about CELL_READS^2 pixels a cell): the sensor
    # noise averages out, the colours stay
    k = max(1, int(1.0 / (f * CELL_READS)))
    crop, skin_crop = image[y0:y1:k, x0:x1:k], mask[y0:y1:k, x0:x1:k]
    cells_u8 = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).reshape(-1, 3)
    px = cells_u8.astype(np.float64)
    if px.shape[0] < 64:
        return PLAIN
    y = px @ np.array(LUMA)
    mono, levels, tint = _toning(px, y)
    if toning_only:
        return Look(mono, levels, tint)
    cells = cv2.resize(skin_crop.view(np.uint8), size, interpolation=cv2.INTER_AREA)
    skin = cells.reshape(-1) > 0  # cells mostly of skin (the area filter rounds)
    channels = [cells_u8[:, c] for c in range(3)]
    usable = (np.minimum.reduce(channels) >= USABLE[0]) & (np.maximum.reduce(channels) <= USABLE[1])
    chroma = _log_chromas(px)
    face = usable & skin  # the skin's colours: read by the cast and the colourfulness
    own = _trimmed_mean(chroma, face) if np.count_nonzero(face) >= 32 else None
    cast = _cast(chroma, usable & ~skin, own)
    saturation = _saturation(px, own)
    black, contrast = _tone_curve(y)
    return Look(mono, levels, tint, cast, saturation, black, contrast)


def _toning(px: np.ndarray, y: np.ndarray) -> tuple[float, tuple[float, ...], tuple]:
    """How monochrome the scene is (0..1), and its mean colour offset at each level."""
    ok = (y > 8.0) & (y < 247.0)
    if np.count_nonzero(ok) < 64:
        return 0.0, (), ()
    y_ok = y[ok]
    edges = _EDGES
    which = np.clip(np.digitize(y_ok, edges) - 1, 0, LEVELS - 1)
    counts = np.bincount(which, minlength=LEVELS)
    present = np.flatnonzero(counts >= 16)
    if present.size < TONING_LEVELS:  # too few levels for a toning (:func:`_one_toning`)
        return 0.0, (), ()
    offset = px[ok] - y_ok[:, None]  # R - Y, G - Y, B - Y
    # the pixels grouped by level, each group in its own order (a stable sort)
    grouped = offset[np.argsort(which, kind="stable")]
    starts = np.concatenate(([0], np.cumsum(counts)))
    centres = [0.5 * (edges[k] + edges[k + 1]) for k in present]
    table = np.array([np.median(grouped[starts[k] : starts[k + 1]], axis=0) for k in present])
    if not _one_toning(table):
        return 0.0, (), ()
    expected = np.stack([np.interp(y_ok, centres, table[:, c]) for c in range(3)], axis=1)
    left = offset - expected  # R - Y, G - Y, B - Y beyond the toning
    residual = float(np.median(np.hypot(left[:, 0], left[:, 2])))
    mono = float(np.clip((MONO[1] - residual) / (MONO[1] - MONO[0]), 0.0, 1.0))
    tint = tuple((float(r), float(g), float(b)) for r, g, b in table)
    return mono, tuple(float(c) for c in centres), tint


def _one_toning(table: np.ndarray) -> bool:
    """True when the mean colours of the levels (R - Y, G - Y, B - Y rows, darkest first)
    could be a toning (sepia, a duotone): most levels present, and the colour changing
    gradually from level to level, in size and in hue (a grey backdrop beside skin is two
    colours of a colour photo, not a toning)."""
    if len(table) < TONING_LEVELS:
        return False
    chroma = table[:, [0, 2]]
    size = np.hypot(chroma[:, 0], chroma[:, 1])
    for k in range(len(chroma) - 1):
        if np.hypot(*(chroma[k + 1] - chroma[k])) > TONING_STEP:
            return False
        if min(size[k], size[k + 1]) > TONING_HUE[0]:
            cos = float(chroma[k] @ chroma[k + 1]) / (size[k] * size[k + 1])
            if cos < TONING_HUE[1]:
                return False
    return True


def _log_chromas(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log chromaticities ``log R/G`` and ``log B/G`` of pixels (N x 3), two arrays."""
    g = px[:, 1] + 1.0
    return np.log((px[:, 0] + 1.0) / g), np.log((px[:, 2] + 1.0) / g)


def _trimmed_mean(
    chroma: tuple[np.ndarray, np.ndarray], which: np.ndarray, trim: float = CAST_TRIM
) -> np.ndarray:
    """Mean log chromaticity ``(log R/G, log B/G)`` of the pixels ``which`` (bool) of
    ``chroma`` (:func:`_log_chromas`), leaving out the ``trim`` share farthest from their
    median."""
    r, b = chroma[0][which], chroma[1][which]
    n = r.size
    mid_r, mid_b = (np.partition(v, n // 2)[n // 2] for v in (r, b))  # (upper, for even n)
    far = np.hypot(r - mid_r, b - mid_b)
    keep = max(1, int(n * (1.0 - trim)))
    near = np.argpartition(far, keep - 1)[:keep]
    return np.stack([r[near], b[near]], axis=1).mean(axis=0)


@functools.cache
def _axes() -> tuple[np.ndarray, np.ndarray]:
    """The skin locus's direction and the direction across it (unit vectors)."""
    d = np.array(SKIN_AXIS) / np.hypot(*SKIN_AXIS)
    return d, np.array([-d[1], d[0]])


def _cast(
    chroma: tuple[np.ndarray, np.ndarray], rest: np.ndarray, own: np.ndarray | None
) -> tuple[float, float]:
    """The colour cast in (log R/G, log B/G), from the pixels' log ``chroma``, the
    usable pixels of the scene beside the skin (``rest``) and the skin's own mean (``own``;
    None: too little skin): across the skin locus, the skin's distance from it; along it,
    the grey world of the rest of the scene, kept where the skin stays a complexion of the
    prior; shrunk, and bounded."""
    d, n = _axes()
    world = _trimmed_mean(chroma, rest) if np.count_nonzero(rest) >= 64 else None
    if own is None:
        if world is None:
            return 0.0, 0.0
        cast = world
    else:
        along = float(own @ d)
        lo, hi = along - SKIN_ALONG[1], along - SKIN_ALONG[0]
        cast_along = min(max(float(world @ d), lo), hi) if world is not None else 0.0
        cast = n * (float(own @ n) - SKIN_OFFSET) + d * cast_along
    size = float(np.hypot(*cast))
    if size <= CAST_SHRINK:
        return 0.0, 0.0
    cast = cast * (min(size - CAST_SHRINK, CAST_MAX) / size)
    return float(cast[0]), float(cast[1])


def _saturation(px: np.ndarray, own: np.ndarray | None) -> float:
    """Colourfulness against a plain photo's (1 at or above it): the scene's, and the skin's
    along the locus (its distance from grey; ``own``, its mean log chromaticity, None: too
    little skin), their geometric mean."""
    rg = px[:, 0] - px[:, 1]
    yb = 0.5 * (px[:, 0] + px[:, 1]) - px[:, 2]
    m = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    scene = min(1.0, m / COLOURFUL)
    if own is None:
        return scene
    along = float(own @ _axes()[0])
    own_share = min(1.0, max(0.0, along) / SKIN_CHROMA)
    return math.sqrt(scene * own_share)


def _tone_curve(y: np.ndarray) -> tuple[float, float]:
    """Black level and contrast: blacks lifted above a plain photo's, and the whites dimmed
    about as much (:data:`FADE_WHITE`; a dark photo's whites are not a fade)."""
    k = max(0, int(0.01 * (y.size - 1)))
    lo = float(np.partition(y, k)[k])  # the 1st percentile
    black = max(0.0, lo - TONE_PRIOR)
    dim = max(0.0, FADE_WHITE[1] * (black - FADE_WHITE[0]))
    return black, max(0.1, (255.0 - dim - black) / 255.0)


@dataclass(frozen=True)
class Parts:
    """How much of each part of a :class:`Look` to apply."""

    mono: float = 0.0  #: the toning of a monochrome photo
    cast: float = 0.0  #: share of the colour cast
    tone: float = 0.0  #: the tone curve and the colourfulness

    def matrix(self, look: Look) -> np.ndarray:
        """The 3x3 colour matrix of the cast and the colourfulness (a monochrome photo's
        toning takes the place of both)."""
        colour = 1.0 - self.mono * look.mono
        sat = 1.0 + self.tone * colour * (look.saturation - 1.0)
        lum = np.array(LUMA)
        keep = sat * np.eye(3) + (1.0 - sat) * np.outer(np.ones(3), lum)
        return keep @ np.diag(look.gains(self.cast * colour))

    def curve(self, look: Look) -> tuple[float, float]:
        """``(black, contrast)`` of the tone curve applied."""
        return self.tone * look.black, 1.0 + self.tone * (look.contrast - 1.0)

    def changes(self, look: Look) -> bool:
        black, contrast = self.curve(look)
        toned = self.mono * look.mono > 1e-3 and bool(look.levels)
        flat = _identity(self.matrix(look), 1e-4)
        return toned or not flat or black > 1e-3 or abs(contrast - 1.0) > 1e-4


def _identity(matrix: np.ndarray, atol: float) -> bool:
    """``np.allclose(matrix, identity, atol=atol)`` of a 3x3 matrix, without its overhead."""
    return bool((np.abs(matrix - _EYE) <= atol + 1e-5 * _EYE).all())


def render_look(be: Backend, colours: Array, alpha: Array, look: Look, parts: Parts) -> Array:
    """A placed occluder (float32 premultiplied HxWx3, float32 alpha 0..255) rendered with
    ``parts`` of ``look``: the tone curve, then the cast and colourfulness matrix (a grade
    acts on the toned colours), then the toning of a monochrome photo. Values may leave
    [0, alpha]: the caller clips."""
    xp = be.xp
    f32 = np.float32
    a = alpha * f32(1 / 255)
    out = colours
    black, contrast = parts.curve(look)
    matrix = parts.matrix(look)
    # the tone curve and the matrix in one per-pixel map: M (contrast c + a black) is
    # (M contrast) c plus a times (M black), the black level's colour after the matrix
    curved = black > 1e-3 or abs(contrast - 1.0) > 1e-4
    if curved or not _identity(matrix, 1e-6):
        out = be.mix(out, matrix * contrast)
    if black > 1e-3:
        out += be.mix(a[..., None], matrix.sum(axis=1, keepdims=True) * black)
    w = parts.mono * look.mono
    if w > 1e-3 and look.levels:
        y_p = luminance(be, out)
        y = y_p / xp.maximum(a, f32(1e-6))
        levels = be.asarray(np.array(look.levels, np.float32))
        toned = [y_p + a * xp.interp(y, levels, be.asarray(np.array([t[c] for t in look.tint],
                                                                     np.float32)))
                 for c in range(3)]  # fmt: skip
        mono = xp.stack(toned, axis=-1).astype(xp.float32)
        out = out * f32(1.0 - w) + mono * f32(w)
    return out.astype(xp.float32, copy=False)


def unrendered(stats: ColourStats, look: Look, parts: Parts) -> ColourStats:
    """Statistics measured on the photo before its tone curve and cast (what a colour method
    aims at, so that the look is applied once; colourfulness keeps the luminance)."""
    black, contrast = parts.curve(look)
    mean = np.array(stats.mean_rgb) / look.gains(parts.cast * (1.0 - parts.mono * look.mono))
    mean = np.maximum((mean - black) / contrast, 0.0)
    return ColourStats(
        max(0.0, (stats.mean_y - black) / contrast),
        stats.std_y / contrast,
        (float(mean[0]), float(mean[1]), float(mean[2])),
        stats.count,
    )
