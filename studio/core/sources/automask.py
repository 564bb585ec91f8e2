"""Faces from any folder of photos, with automatic face masks.

Masks are made by :mod:`studio.core.io.facemask` and cached in the user cache folder
(``platformdirs.user_cache_dir("occlusion-studio")/facemasks``, or ``STUDIO_CACHE_DIR``),
keyed by a hash of the photo's bytes and the mask method's version, so nothing is written
next to the user's photos. ``save_masks`` also writes each mask as ``<stem>.png`` (0/255) into a
folder of the user's choice (``<stem>.face<k>.png`` for the k-th face when ``every_face``).

Several faces in one photo: the largest is used; with ``every_face`` each face is an item with
id ``<path>#<k>`` (k = 0 is the largest). Knowing how many faces a photo has needs its mask,
so ``ids()`` then computes (and caches) the masks of every photo.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import numpy as np

from studio.core.io import imageio
from studio.core.io.paths import cache_root, file_key
from studio.core.io.writers import encode_image, write_bytes_atomic
from studio.core.model.errors import InputError, StudioError
from studio.core.model.inputs import Face
from studio.core.sources.base import (
    Problem,
    SourceReport,
    check_report,
    full_stem,
    scan_images,
)

#: Changes whenever the automatic mask changes, so old cached masks are not reused.
MASK_VERSION = "mediapipe-0.10.14-oval-v1"


def cache_dir() -> Path:
    """Folder of cached automatic face masks."""
    return cache_root() / "facemasks"


def face_label_map(path: Path, image: np.ndarray) -> np.ndarray:
    """HxW uint8 map: 0 = no face, k = k-th largest face; cached by content hash."""
    digest = hashlib.sha256(path.read_bytes() + MASK_VERSION.encode()).hexdigest()[:40]
    cached = cache_dir() / f"{digest}.png"
    if cached.is_file():
        try:
            labels = imageio.read_label_map(cached)
            if labels.shape == image.shape[:2]:
                return labels
        except StudioError:
            pass  # a damaged cache entry is recomputed
    from studio.core.io import facemask  # imported here: the models load on first use

    labels = np.zeros(image.shape[:2], np.uint8)
    for k, mask in enumerate(facemask.face_masks(image, every_face=True)[:254]):
        labels[mask & (labels == 0)] = k + 1
    with contextlib.suppress(StudioError):  # a read-only cache only costs time
        write_bytes_atomic(cached, encode_image(labels, "png"))
    return labels


class AutoMaskFaceSource:
    """A folder tree of photos without masks; face masks are made automatically."""

    layout = "photos"
    has_labels = False

    def __init__(
        self,
        root: str | Path,
        save_masks: str | Path | None = None,
        every_face: bool = False,
    ) -> None:
        self.root = Path(root)
        self.save_masks = None if save_masks is None else Path(save_masks)
        self.every_face = every_face
        self._ids: list[str] | None = None
        self._problems: list[Problem] = []

    def ids(self) -> list[str]:
        if self._ids is None:
            photos, self._problems = scan_images(self.root)
            if not self.every_face:
                self._ids = photos
            else:
                ids: list[str] = []
                for photo in photos:
                    try:
                        count = int(self._labels(photo)[1].max())
                    except InputError as err:
                        self._problems.append(Problem(err.path or photo, err.reason))
                        continue
                    if count == 0:
                        self._problems.append(Problem(str(self.root / photo), "no face found"))
                    ids.extend(f"{photo}#{k}" for k in range(count))
                self._ids = ids
        return self._ids

    def path_of(self, item_id: str) -> str:
        return str(self.root / item_id.partition("#")[0])

    def _labels(self, photo: str) -> tuple[np.ndarray, np.ndarray]:
        path = self.root / photo
        image = imageio.read_image(path)
        return image, face_label_map(path, image)

    def load(self, item_id: str) -> Face:
        photo, _, index = item_id.partition("#")
        k = int(index) if index.isdigit() else 0
        path = self.root / photo
        image, labels = self._labels(photo)
        mask = labels == k + 1
        if not mask.any():
            reason = "no face found (automatic face mask)" if k == 0 else f"no face #{k}"
            raise InputError(reason, path)
        if self.save_masks is not None:
            suffix = "" if k == 0 else f".face{k}"
            target = self.save_masks / f"{full_stem(photo)}{suffix}.png"
            write_bytes_atomic(target, encode_image(mask.astype(np.uint8) * 255, "png"))
        try:
            return Face(image, mask, id=item_id, _key=file_key(path, MASK_VERSION, str(k)))
        except InputError as err:
            raise InputError(err.reason, path) from err

    def report(self, check: bool = False) -> SourceReport:
        ids = self.ids()
        details = {
            "every_face": self.every_face,
            "mask_method": MASK_VERSION,
            "mask_cache": str(cache_dir()),
        }
        return check_report(
            self.layout, self.root, ids, self._problems, self.load if check else None, details
        )
