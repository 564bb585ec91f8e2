"""Occluders cut from COCO instance annotations (polygons and RLE), without writing copies.

Each non-crowd instance whose area is at least ``min_area`` (and whose category is in
``categories``, when given) is one occluder, cut from its image and cropped to its bbox when
loaded. Ids are ``<image file name>#<annotation id>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from studio.core.io import imageio
from studio.core.model.errors import InputError
from studio.core.model.inputs import Occluder
from studio.core.sources.base import Problem, SourceReport, check_meta, check_report


def rle_decode(counts: list[int] | str, height: int, width: int) -> np.ndarray:
    """Decode a COCO run-length encoding (uncompressed list or compressed string) to bool HxW.

    Runs alternate background/foreground, starting with background, in column-major order.
    """
    runs = _rle_from_string(counts) if isinstance(counts, str) else [int(c) for c in counts]
    total = height * width
    if any(r < 0 for r in runs) or sum(runs) != total:
        raise ValueError(f"RLE counts sum to {sum(runs)}, expected {total}")
    flat = np.zeros(total, bool)
    pos = 0
    for i, run in enumerate(runs):
        if i % 2:
            flat[pos : pos + run] = True
        pos += run
    return flat.reshape(width, height).T


def _rle_from_string(text: str) -> list[int]:
    """The compressed RLE string of the COCO API: 5-bit groups, a continuation bit, a sign bit,
    and counts after the second stored as differences from the count two before."""
    runs: list[int] = []
    pos = 0
    while pos < len(text):
        value, shift, more = 0, 0, True
        while more:
            c = ord(text[pos]) - 48
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            pos += 1
            shift += 1
            if not more and (c & 0x10):
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


POLYGON_SUPERSAMPLING = 4


def _polygons_mask(
    polygons: list[list[float]], origin: tuple[int, int], size: tuple[int, int]
) -> np.ndarray:
    """Pixels whose area is at least half inside the polygons (coordinates at pixel edges,
    as in COCO), rasterised at 4x and reduced, so a 10..40 box covers pixels 10..39."""
    h, w = size
    k = POLYGON_SUPERSAMPLING
    fine = np.zeros((h * k, w * k), np.uint8)
    shifted = []
    for poly in polygons:
        pts = (np.asarray(poly, np.float64).reshape(-1, 2) - origin) * k
        if pts.shape[0] >= 3:
            shifted.append(np.round(pts).astype(np.int32))
    if not shifted:
        raise ValueError("polygon with fewer than 3 points")
    cv2.fillPoly(fine, shifted, 1)
    coverage = fine.reshape(h, k, w, k).mean(axis=(1, 3))
    return coverage >= 0.5


class CocoOccluderSource:
    """Instances of a COCO ``instances_*.json`` whose images are in ``images``."""

    layout = "coco"

    def __init__(
        self,
        annotations: str | Path,
        images: str | Path,
        min_area: float = 1024.0,
        categories: Iterable[str | int] | None = None,
        kind: str = "object",
        up: str = "up",
    ) -> None:
        check_meta(kind, up)
        self.annotations, self.root = Path(annotations), Path(images)
        self.min_area = float(min_area)
        self.categories = None if categories is None else {str(c) for c in categories}
        self.kind, self.up = kind, up
        self._items: dict[str, dict[str, Any]] | None = None
        self._images: dict[int, dict[str, Any]] = {}
        self._problems: list[Problem] = []
        self._details: dict[str, Any] = {}

    def _load_json(self) -> dict[str, Any]:
        try:
            with self.annotations.open("rb") as fh:
                data = json.load(fh)
        except FileNotFoundError as err:
            raise InputError("COCO annotation file not found", self.annotations) from err
        except (OSError, ValueError) as err:
            raise InputError(f"not a valid COCO JSON ({err})", self.annotations) from err
        if not isinstance(data, dict) or not {"images", "annotations"} <= data.keys():
            raise InputError(
                "not a COCO instances file (needs images and annotations)", self.annotations
            )
        return data

    def _index(self) -> dict[str, dict[str, Any]]:
        if self._items is None:
            data = self._load_json()
            names = {c.get("id"): str(c.get("name")) for c in data.get("categories", [])}
            wanted = None
            if self.categories is not None:
                wanted = {
                    cid
                    for cid, name in names.items()
                    if name in self.categories or str(cid) in self.categories
                }
                unknown = self.categories - set(names.values()) - {str(c) for c in names}
                if unknown:
                    raise InputError(
                        f"unknown COCO categories: {', '.join(sorted(unknown))}", self.annotations
                    )
            self._images = {img["id"]: img for img in data["images"] if "id" in img}
            exists: dict[int, bool] = {}
            items: dict[str, dict[str, Any]] = {}
            skipped = {"crowd": 0, "small": 0, "category": 0}
            for ann in data["annotations"]:
                if ann.get("iscrowd"):
                    skipped["crowd"] += 1
                    continue
                if wanted is not None and ann.get("category_id") not in wanted:
                    skipped["category"] += 1
                    continue
                if float(ann.get("area", 0)) < self.min_area:
                    skipped["small"] += 1
                    continue
                img = self._images.get(ann.get("image_id"))
                if img is None:
                    self._problems.append(
                        Problem(
                            f"{self.annotations}#{ann.get('id')}",
                            f"unknown image id {ann.get('image_id')}",
                        )
                    )
                    continue
                if img["id"] not in exists:
                    exists[img["id"]] = (self.root / img["file_name"]).is_file()
                if not exists[img["id"]]:
                    self._problems.append(
                        Problem(
                            str(self.root / img["file_name"]),
                            "image of a COCO annotation not found",
                        )
                    )
                    continue
                ann = dict(ann, category=names.get(ann.get("category_id"), "?"))
                items[f"{img['file_name']}#{ann.get('id')}"] = ann
            self._items = items
            self._details = {
                "skipped": skipped,
                "min_area": self.min_area,
                "kind": self.kind,
                "up": self.up,
                "categories": sorted({a["category"] for a in items.values()}),
            }
        return self._items

    def ids(self) -> list[str]:
        return sorted(self._index())

    def path_of(self, item_id: str) -> str:
        return f"{self.annotations}#{item_id}"

    def load(self, item_id: str) -> Occluder:
        ann = self._index().get(item_id)
        if ann is None:
            raise InputError("no such COCO instance", f"{self.annotations}#{item_id}")
        img = self._images[ann["image_id"]]
        path = self.root / img["file_name"]
        image = imageio.read_image(path)
        h, w = image.shape[:2]
        x, y, bw, bh = (float(v) for v in ann.get("bbox", (0, 0, w, h)))
        x0, y0 = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
        x1, y1 = min(w, int(np.ceil(x + bw)) + 1), min(h, int(np.ceil(y + bh)) + 1)
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise InputError("instance bbox is outside its image", f"{path}#{ann.get('id')}")
        seg = ann.get("segmentation")
        try:
            if isinstance(seg, dict):
                rh, rw = seg.get("size", (h, w))
                if (rh, rw) != (h, w):
                    raise ValueError(f"RLE size {rw}x{rh} does not match image {w}x{h}")
                mask = rle_decode(seg["counts"], rh, rw)[y0:y1, x0:x1]
            elif isinstance(seg, list):
                mask = _polygons_mask(seg, (x0, y0), (y1 - y0, x1 - x0))
            else:
                raise ValueError("no segmentation")
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"bad segmentation ({err})", f"{path}#{ann.get('id')}") from err
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        try:
            return Occluder(
                crop, mask.astype(np.uint8) * 255, id=item_id, kind=self.kind, up=self.up
            )
        except InputError as err:
            raise InputError(err.reason, f"{path}#{ann.get('id')}") from err

    def report(self, check: bool = False) -> SourceReport:
        ids = self.ids()
        return check_report(
            self.layout,
            self.annotations,
            ids,
            self._problems,
            self.load if check else None,
            self._details,
        )
