"""Thumbnails of the few samples the report shows: the image, and its labels overlaid.

Only the chosen samples are decoded (through the project's one image reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.export.folder import ExportFolder, Refused
from studio.core.export.sheet import labels_view, sample_image
from studio.core.io.imageio import shrink_to_fit
from studio.core.io.writers import encode_image
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
    out: ExportFolder, picked: dict[str, list[dict[str, Any]]], folder: str = "report/thumbs"
) -> dict[str, list[Thumb]]:
    """Write ``<index>.jpg`` and ``<index>.labels.jpg`` under ``folder`` of the export for
    each picked row; thumbnails of earlier reports that are not shown any more are removed
    (files of that folder only: a link there is removed, never what it points to)."""
    made: dict[str, list[Thumb]] = {}
    keep: set[str] = set()
    for name, rows in picked.items():
        thumbs = []
        for row in rows:
            base = f"{int(row['index']):07d}"
            try:
                image = sample_image(out, row, "image")
                labels = labels_view(out, row, image)
                paths = {}
                for kind, picture, suffix in (("image", image, ""), ("labels", labels, ".labels")):
                    rel = f"{folder}/{base}{suffix}.jpg"
                    small = shrink_to_fit(picture, THUMB_SIDE)
                    out.write(rel, encode_image(small, "jpg", THUMB_QUALITY))
                    keep.add(rel.rsplit("/", 1)[1])
                    paths[kind] = rel
                thumbs.append(Thumb(row, paths["image"], paths["labels"]))
            except Refused:
                raise  # a linked sample folder: the report stops, naming it
            except (StudioError, KeyError) as err:
                reason = err.line() if isinstance(err, StudioError) else f"no {err} file"
                thumbs.append(Thumb(row, error=reason))
        made[name] = thumbs
    for stale in out.list(folder):
        if stale.name.endswith(".jpg") and stale.kind != "folder" and stale.name not in keep:
            out.remove(f"{folder}/{stale.name}")
    return made
