"""Segmentation metrics of ``studio evaluate``, in plain NumPy (no torch, exact on small masks).

For one image, with ``pred`` and ``truth`` boolean masks of the visible face:

- **face IoU** = TP / (TP + FP + FN), the face class's intersection over union;
- **background IoU** = TN / (TN + FP + FN);
- **mIoU** = the mean of the two: the metric of the paper (visible face vs background);
- **boundary F** (Perazzi et al., DAVIS 2016): the F-measure of boundary precision and recall,
  a boundary pixel counting as matched when the other mask's boundary lies within
  ``ceil(0.008 x image diagonal)`` pixels (Euclidean disk).

An IoU whose union is empty (both masks empty, or both full for the background) is 1: the
prediction is exactly right. Over a test set the report gives the mean of the per-image values
(``face_iou``, ``miou``, ``boundary_f``) and the pooled values from the summed pixel counts
(``face_iou_pooled``, ``miou_pooled``), which weigh large faces more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

BOUNDARY_TOLERANCE = 0.008  #: boundary match distance, as a fraction of the image diagonal


def _iou(inter: int, union: int) -> float:
    return 1.0 if union == 0 else inter / union


def confusion(pred: np.ndarray, truth: np.ndarray) -> dict[str, int]:
    """Pixel counts ``tp``, ``fp``, ``fn``, ``tn`` of a predicted mask against the truth."""
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {pred.shape} and truth {truth.shape} differ in shape")
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred & ~truth))
    fn = int(np.count_nonzero(~pred & truth))
    return {"tp": tp, "fp": fp, "fn": fn, "tn": int(pred.size) - tp - fp - fn}


def iou_scores(counts: Mapping[str, int]) -> dict[str, float]:
    """Face IoU, background IoU and their mean (mIoU) from pixel counts."""
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    face = _iou(tp, tp + fp + fn)
    background = _iou(tn, tn + fp + fn)
    return {"face_iou": face, "background_iou": background, "miou": (face + background) / 2}


def boundary(mask: np.ndarray) -> np.ndarray:
    """Inner boundary: mask pixels with a 4-neighbour outside the mask (the image border is
    not a boundary: a face cut by the frame has no edge there)."""
    m = np.asarray(mask, bool)
    p = np.pad(m, 1, mode="edge")
    inside = p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return m & ~inside


def dilate_disk(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by the Euclidean disk ``dx^2 + dy^2 <= radius^2`` (exact)."""
    m = np.asarray(mask, bool)
    if radius <= 0:
        return m.copy()
    h, w = m.shape
    sums = np.zeros((h, w + 1), np.int32)
    np.cumsum(m, axis=1, out=sums[:, 1:])
    cols = np.arange(w)
    rows: dict[int, np.ndarray] = {}
    out = np.zeros_like(m)
    for dy in range(-radius, radius + 1):
        k = math.isqrt(radius * radius - dy * dy)
        if k not in rows:  # each row dilated horizontally by k: any pixel in [x - k, x + k]
            lo, hi = np.clip(cols - k, 0, w), np.clip(cols + k + 1, 0, w)
            rows[k] = (sums[:, hi] - sums[:, lo]) > 0
        row = rows[k]
        if dy >= 0:
            out[: h - dy] |= row[dy:]
        else:
            out[-dy:] |= row[: h + dy]
    return out


def boundary_radius(shape: tuple[int, int]) -> int:
    """Match distance in pixels for an image of ``shape``: ceil(0.008 x diagonal), at least 1."""
    return max(1, math.ceil(BOUNDARY_TOLERANCE * math.hypot(*shape)))


def boundary_f(pred: np.ndarray, truth: np.ndarray, radius: int | None = None) -> float:
    """Boundary F-score of ``pred`` against ``truth`` (1 when neither has a boundary)."""
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    radius = boundary_radius(pred.shape) if radius is None else radius
    bp, bt = boundary(pred), boundary(truth)
    n_pred, n_truth = int(bp.sum()), int(bt.sum())
    if n_pred == 0 and n_truth == 0:
        return 1.0
    if n_pred == 0 or n_truth == 0:
        return 0.0
    precision = np.count_nonzero(bp & dilate_disk(bt, radius)) / n_pred
    recall = np.count_nonzero(bt & dilate_disk(bp, radius)) / n_truth
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def image_scores(pred: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """Every per-image figure: pixel counts, face/background IoU, mIoU, boundary F."""
    counts = confusion(pred, truth)
    return {**counts, **iou_scores(counts), "boundary_f": boundary_f(pred, truth)}


def summarize(per_image: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Means of the per-image scores, and pooled IoUs from the summed pixel counts."""
    rows = list(per_image)
    if not rows:
        raise ValueError("no images to summarize")
    out: dict[str, Any] = {"count": len(rows)}
    for key in ("face_iou", "background_iou", "miou", "boundary_f"):
        out[key] = float(np.mean([r[key] for r in rows]))
    pooled = iou_scores({k: sum(int(r[k]) for r in rows) for k in ("tp", "fp", "fn", "tn")})
    out["face_iou_pooled"] = pooled["face_iou"]
    out["miou_pooled"] = pooled["miou"]
    return out
