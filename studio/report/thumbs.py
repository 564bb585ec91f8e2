"""Thumbnails of the few samples the report shows: the image, and its labels overlaid.

Only the chosen samples are decoded (through the project's one image reader).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.io.contact_sheet import labels_view
from studio.core.io.imageio import read_image, shrink_to_fit
from studio.core.io.writers import write_image
from studio.core.model.errors import StudioError

THUMB_SIDE = 184  #: longest side of a thumbnail, pixels
THUMB_QUALITY = 85


@dataclass(frozen=True)
class Thumb:
    """One shown sample: its manifest row and its thumbnails (paths relative to the export
    folder), or why they could not be made."""

    row: dict[str, Any]
    image: str | None = None
    labels: str | None = None
    error: str | None = None


def make_thumbs(
    out: Path, picked: dict[str, list[dict[str, Any]]], folder: str = "report/thumbs"
) -> dict[str, list[Thumb]]:
    """Write ``<index>.jpg`` and ``<index>.labels.jpg`` under ``out/folder`` for each picked
    row; thumbnails of earlier reports that are not shown any more are removed."""
    target = out / folder
    made: dict[str, list[Thumb]] = {}
    keep: set[str] = set()
    for name, rows in picked.items():
        thumbs = []
        for row in rows:
            base = f"{int(row['index']):07d}"
            try:
                image = read_image(out / row["files"]["image"])
                labels = labels_view(out, row, image)
                paths = {}
                for kind, picture, suffix in (("image", image, ""), ("labels", labels, ".labels")):
                    rel = f"{folder}/{base}{suffix}.jpg"
                    write_image(out / rel, shrink_to_fit(picture, THUMB_SIDE), THUMB_QUALITY)
                    keep.add(Path(rel).name)
                    paths[kind] = rel
                thumbs.append(Thumb(row, paths["image"], paths["labels"]))
            except (StudioError, KeyError) as err:
                reason = err.line() if isinstance(err, StudioError) else f"no {err} file"
                thumbs.append(Thumb(row, error=reason))
        made[name] = thumbs
    if target.is_dir():
        for stale in target.glob("*.jpg"):
            if stale.name not in keep:
                with contextlib.suppress(OSError):
                    stale.unlink()
    return made
