"""``studio evaluate``: predict on a test set and score the predictions.

Each test image is resized to the model's training side, predicted, and the class scores are
resized back (bilinear) to the image's own size before the arg-max, so every figure is
measured at the test image's resolution against its own mask. The report holds the mean and
pooled scores (:mod:`.metrics`), one row per image, the unusable files, and a gallery of the
12 worst images: image, truth, prediction, errors (red: predicted but not there, blue: missed).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from studio.core.io.contact_sheet import contact_sheet, fit_tile, overlay
from studio.core.io.remote import location
from studio.core.io.writers import encode_image, write_bytes_atomic, write_json
from studio.core.jobs.events import Event
from studio.core.jobs.progress import Progress
from studio.core.model.errors import InputError, StudioError
from studio.integrations.train.data import (
    Item,
    face_prediction,
    open_test_set,
    resize_item,
    scoring_target,
)
from studio.integrations.train.metrics import image_scores, summarize
from studio.integrations.train.weights import LoadedModel, load_model

REPORT_FILE = "report.json"
GALLERY_FILE = "gallery.png"
GALLERY_COUNT = 12
TILE = 160



@torch.no_grad()
def predict(model: LoadedModel, images: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Class-id maps (HxW uint8, each at its image's own size) for RGB uint8 images."""
    if not images:
        return []
    side = model.size
    batch = []
    for image in images:
        h, w = image.shape[:2]
        if (h, w) != (side, side):
            interp = cv2.INTER_AREA if side < max(h, w) else cv2.INTER_LINEAR
            image = cv2.resize(image, (side, side), interpolation=interp)
        batch.append(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
    x = torch.stack(batch).to(model.device).float().div_(255)
    logits = model.net(x)
    out = []
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        scores = logits[i : i + 1]
        if (h, w) != (side, side):
            scores = F.interpolate(scores, size=(h, w), mode="bilinear", align_corners=False)
        out.append(scores[0].argmax(0).to(torch.uint8).cpu().numpy())
    return out


def score_items(model: LoadedModel, items: Sequence[Item], batch: int = 8) -> dict[str, Any]:
    """Mean and pooled scores of ``model`` on loaded items (the training loop's validation)."""
    rows = []
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        for item, classes in zip(chunk, predict(model, [i.image for i in chunk]), strict=True):
            rows.append(image_scores(face_prediction(classes, model.target), item.target > 0))
    return summarize(rows)


def load_val_items(path: str | Path, model_target: Any, size: int, limit: int) -> list[Item]:
    """The first ``limit`` usable items of a validation set, resized to ``size``."""
    source = open_test_set(path, model_target)
    items = []
    for item_id in source.ids():
        if len(items) >= limit:
            break
        try:
            items.append(resize_item(source.load(item_id), size))
        except StudioError:
            continue
    if not items:
        raise InputError("no usable validation images", path)
    return items


def _tiles(item: Item, pred: np.ndarray, positive: str, scores: dict[str, Any]) -> np.ndarray:
    """One gallery row: image (with its id and IoU), truth, prediction, errors."""
    truth = item.target > 0
    none = np.zeros_like(truth)

    def tint(mask: np.ndarray) -> np.ndarray:
        return (
            overlay(item.image, mask, none)
            if positive == "face"
            else overlay(item.image, none, mask)
        )

    errors = (item.image.astype(np.float32) * 0.35).astype(np.uint8)
    errors[pred & truth] = (60, 140, 70)
    errors[pred & ~truth] = (235, 50, 50)
    errors[~pred & truth] = (60, 110, 255)
    tiles = [fit_tile(a, TILE) for a in (item.image, tint(truth), tint(pred), errors)]
    captions = (f"{item.id[-22:]}", "truth", f"pred IoU {scores['face_iou']:.3f}", "errors")
    for tile, text in zip(tiles, captions, strict=True):
        cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 3)
        cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1)
    return np.concatenate(tiles, axis=1)


@dataclass
class Evaluation:
    """What :func:`evaluate` made: the report (as written), where, and its speed."""

    report: dict[str, Any]
    out: Path
    seconds: float

    @property
    def rate(self) -> float:
        return self.report["count"] / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        r = self.report
        failed = f" ({r['failed']} unusable, see report)" if r["failed"] else ""
        return (
            f"{r['positive']} IoU {r['face_iou']:.4f}, mIoU {r['miou']:.4f}, boundary F "
            f"{r['boundary_f']:.4f} on {r['count']} images{failed} -> {self.out / REPORT_FILE} "
            f"({self.rate:.1f} img/s)"
        )


def evaluate(
    run: str | Path,
    test: str | Path,
    out: str | Path | None = None,
    *,
    device: str = "auto",
    limit: int | None = None,
    batch: int = 8,
    include_rejected: bool = False,
    on_event: Callable[[Event], None] | None = None,
    cancel: Any = None,
) -> Evaluation:
    """Score the model of ``run`` on the test set ``test``; write report.json and gallery.png
    into ``out`` (default ``RUN/evaluate``)."""
    emit = on_event or (lambda _e: None)
    model = load_model(run, device)
    out = Path(out) if out is not None else model.path.parent / "evaluate"
    target = scoring_target(model.target)
    source = open_test_set(test, model.target, include_rejected)
    ids = source.ids()[:limit] if limit else source.ids()
    if not ids:
        raise InputError(f"no usable test images found ({source.layout})", test)
    emit(Event.make("start", total=len(ids), out=str(out), unit="img"))
    t0 = time.perf_counter()
    progress = Progress(len(ids))
    per_image: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    worst: list[tuple[float, str, np.ndarray]] = []  # max-heap by IoU (negated), kept at 12
    for start in range(0, len(ids), batch):
        if cancel is not None and cancel.is_set():
            raise KeyboardInterrupt
        items = []
        for item_id in ids[start : start + batch]:
            try:
                items.append(source.load(item_id))
            except StudioError as err:
                failures.append({"id": item_id, "path": err.path or item_id, "reason": err.reason})
        for item, classes in zip(items, predict(model, [i.image for i in items]), strict=True):
            pred = face_prediction(classes, model.target)
            scores = image_scores(pred, item.target > 0)
            per_image.append({"id": item.id, **scores})
            key = (-scores["face_iou"], item.id)
            if len(worst) < GALLERY_COUNT or key > (worst[0][0], worst[0][1]):
                row = _tiles(item, pred, target.positive, scores)
                entry = (key[0], key[1], row)
                if len(worst) < GALLERY_COUNT:
                    heapq.heappush(worst, entry)
                else:
                    heapq.heapreplace(worst, entry)
        event = progress.update(len(per_image) + len(failures), failed=len(failures))
        if event is not None:
            emit(event)
    seconds = time.perf_counter() - t0
    if not per_image:
        raise InputError(f"none of the {len(ids)} test images could be used", test)
    report = {
        "run": str(model.path.parent),
        "model": str(model.path),
        "test": str(location(test)),
        "layout": source.layout,
        "target": model.target.name,
        "positive": target.positive,
        **summarize(per_image),
        "failed": len(failures),
        "rejected_left_out": source.left_out,
        "per_image": per_image,
        "failures": failures,
    }
    write_json(out / REPORT_FILE, report)
    rows = [row for _neg, _id, row in sorted(worst, key=lambda e: (-e[0], e[1]))]
    write_bytes_atomic(out / GALLERY_FILE, encode_image(contact_sheet(rows, columns=1), "png"))
    result = Evaluation(report, out, seconds)
    emit(
        Event.make(
            "done",
            out=str(out),
            report=str(out / REPORT_FILE),
            gallery=str(out / GALLERY_FILE),
            **{k: report[k] for k in ("count", "failed", "face_iou", "miou", "boundary_f")},
        )
    )
    return result
