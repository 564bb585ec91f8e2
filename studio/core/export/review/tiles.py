"""The thumbnails of an export's samples, as a source for the studio's thumbnailer.

An item id is a row's position in the :class:`~.index.ReviewIndex`; its thumbnail is the
sample's image with one view (:mod:`.overlays`) drawn over it, cached on disk under the
identity of the files it is made of and the view (:mod:`studio.core.io.thumbnails`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.export.folder import SAMPLE_FOLDERS, SHARDS, sample_path
from studio.core.export.review.index import ReviewIndex
from studio.core.export.review.overlays import read_sample, render_view
from studio.core.export.rows import stored_files
from studio.core.io.remote import in_store
from studio.core.model.errors import InputError

ROWS_KEPT = 64  #: rows read back and kept (a thumbnail asks for its row twice)
#: the files each view is drawn from
VIEW_FILES = {
    "image": ("image",),
    "face": ("image", "mask"),
    "occlusion": ("image", "mask", "occlusion_mask", "labels"),
    "classes": ("image", "labels"),
    "shadow": ("image", "occlusion_mask", "labels"),
}


class ExportTiles:
    """Thumbnails of the rows of ``index`` showing ``view``."""

    def __init__(self, index: ReviewIndex, view: str = "image") -> None:
        self.index, self.view = index, view
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def row(self, position: int) -> dict[str, Any]:
        with self._lock:
            found = self._rows.get(position)
        if found is None:
            found = self.index.row(position)
            with self._lock:
                self._rows[position] = found
                while len(self._rows) > ROWS_KEPT:
                    self._rows.popitem(last=False)
        return found

    def thumbnail_files(self, item_id: str) -> list[Path | str] | None:
        """What the thumbnail is made of: the sample's files of the view, and the view;
        None for a failed sample (nothing to cache)."""
        row = self.row(int(item_id))
        files = row.get("files") or {}
        if "image" not in files:
            return None
        keys = [key for key in VIEW_FILES.get(self.view, ("image",)) if key in files]
        stored = stored_files(row)  # the files (or the shard) its bytes lie in
        if not stored or any(sample_path(f, (*SAMPLE_FOLDERS, SHARDS)) is not None for f in stored):
            return None  # a path outside the export's folders: never looked at
        made_of: list[Path | str] = [*(self.index.out / f for f in stored)]
        if in_store(self.index.out):  # a store: URLs are not statted, so the
            made_of.append(json.dumps(row.get("checks"), sort_keys=True))  # recorded bytes
        return [*made_of, *(str(files[k]) for k in keys), self.view]

    def make_thumbnail(self, item_id: str, side: int) -> np.ndarray:
        """The sample's image at most ``side`` px, with the view drawn over it.

        Raises
        ------
        InputError
            for a failed sample (its reason) or a file that cannot be read.
        """
        row = self.row(int(item_id))
        if "image" not in (row.get("files") or {}):
            raise InputError(f"not made: {row.get('reason', 'failed')}")
        arrays = read_sample(self.index.folder, row, side)
        return render_view(arrays, self.view)
