"""Colour transfer of the occluder towards the face's skin colours.

SOT (sliced optimal transport), done on the occluder's own pixels only:

1. the occluder is reduced (area filter) to a working grid holding about ``samples`` masked
   pixels; the face's skin pixels are subsampled to the same count with a seeded generator;
2. each step draws ``directions`` random unit vectors in RGB; along each, both sets are
   projected and sorted, and every working pixel moves to the target value of equal rank
   (the 1-D optimal transport); the moves of all directions are averaged;
3. the colour change (new - old) is smoothed with a mask-normalised Gaussian (no black
   background, no wrap-around): that is the :class:`Transport`, made once per occluder and
   target; applying it scales the change by ``strength``, resizes it to the occluder's size
   and adds it (a new strength reuses the transport).

Reinhard is the cheap alternative: match mean and standard deviation in Lab.

``lighting`` changes the light, not the object: it maps the occluder's luminance towards the
target's level and (half-way, in log) contrast, takes on a share (``white_balance``) of the
target's colour cast, and keeps each pixel's hue and saturation: colours are scaled, never
mixed with grey, and never past white (a saturated red stays red, it just cannot get as bright
as skin). It is a per-pixel map from two sets of summary statistics, so it runs on the placed
occluder in face pixels (the target may be the skin ring where the occluder sits).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from studio.core.model.params import ColorParams
from studio.core.ops import estimate
from studio.core.ops.backend import Array, Backend
from studio.core.ops.estimate import LUMA, luminance

TARGET_GRID = 128  # the face crop is reduced to at most this side before sampling skin pixels


def skin_pixels(
    image: np.ndarray, mask: np.ndarray, bbox: tuple[float, ...], delit: bool = False
) -> np.ndarray:
    """Skin colours (N x 3 float32 in [0, 1]) of the face: a regular grid of at most about
    ``TARGET_GRID``^2 pixels over the face bbox, kept where the mask is set; with ``delit``,
    the light across them (a plane of their log luminance) taken out."""
    x0, y0, x1, y1 = (round(v) for v in bbox)
    step = max(1, -(-max(y1 - y0, x1 - x0) // TARGET_GRID))
    crop_mask = mask[y0:y1:step, x0:x1:step]
    grid = np.arange(y0, y1, step)[:, None] * image.shape[1] + np.arange(x0, x1, step)
    at = grid[crop_mask]  # flat indices of the kept pixels
    px = np.take(image.reshape(-1, 3), at, axis=0).astype(np.float32)  # only they are read
    if delit:
        ys, xs = np.nonzero(crop_mask)
        px = estimate.delit(px, xs, ys, estimate.fit_plane(px, xs, ys))
    return px / np.float32(255.0)


def _box_edges(n_src: int, n_dst: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_dst + 1`` box edges of an area reduction, ``k * n_src / n_dst``, as the whole
    source pixel each falls in and the fraction past it in units of ``1 / n_dst``."""
    whole, part = np.divmod(np.arange(n_dst + 1) * n_src, n_dst)
    last = whole == n_src  # the far edge: the end of the last pixel, not past it
    return whole - last, part + n_dst * last


@functools.lru_cache(maxsize=32)
def _area_plan(h: int, w: int, gh: int, gw: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """How :func:`area_reduce` reads an (h+1) x (w+1) x ``channels`` summed-area table for a
    (gw, gh) grid: the flat indices of the four table entries around each box corner (4 x M,
    M = (gh+1)(gw+1)channels) and their bilinear weights in units of 1/gw x 1/gh (whole
    numbers, as float64)."""
    iy, fy = _box_edges(h, gh)
    ix, fx = _box_edges(w, gw)
    corner = ((iy[:, None] * (w + 1) + ix[None, :]) * channels)[..., None] + np.arange(channels)
    around = np.array([0, channels, (w + 1) * channels, (w + 2) * channels])
    index = (around[:, None, None, None] + corner[None]).reshape(4, -1)
    wy, wx = np.stack([gh - fy, fy]), np.stack([gw - fx, fx])  # this pixel / the next one
    weight = (wy[:, None, :, None] * wx[None, :, None, :]).reshape(4, gh + 1, gw + 1, 1)
    weight = np.broadcast_to(weight, (4, gh + 1, gw + 1, channels)).reshape(4, -1)
    return index, weight.astype(np.float64)


def area_reduce(be: Backend, image: Array, size: tuple[int, int]) -> Array:
    """``image`` (uint8, HxW or HxWxC) shrunk to ``size`` = (w, h) by box averages, rounded
    to uint8: OpenCV's ``INTER_AREA`` reduction (the exact box overlaps), read from the
    summed-area table at each box's corners instead of a weighted pass over every source pixel.

    The sums are exact integers (every edge lies on a 1/w, 1/h grid) and the means are
    rounded half to even, the same on every backend (OpenCV's float32 sums may land on either
    side of an exact half, so about 1 value in 10,000 differs from OpenCV's by one level).
    Whole-number factors take the backend's own (fast) area resize.
    """
    h, w = image.shape[:2]
    gw, gh = size
    if w % gw == 0 and h % gh == 0:
        return be.resize(image, size, mode="area")
    xp = be.xp
    table = be.integral(image)
    c = table.shape[2] if table.ndim == 3 else 1
    index, weight = _area_plan(h, w, gh, gw, c)
    # the table between its samples at each box corner (bilinear: the image is constant per
    # pixel), times gw * gh: one gather of the four entries around each corner, weighed
    around = xp.take(table.reshape(-1), be.asarray(index))
    corner = xp.einsum("km,km->m", around, be.asarray(weight)).reshape(gh + 1, gw + 1, c)
    box = corner[1:, 1:] - corner[1:, :-1] - corner[:-1, 1:] + corner[:-1, :-1]
    # exact integers below 2**53: the division is correctly rounded, so exact halves stay
    # exact and round to even, as OpenCV rounds
    out = xp.rint(box / (w * h)).astype(xp.uint8)
    return out if image.ndim == 3 else out[..., 0]


def _working_grid(be: Backend, rgb: Array, alpha: Array, samples: int) -> tuple[Array, ...]:
    h, w = alpha.shape
    count = int(be.xp.count_nonzero(alpha >= 128))
    f = min(1.0, float(np.sqrt(samples / max(count, 1))))
    if f < 1.0:
        size = (max(2, round(w * f)), max(2, round(h * f)))
        rgb = area_reduce(be, rgb, size)
        alpha = area_reduce(be, alpha, size)
    mask = alpha >= 128
    return rgb, mask


KEY_LEVELS = 65535  #: projections are ranked by 16-bit keys over each row's range


def _keys(px: Array, xp: Any) -> tuple[Array, Array, Array]:
    """Each row of ``px`` (float32) as 16-bit keys over the row's range, with the row's
    minimum and the keys per unit. No clipping is needed: ``px - lo`` is at most the span in
    float32, so a key is at most 65,535 plus a rounding error that truncation drops."""
    lo = px.min(axis=1, keepdims=True)
    span = px.max(axis=1, keepdims=True) - lo
    scale = np.float32(KEY_LEVELS) / xp.maximum(span, np.float32(1e-12))
    return ((px - lo) * scale).astype(xp.uint16), lo, scale


def rank_order(px: Array, xp: Any = np) -> Array:
    """The order that sorts each row of ``px`` (D x N float32), ranked by 16-bit keys.

    The keys divide a row's range into :data:`KEY_LEVELS` levels and ties keep their index
    order, so a stable (radix) sort ranks them, about 5x faster than a float argsort on the
    CPU and the same ranks on every backend. Projections closer than 1/65,535 of the range
    may swap ranks: their targets then differ by far less than a colour level.
    """
    keys = _keys(px, xp)[0]
    return xp.argsort(keys, axis=1, kind="stable")


def sorted_projections(units: np.ndarray, points: Array, xp: Any = np) -> Array:
    """The projections of ``points`` (3 x N float32, on ``xp``) on every unit direction of
    ``units`` (host, ... x 3), one row per direction, each sorted to within half a 16-bit key
    of the range that the points' bounding box projects to: the keys need no pass for each
    row's minimum and maximum, a radix sort orders them and each is read back at the middle
    of its interval (at most 1/131,070 of that range off, far below a colour level)."""
    box = [[float(v) for v in points.min(axis=1)], [float(v) for v in points.max(axis=1)]]
    dirs = units.reshape(-1, 3).astype(np.float64)
    ends = dirs[None] * np.array(box)[:, None, :]  # each coordinate's end, per direction
    lo, hi = ends.min(axis=0).sum(axis=1), ends.max(axis=0).sum(axis=1)
    pad = 1e-6 * (hi - lo) + 1e-6  # beyond the float32 rounding of the projections
    lo, span = lo - pad, hi - lo + 2 * pad
    scale = xp.asarray((KEY_LEVELS / span).astype(np.float32)[:, None])
    low = xp.asarray(lo.astype(np.float32)[:, None])
    rows = (xp.asarray(units.astype(np.float32)) @ points).reshape(dirs.shape[0], -1)
    rows -= low
    rows *= scale
    out = xp.sort(rows.astype(xp.uint16), axis=1, kind="stable").astype(xp.float32)
    out += np.float32(0.5)
    out /= scale
    out += low
    return out


def sliced_transport(
    source: Array,
    target: Array,
    steps: int,
    directions: int,
    rng: np.random.Generator,
    xp: Any = np,
    full_sort: bool = False,
) -> Array:
    """Move ``source`` points (N x 3) towards the distribution of ``target`` (N x 3).

    Each step projects both sets on ``directions`` random unit vectors, matches them by rank
    (1-D optimal transport) and moves every source point by the mean of its matched shifts.
    ``source`` and ``target`` live in ``xp`` (NumPy or CuPy); the directions are drawn on the
    host from ``rng`` and uploaded, so every backend projects on the same directions. The
    source is ranked by 16-bit keys (:func:`rank_order`); the target does not move: its
    projections on every step's directions are sorted at once (:func:`sorted_projections`).
    ``full_sort`` ranks and sorts the float projections exactly instead (the reference's way;
    for comparisons). The steps write into arrays made once.
    """
    x = xp.ascontiguousarray(source.T, dtype=xp.float32)  # 3 x N
    tgt = xp.ascontiguousarray(target.T, dtype=xp.float32)  # 3 x N
    n = x.shape[1]
    drawn = rng.normal(size=(steps, directions, 3))  # the same numbers as one draw per step
    unit = (drawn / np.linalg.norm(drawn, axis=2, keepdims=True)).astype(np.float32)
    dirs = xp.asarray(unit)
    moves = xp.asarray(np.ascontiguousarray(unit.transpose(0, 2, 1)) * np.float32(1.0 / directions))
    if full_sort:
        goal = xp.sort((dirs @ tgt).reshape(steps * directions, n), axis=1).reshape(steps, -1)
    else:  # one small product per step inside (a single large one may start BLAS threads)
        goal = sorted_projections(unit, tgt, xp).reshape(steps, -1)
    row_starts = (xp.arange(directions) * n)[:, None]
    px = xp.empty((directions, n), xp.float32)
    matched = xp.empty((directions, n), xp.float32)
    flat = matched.reshape(-1)  # written through flat indices (a 2-D scatter is slower)
    move = xp.empty((3, n), xp.float32)
    for step in range(steps):
        xp.matmul(dirs[step], x, out=px)  # D x N
        order = xp.argsort(px, axis=1) if full_sort else rank_order(px, xp)
        order += row_starts
        flat[order.reshape(-1)] = goal[step]
        matched -= px
        x += xp.matmul(moves[step], matched, out=move)
    return x.T.astype(xp.float64)


@dataclass(frozen=True)
class Transport:
    """A colour transfer of one occluder towards one target, made at no particular strength:
    :meth:`apply` scales its change by a strength, so a new strength reuses the transport.

    SOT holds the smoothed colour change on its working grid (0..1 units, on the backend);
    Reinhard the occluder in Lab and its move there (host arrays: OpenCV's Lab conversion).
    """

    method: str
    change: Array
    lab: np.ndarray | None = None

    def apply(self, be: Backend, rgb: Array, strength: float, highlights: float = 0.0) -> Array:
        """``rgb`` (the occluder it was made from) moved by ``strength`` of the change; with
        ``highlights`` > 0 its bright colours roll off below white (:func:`roll_off`)."""
        if strength <= 0:
            return rgb
        if self.method == "reinhard":
            source = be.to_numpy(rgb) if highlights > 0 else None
            moved = self._reinhard(strength, source, highlights)
            return moved if be.on_host else be.asarray(moved)
        xp = be.xp
        delta = (self.change * np.float32(255.0 * strength)).astype(xp.float32)
        gh, gw = self.change.shape[:2]
        h, w = rgb.shape[:2]
        if (gw, gh) != (w, h):
            delta = be.resize(delta, (w, h), mode="linear")
        if highlights <= 0:
            return be.add_u8(rgb, delta)
        source = rgb.astype(xp.float32)
        rolled = roll_off(xp, source + delta, source, highlights)
        return xp.clip(xp.rint(rolled), 0, 255).astype(xp.uint8)

    def _reinhard(
        self, strength: float, source: np.ndarray | None = None, highlights: float = 0.0
    ) -> np.ndarray:
        """The occluder in Lab moved by ``strength`` of the change, back in RGB (host)."""
        assert self.lab is not None
        lab = self.lab + np.float32(strength) * self.change
        out = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB) * 255.0
        if source is not None and highlights > 0:
            out = roll_off(np, out, source.astype(np.float32), highlights)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


HIGHLIGHT_ROLL = 64.0  #: :func:`roll_off` at strength 1 starts this far below white


def roll_off(xp: Any, values: Array, source: Array, strength: float) -> Array:
    """Colours (float, 0..255 scale) whose highlights roll off below white instead of
    clipping: above a knee ``255 - strength * HIGHLIGHT_ROLL`` they follow a tanh shoulder
    that never reaches 255, except where ``source`` (the colours before the change) was as
    bright already (a white highlight of the cut-out stays white)."""
    f32 = np.float32
    room = f32(max(1e-3, strength * HIGHLIGHT_ROLL))
    knee = f32(255.0) - room
    soft = xp.minimum(knee + room * xp.tanh((values - knee) / room), f32(254.4))  # never 255
    return xp.maximum(xp.where(values > knee, soft, values), xp.minimum(source, values))


def transport_key(params: ColorParams) -> tuple[Any, ...]:
    """What a :class:`Transport` depends on besides its occluder and target: the method's
    own settings, never the strength (it is applied afterwards)."""
    if params.method == "sot":
        return (params.method, params.steps, params.directions, params.samples, params.smooth,
                params.seed)  # fmt: skip
    return (params.method,)


def sot_transport(
    be: Backend,
    rgb: Array,
    alpha: Array,
    skin: np.ndarray,
    params: ColorParams,
    *,
    full_sort: bool = False,
) -> Transport | None:
    """SOT colour transport of an occluder (uint8 RGB + alpha, on ``be``) towards ``skin``
    pixels (host); None when there is nothing to move. Runs on the backend's arrays; only
    the random draws happen on the host. ``full_sort``: see :func:`sliced_transport`."""
    if skin.shape[0] == 0:
        return None
    xp = be.xp
    rng = np.random.default_rng(params.seed)
    small_rgb, small_mask = _working_grid(be, rgb, alpha, params.samples)
    source = small_rgb[small_mask].astype(xp.float64) / 255.0
    if source.shape[0] < 2:
        return None
    drawn = rng.integers(0, skin.shape[0], size=source.shape[0])
    target = be.asarray(np.take(skin, drawn, axis=0))
    moved = sliced_transport(
        source, target, params.steps, params.directions, rng, xp, full_sort=full_sort
    )
    gh, gw = small_mask.shape
    # the change and its weight (the mask) as one 4-channel image: one blur smooths both
    layers = xp.zeros((gh, gw, 4), np.float32)
    layers[small_mask, :3] = moved - source
    layers[..., 3] = small_mask
    sigma = params.smooth * max(gh, gw)
    if sigma <= 0:
        return Transport("sot", xp.ascontiguousarray(layers[..., :3]))
    smooth = be.gaussian_blur(layers, sigma)
    num, den = smooth[..., :3], smooth[..., 3:]
    tiny = np.float32(1e-6)
    return Transport("sot", xp.where(den > tiny, num / xp.maximum(den, tiny), np.float32(0.0)))


def reinhard_transport(
    be: Backend, rgb: Array, alpha: Array, skin: np.ndarray
) -> Transport | None:
    """Reinhard's transport: the occluder's Lab mean and std (over its mask) matched to the
    skin pixels'; None when either side has fewer than 2 pixels.

    Runs on the host (OpenCV's Lab conversion): device arrays are downloaded; it is cached
    per occluder and face like every colour transport.
    """
    rgb, alpha = be.to_numpy(rgb), be.to_numpy(alpha)
    mask = alpha >= 128
    if skin.shape[0] < 2 or np.count_nonzero(mask) < 2:
        return None
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    skin_lab = cv2.cvtColor(skin.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_RGB2LAB)
    skin_lab = skin_lab.reshape(-1, 3)
    src = lab[mask]
    mu_s, sd_s = src.mean(axis=0), src.std(axis=0) + 1e-6
    mu_t, sd_t = skin_lab.mean(axis=0), skin_lab.std(axis=0)
    moved = (lab - mu_s) * (sd_t / sd_s) + mu_t
    return Transport("reinhard", moved - lab, lab)


CONTRAST_RANGE = (0.5, 2.0)  #: lighting changes the occluder's contrast at most this much
GAIN_RANGE = (0.5, 2.0)  #: white-balance gains per channel stay within these factors
HUE_FLOOR = 24.0  #: luminance offset (0..255) of the colour scaling: dark pixels stay dark


@dataclass(frozen=True)
class ColourStats:
    """Summary statistics of a set of pixels (0..255 units)."""

    mean_y: float
    std_y: float
    mean_rgb: tuple[float, float, float]
    count: int


def colour_stats(be: Backend, rgb: Array, mask: Array | None = None, step: int = 1) -> ColourStats:
    """Luminance mean and std and mean colour of ``rgb`` (HxWx3, or Nx3 pixels) over ``mask``,
    from the pixels on a grid of ``step`` (statistics need no more than a sample)."""
    xp = be.xp
    if step > 1:
        rgb = rgb[::step, ::step]
        mask = None if mask is None else mask[::step, ::step]
    px = rgb if mask is None else rgb[mask]
    px = px.reshape(-1, 3).astype(xp.float32)
    n = int(px.shape[0])
    if n == 0:
        return ColourStats(0.0, 0.0, (0.0, 0.0, 0.0), 0)
    y = px @ xp.asarray(np.array(LUMA, np.float32))
    mean = [float(v) for v in px.mean(axis=0)]
    return ColourStats(float(y.mean()), float(y.std()), (mean[0], mean[1], mean[2]), n)


def lighting_gains(source: ColourStats, target: ColourStats, white_balance: float) -> np.ndarray:
    """Per-channel white-balance gains: the source's mean chromaticity moved ``white_balance``
    of the way (in log) to the target's, normalised to keep the source's mean luminance."""
    eps = 1.0
    src = np.array(source.mean_rgb) + eps
    tgt = np.array(target.mean_rgb) + eps
    chroma = (tgt / (target.mean_y + eps)) / (src / (source.mean_y + eps))
    gains = np.clip(chroma**white_balance, *GAIN_RANGE)
    luma = np.array(LUMA)
    return gains * (luma @ src) / (luma @ (gains * src))


def lighting(
    be: Backend,
    premultiplied: Array,
    alpha: Array,
    source: ColourStats,
    target: ColourStats,
    params: ColorParams,
    relative: bool = False,
) -> Array:
    """Relight a placed occluder (float32 premultiplied HxWx3, float32 alpha 0..255) from its
    own statistics ``source`` to the target's (see the module docstring). Works on the
    premultiplied colours directly; values may exceed alpha, which the caller clips. With
    ``relative`` the contrast is matched relative to the level (the coefficients of
    variation), so a photo twice as dark gives an occluder twice as dark, its own contrast
    kept."""
    xp = be.xp
    if params.strength <= 0 or source.count == 0 or target.count == 0:
        return premultiplied
    f32 = np.float32
    if relative:
        level = (target.mean_y + 1.0) / (source.mean_y + 1.0)
        k = float(np.clip(np.sqrt((target.std_y + 1.0) / (source.std_y + 1.0) / level),
                          *CONTRAST_RANGE)) * level  # fmt: skip
    else:
        k = float(np.clip(np.sqrt((target.std_y + 1.0) / (source.std_y + 1.0)), *CONTRAST_RANGE))
    gains = lighting_gains(source, target, params.white_balance)
    # per pixel: the luminance ratio and the headroom to white, from the premultiplied colours
    a = alpha * f32(1 / 255)
    y_p = luminance(be, premultiplied)
    y = y_p / xp.maximum(a, f32(1e-6))
    y_new = xp.clip(f32(target.mean_y) + f32(k) * (y - f32(source.mean_y)), 0.0, 255.0)
    ratio = (y_new + f32(HUE_FLOOR)) / (y + f32(HUE_FLOOR))
    # colours scale with the light, never past white: a saturated colour stays saturated
    brightest = xp.maximum(
        xp.maximum(premultiplied[..., 0], premultiplied[..., 1]), premultiplied[..., 2]
    )
    headroom = (f32(255.0) * a) / xp.maximum(brightest, f32(1e-3))
    scale = xp.minimum(ratio, headroom)
    # x (1 + strength (scale gain - 1)) = strength gain scale x + (1 - strength) x, per channel
    s = float(params.strength)
    out = be.gain(be.mix(premultiplied, np.diag(s * gains)), scale)
    if s < 1.0:
        out += premultiplied * f32(1.0 - s)
    if params.highlights > 0:  # rolled off below white, on the straight colours
        inv = (f32(1.0) / xp.maximum(a, f32(1e-6)))[..., None]
        rolled = roll_off(xp, out * inv, premultiplied * inv, params.highlights)
        out = rolled * a[..., None]
    return out  # the caller clips to [0, alpha]


TRANSFERS = ("sot", "reinhard")  #: the methods that move colours before placement


def transport(
    be: Backend, rgb: Array, alpha: Array, skin: np.ndarray, params: ColorParams
) -> Transport | None:
    """The transport of ``params.method`` (None for a method that moves nothing here)."""
    if params.method == "sot":
        return sot_transport(be, rgb, alpha, skin, params)
    if params.method == "reinhard":
        return reinhard_transport(be, rgb, alpha, skin)
    return None


def transfer(be: Backend, rgb: Array, alpha: Array, skin: np.ndarray, params: ColorParams) -> Array:
    """``rgb`` moved towards ``skin`` by ``params.method`` at ``params.strength``."""
    if params.method not in TRANSFERS or params.strength <= 0:
        return rgb
    moved = transport(be, rgb, alpha, skin, params)
    return rgb if moved is None else moved.apply(be, rgb, params.strength, params.highlights)
