"""An export as a face source: the samples its manifest records, read through its
:class:`~studio.core.export.folder.ExportFolder` (a local folder or a store, files or
shards: confined, bounded, never through a link). Training, evaluation and
``OcclusionDataset`` read exports through it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.records import JOB, MANIFEST, read_rows
from studio.core.export.review.decisions import read_decisions
from studio.core.export.rows import file_name, row_problem
from studio.core.export.sheet import sample_image
from studio.core.model.errors import InputError
from studio.core.model.inputs import Face


def is_export(path: str | Path) -> bool:
    """Whether ``path`` (a folder or a URL) is an export: job.json and manifest.jsonl."""
    try:
        with ExportFolder(path) as folder:
            return all(
                (e := folder.stat(name)) is not None and e.kind == "file"
                for name in (JOB, MANIFEST)
            )
    except InputError:
        return False


class ExportSamples:
    """The samples an export's manifest records, as a face source: ids are the image files'
    names. Damaged lines and rows that name no image and mask, or files outside the sample
    folders, are left out; ``warn`` (when given) is told so in one line. The samples the
    export's review rejected (review.jsonl) are left out too unless ``include_rejected``
    (``rejected``: how many)."""

    layout = "export"
    has_labels = False

    def __init__(
        self,
        root: str | Path,
        warn: Callable[[str], None] | None = None,
        include_rejected: bool = False,
    ) -> None:
        self.folder = ExportFolder(root)
        self.root = self.folder.path
        self._rows: dict[str, dict[str, Any]] = {}
        gone = set() if include_rejected else read_decisions(self.folder).rejected
        self.rejected = 0
        left_out: list[tuple[int, str]] = []
        for n, _, _, row in read_rows(self.folder, MANIFEST, bad=left_out):
            if row.get("index") in gone:
                self.rejected += 1
                continue
            problem = row_problem(row)
            if problem is None and not {"image", "mask"} <= set(row["files"]):
                problem = "names no image and mask"
            if problem is not None:
                left_out.append((n, f"line {n} {problem}"))
                continue
            self._rows[row["files"]["image"].split("/", 1)[1]] = row
        self.left_out = sorted(left_out)
        if left_out and warn is not None:
            warn(
                f"{self.root / MANIFEST}: {len(left_out)} rows left out (first: "
                f"{self.left_out[0][1]}; studio export --resume remakes them)"
            )

    def ids(self) -> list[str]:
        return sorted(self._rows)

    def path_of(self, item_id: str) -> str:
        return file_name(self.folder, self._rows[item_id], "image")

    def load(self, item_id: str) -> Face:
        row = self._rows[item_id]
        image = sample_image(self.folder, row, "image")
        mask = sample_image(self.folder, row, "mask", image.shape[:2])
        if not mask.any():
            raise InputError("face mask is empty (all zero)", file_name(self.folder, row, "mask"))
        return Face(image, mask, id=item_id)

    def occlusion(self, item_id: str, shape: tuple[int, int]) -> np.ndarray:
        """The occluder mask of a sample (all 0 when the export wrote none)."""
        row = self._rows[item_id]
        if "occlusion_mask" not in row["files"]:
            return np.zeros(shape, np.uint8)
        return sample_image(self.folder, row, "occlusion_mask", shape).astype(np.uint8)
