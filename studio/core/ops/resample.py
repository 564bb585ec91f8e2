"""Weight matrices of OpenCV's resize rules, one per axis, for the device backend's resize
(:meth:`studio.core.ops.backend.NdimageBackend.resize`, applied as matrix products)."""

from __future__ import annotations

import numpy as np


def area_weights(n_src: int, n_dst: int) -> np.ndarray:
    """(n_dst, n_src) weights of an area (box-overlap) reduction, rows summing to 1."""
    scale = n_src / n_dst
    lo = np.arange(n_dst)[:, None] * scale
    hi = lo + scale
    left = np.arange(n_src)[None, :].astype(np.float64)
    overlap = np.clip(np.minimum(hi, left + 1) - np.maximum(lo, left), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def linear_weights(n_src: int, n_dst: int) -> np.ndarray:
    """(n_dst, n_src) weights of OpenCV's half-pixel bilinear resize, edges replicated."""
    pos = (np.arange(n_dst) + 0.5) * (n_src / n_dst) - 0.5
    pos = np.clip(pos, 0.0, n_src - 1)
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    i1 = np.minimum(i0 + 1, n_src - 1)
    w = np.zeros((n_dst, n_src))
    rows = np.arange(n_dst)
    np.add.at(w, (rows, i0), 1.0 - frac)
    np.add.at(w, (rows, i1), frac)
    return w


def area_up_weights(n_src: int, n_dst: int) -> np.ndarray:
    """(n_dst, n_src) weights of OpenCV's INTER_AREA when enlarging (a sharpened bilinear)."""
    inv_scale = n_dst / n_src
    d = np.arange(n_dst)
    s = np.floor(d * (n_src / n_dst)).astype(np.int64)
    f = (d + 1) - (s + 1) * inv_scale
    f = np.where(f <= 0, 0.0, f - np.floor(f))
    f = np.where(s >= n_src - 1, 0.0, f)
    s = np.minimum(s, n_src - 1)
    w = np.zeros((n_dst, n_src))
    np.add.at(w, (d, s), 1.0 - f)
    np.add.at(w, (d, np.minimum(s + 1, n_src - 1)), f)
    return w


def nearest_index(n_src: int, n_dst: int) -> np.ndarray:
    """OpenCV's INTER_NEAREST source index: floor(dst / (n_dst / n_src)), clamped."""
    step = 1.0 / (n_dst / n_src)
    return np.minimum(np.floor(np.arange(n_dst) * step).astype(np.int64), n_src - 1)
