"""Contact sheet of an export: a grid of samples with their masks overlaid."""

from __future__ import annotations

import heapq
import itertools
import math
from pathlib import Path

import cv2
import numpy as np

from studio.core.export.records import iter_rows
from studio.core.io.contact_sheet import contact_sheet as grid
from studio.core.io.contact_sheet import fit_tile, labels_view
from studio.core.io.imageio import read_image
from studio.core.io.writers import write_image
from studio.core.model.errors import InputError


def _thumb(out: Path, row: dict, side: int) -> np.ndarray:
    image = read_image(out / row["files"]["image"])
    h, w = image.shape[:2]
    tile = fit_tile(labels_view(out, row, image, line=round(max(h, w) / side)), side)
    cv2.putText(tile, row["stem"][:7], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
    return tile


def contact_sheet(
    out: str | Path, count: int = 16, side: int = 256, gap: int = 0, by_index: bool = True
) -> np.ndarray:
    """The first ``count`` samples (by index) of an export, as one RGB image.

    Occluder labels are tinted red, the visible face mask is outlined in green.
    """
    out = Path(out)
    manifest = out / "manifest.jsonl"
    if not manifest.is_file():
        raise InputError("no manifest.jsonl: not an export folder", out)
    rows_in_file = (row for _, row in iter_rows(manifest))
    if by_index:  # reads the whole manifest
        rows = heapq.nsmallest(count, rows_in_file, key=lambda r: r.get("index", 0))
    else:  # the first rows written: reads no further than it shows
        rows = list(itertools.islice(rows_in_file, count))
    if not rows:
        raise InputError("the export has no samples yet", out)
    tiles = [_thumb(out, row, side) for row in rows]
    return grid(tiles, columns=math.ceil(math.sqrt(len(rows))), gap=gap)


def write_contact_sheet(
    out: str | Path, path: str | Path | None = None, count: int = 16, side: int = 256
) -> Path:
    """Write the contact sheet PNG (default DIR/sheet.png) and return its path."""
    target = Path(path) if path else Path(out) / "sheet.png"
    write_image(target, contact_sheet(out, count, side))
    return target
