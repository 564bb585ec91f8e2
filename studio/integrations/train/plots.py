"""Figures of train and compare (matplotlib, the ``report`` extra; imported only when used).

Drawn with matplotlib's object API on an Agg canvas: no pyplot, no global backend switch, so
it is safe inside any process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from studio.core.io.writers import write_bytes_atomic

VAL_KEYS = (("val_miou", "mIoU"), ("val_face_iou", "face IoU"), ("val_boundary_f", "boundary F"))
BAR_KEYS = (("face_iou", "face IoU"), ("miou", "mIoU"), ("boundary_f", "boundary F"))


def _save(fig: Figure, path: Path) -> None:
    import io

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    write_bytes_atomic(path, buf.getvalue())


def training_curve(history: Sequence[dict[str, Any]], path: Path) -> None:
    """Loss per epoch and, when the run had a validation set, its scores."""
    has_val = any("val_miou" in row for row in history)
    fig = Figure(figsize=(9 if has_val else 5, 3.6), layout="constrained")
    axes = fig.subplots(1, 2 if has_val else 1, squeeze=False)[0]
    steps = [row["steps"] for row in history]
    axes[0].plot(steps, [row["loss"] for row in history], marker="o", ms=3)
    axes[0].set(xlabel="steps", ylabel="training loss (cross-entropy + Dice)", yscale="log")
    axes[0].grid(alpha=0.3)
    if has_val:
        for key, label in VAL_KEYS:
            axes[1].plot(steps, [row.get(key) for row in history], marker="o", ms=3, label=label)
        axes[1].set(xlabel="steps", ylabel="validation (training size)", ylim=(0, 1))
        axes[1].grid(alpha=0.3)
        axes[1].legend(loc="lower right")
    _save(fig, path)


def compare_figure(models: Sequence[dict[str, Any]], path: Path) -> None:
    """Test mIoU and training loss against steps for every model, and bars of the final
    scores (``models``: compare.json's rows, with ``history`` and the scores)."""
    fig = Figure(figsize=(13, 3.9), layout="constrained")
    curve, loss, bars = fig.subplots(1, 3)
    for m in models:
        history = m.get("history") or []
        steps = [row["steps"] for row in history]
        if any("val_miou" in row for row in history):
            scores = [row.get("val_miou") for row in history]
            curve.plot(steps, scores, marker="o", ms=3, label=m["name"])
        loss.plot(steps, [row["loss"] for row in history], marker="o", ms=3, label=m["name"])
    curve.set(xlabel="steps", ylabel="test mIoU during training (training size)")
    curve.grid(alpha=0.3)
    curve.legend(loc="lower right", fontsize=8)
    loss.set(xlabel="steps", ylabel="training loss", yscale="log")
    loss.grid(alpha=0.3)
    scored = [m for m in models if m.get("miou") is not None]
    width = 0.8 / max(1, len(scored))
    for i, m in enumerate(scored):
        xs = [k + (i - (len(scored) - 1) / 2) * width for k in range(len(BAR_KEYS))]
        values = [m[key] for key, _ in BAR_KEYS]
        bars.bar(xs, values, width, label=m["name"])
        for x, v in zip(xs, values, strict=True):
            bars.text(x, v + 0.01, f"{v:.3f}", ha="center", fontsize=7, rotation=90)
    bars.set_xticks(range(len(BAR_KEYS)), [label for _, label in BAR_KEYS])
    bars.set(ylabel="test score (full resolution)", ylim=(0, 1.3))
    bars.legend(loc="upper center", fontsize=8, ncol=min(3, max(1, len(scored))))
    _save(fig, path)
