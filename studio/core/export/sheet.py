"""Contact sheet of an export: a grid of samples with their masks overlaid."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.records import MANIFEST, read_rows
from studio.core.export.rows import file_name, read_sample_file, row_problem
from studio.core.io.contact_sheet import contact_sheet as grid
from studio.core.io.contact_sheet import fit_tile, overlay
from studio.core.io.imageio import decode_image, decode_mask
from studio.core.io.remote import StoreURL
from studio.core.io.writers import encode_image, write_image
from studio.core.model.errors import InputError


def sample_image(
    folder: ExportFolder, row: dict[str, Any], key: str, shape: tuple[int, int] | None = None
) -> np.ndarray:
    """The file ``key`` of a manifest row, read through the export folder (inside a sample
    folder, a regular file, no more than its recorded size) and decoded: an RGB image, or
    with ``shape`` a mask of that size.

    Raises
    ------
    InputError
        naming the file (KeyError when the row names no such file).
    """
    row["files"][key]  # KeyError when the row names no such file
    name = file_name(folder, row, key)
    data = read_sample_file(folder, row, key)
    return decode_image(data, name) if shape is None else decode_mask(data, name, shape=shape)


def labels_view(
    folder: ExportFolder, row: dict[str, Any], image: np.ndarray | None = None, line: int = 1
) -> np.ndarray:
    """An exported sample's labels over its image (:func:`~studio.core.io.contact_sheet.overlay`)
    from its manifest ``row``; ``image``: the sample's image when it is already read."""
    if image is None:
        image = sample_image(folder, row, "image")
    shape = image.shape[:2]
    face = sample_image(folder, row, "mask", shape)
    occluded = None
    if "occlusion_mask" in row["files"]:
        occluded = sample_image(folder, row, "occlusion_mask", shape)
    return overlay(image, face, occluded, line=line)


def _thumb(folder: ExportFolder, row: dict[str, Any], side: int) -> np.ndarray:
    if "image" not in row["files"] or "mask" not in row["files"]:
        raise InputError(f"sample {row['index']}: the row names no image or mask", folder.path)
    image = sample_image(folder, row, "image")
    h, w = image.shape[:2]
    tile = fit_tile(labels_view(folder, row, image, line=round(max(h, w) / side)), side)
    cv2.putText(tile, row["stem"][:7], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
    return tile


def shown_rows(folder: ExportFolder) -> Iterator[dict[str, Any]]:
    """The manifest's rows, each checked before it is shown (one line naming the first odd
    row: an index out of range, no stem, files outside the sample folders)."""
    for n, _, _, row in read_rows(folder, MANIFEST):
        problem = row_problem(row)
        if problem is not None:
            raise InputError(f"line {n} {problem}", folder.path / MANIFEST)
        yield row


def contact_sheet(
    out: str | Path, count: int = 16, side: int = 256, gap: int = 0, by_index: bool = True
) -> np.ndarray:
    """The first ``count`` samples (by index) of an export, as one RGB image.

    Occluder labels are tinted red, the visible face mask is outlined in green.
    """
    with ExportFolder(out) as folder:
        if not folder.exists(MANIFEST):
            raise InputError(f"no {MANIFEST}: not an export folder", folder.path)
        if by_index:  # reads the whole manifest
            rows = heapq.nsmallest(count, shown_rows(folder), key=lambda r: r["index"])
        else:  # the first rows written: reads no further than it shows
            rows = list(itertools.islice(shown_rows(folder), count))
        if not rows:
            raise InputError("the export has no samples yet", folder.path)
        tiles = [_thumb(folder, row, side) for row in rows]
    return grid(tiles, columns=math.ceil(math.sqrt(len(rows))), gap=gap)


def write_contact_sheet(
    out: str | Path, path: str | Path | None = None, count: int = 16, side: int = 256
) -> Path | StoreURL:
    """Write the contact sheet PNG (default DIR/sheet.png) and return its path."""
    sheet = contact_sheet(out, count, side)
    if path is not None:
        target = Path(path)
        write_image(target, sheet)
        return target
    with ExportFolder(out) as folder:
        folder.write("sheet.png", encode_image(sheet, "png"))
        return folder.path / "sheet.png"
