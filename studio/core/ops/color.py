"""Colour transfer of the occluder towards the face's skin colours.

SOT (sliced optimal transport), done on the occluder's own pixels only:

1. the occluder is reduced (area filter) to a working grid holding about ``samples`` masked
   pixels; the face's skin pixels are subsampled to the same count with a seeded generator;
2. each step draws ``directions`` random unit vectors in RGB; along each, both sets are
   projected and sorted, and every working pixel moves to the target value of equal rank
   (the 1-D optimal transport); the moves of all directions are averaged;
3. the colour change (new - old) is smoothed with a mask-normalised Gaussian (no black
   background, no wrap-around), resized to the occluder's size and added with ``strength``.

Reinhard is the cheap alternative: match mean and standard deviation in Lab.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from studio.core.backend import Array, Backend, get_backend
from studio.core.params import ColorParams

TARGET_GRID = 128  # the face crop is reduced to at most this side before sampling skin pixels


def skin_pixels(image: np.ndarray, mask: np.ndarray, bbox: tuple[float, ...]) -> np.ndarray:
    """Skin colours (N x 3 float32 in [0, 1]) of the face, from a reduced crop of its bbox."""
    x0, y0, x1, y1 = (round(v) for v in bbox)
    crop, crop_mask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    h, w = crop.shape[:2]
    f = min(1.0, TARGET_GRID / max(h, w))
    if f < 1.0:
        size = (max(1, round(w * f)), max(1, round(h * f)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        crop_mask = cv2.resize(crop_mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA)
    pixels = crop[crop_mask >= 128] if f < 1.0 else crop[crop_mask > 0]
    return pixels.astype(np.float32) / 255.0


def _working_grid(be: Backend, rgb: Array, alpha: Array, samples: int) -> tuple[Array, ...]:
    h, w = alpha.shape
    count = int(be.xp.count_nonzero(alpha >= 128))
    f = min(1.0, float(np.sqrt(samples / max(count, 1))))
    if f < 1.0:
        size = (max(2, round(w * f)), max(2, round(h * f)))
        rgb = be.resize(rgb, size, mode="area")
        alpha = be.resize(alpha, size, mode="area")
    mask = alpha >= 128
    return rgb, mask


def sliced_transport(
    source: Array,
    target: Array,
    steps: int,
    directions: int,
    rng: np.random.Generator,
    xp: Any = np,
) -> Array:
    """Move ``source`` points (N x 3) towards the distribution of ``target`` (N x 3).

    ``source`` and ``target`` live in ``xp`` (NumPy or CuPy); the random directions are drawn
    on the host from ``rng`` and uploaded, so every backend projects on the same directions.
    """
    x = source.astype(xp.float64, copy=True)
    tgt = target.astype(xp.float64)
    columns = xp.arange(directions)[None, :]
    for _ in range(steps):
        dirs = rng.normal(size=(directions, 3))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        dirs = xp.asarray(dirs)
        px = x @ dirs.T
        pt = xp.sort(tgt @ dirs.T, axis=0)
        order = xp.argsort(px, axis=0, kind="stable")
        moved = xp.empty_like(px)
        moved[order, columns] = pt
        x += ((moved - px) @ dirs) / directions
    return x


def sot_transfer(
    be: Backend, rgb: Array, alpha: Array, skin: np.ndarray, params: ColorParams
) -> Array:
    """SOT colour transfer of an occluder (uint8 RGB + alpha, on ``be``) towards ``skin``
    pixels (host). Runs on the backend's arrays; only the random draws happen on the host."""
    if params.strength <= 0 or skin.shape[0] == 0:
        return rgb
    xp = be.xp
    rng = np.random.default_rng(params.seed)
    small_rgb, small_mask = _working_grid(be, rgb, alpha, params.samples)
    source = small_rgb[small_mask].astype(xp.float64) / 255.0
    if source.shape[0] < 2:
        return rgb
    target = be.asarray(skin[rng.integers(0, skin.shape[0], size=source.shape[0])])
    moved = sliced_transport(source, target, params.steps, params.directions, rng, xp)
    gh, gw = small_mask.shape
    delta = xp.zeros((gh, gw, 3), np.float32)
    delta[small_mask] = (moved - source).astype(np.float32)
    weight = small_mask.astype(np.float32)
    sigma = params.smooth * max(gh, gw)
    if sigma > 0:
        num = be.gaussian_blur(delta, sigma)
        den = be.gaussian_blur(weight, sigma)
        delta = xp.where(den[..., None] > 1e-6, num / xp.maximum(den, 1e-6)[..., None], 0.0)
    h, w = alpha.shape
    if (gw, gh) != (w, h):
        delta = be.resize(delta.astype(np.float32), (w, h), mode="linear")
    out = rgb.astype(np.float32) + np.float32(255.0 * params.strength) * delta
    return xp.clip(xp.rint(out), 0, 255).astype(np.uint8)


def reinhard_transfer(
    be: Backend, rgb: Array, alpha: Array, skin: np.ndarray, params: ColorParams
) -> Array:
    """Match the occluder's Lab mean and std (over its mask) to the skin pixels'.

    Runs on the host (OpenCV's Lab conversion): device arrays are downloaded and the result
    uploaded again; it is cached per occluder and face like every colour transfer.
    """
    if not be.on_host:
        host = reinhard_transfer(
            get_backend("cpu"), be.to_numpy(rgb), be.to_numpy(alpha), skin, params
        )
        return be.asarray(host)
    mask = alpha >= 128
    if params.strength <= 0 or skin.shape[0] < 2 or np.count_nonzero(mask) < 2:
        return rgb
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    skin_lab = cv2.cvtColor(skin.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_RGB2LAB)
    skin_lab = skin_lab.reshape(-1, 3)
    src = lab[mask]
    mu_s, sd_s = src.mean(axis=0), src.std(axis=0) + 1e-6
    mu_t, sd_t = skin_lab.mean(axis=0), skin_lab.std(axis=0)
    moved = (lab - mu_s) * (sd_t / sd_s) + mu_t
    lab = lab + np.float32(params.strength) * (moved - lab)
    out = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB) * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def transfer(be: Backend, rgb: Array, alpha: Array, skin: np.ndarray, params: ColorParams) -> Array:
    """Dispatch on ``params.method``."""
    if params.method == "sot":
        return sot_transfer(be, rgb, alpha, skin, params)
    if params.method == "reinhard":
        return reinhard_transfer(be, rgb, alpha, skin, params)
    return rgb
