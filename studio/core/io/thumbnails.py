"""Thumbnails of source items (for the studio's browsers): small RGB pictures, cached on disk.

A face or texture thumbnail is made from its image file alone (a JPEG decoded at a reduced
scale: no mask, no full decode); an occluder's needs its shape, so the item is loaded and
drawn over a checkerboard. Thumbnails are kept in the user cache folder
(:func:`studio.core.io.paths.cache_root` ``/thumbnails``), keyed by the identity of the files
they come from (resolved path, size, modification time: see
:func:`studio.core.io.paths.file_key`), so a second opening of a source reads them back
instead of decoding its images, and a rewritten file gets a new thumbnail.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.io import imageio
from studio.core.io.paths import cache_root, file_key
from studio.core.io.writers import encode_image, write_bytes_atomic
from studio.core.model.errors import StudioError
from studio.core.model.inputs import Face, Occluder, Texture

#: Changes whenever thumbnails are drawn differently, so old cached ones are not reused.
THUMB_VERSION = "thumb-v1"
CHECKER = 12  #: checkerboard square under occluders, in thumbnail pixels


def cache_dir() -> Path:
    """Folder of cached thumbnails."""
    return cache_root() / "thumbnails"


def over_checker(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` composited over a grey checkerboard by ``alpha`` (uint8)."""
    h, w = alpha.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    board = np.where(((yy // CHECKER + xx // CHECKER) % 2)[..., None] == 0, 70, 100)
    a = alpha.astype(np.float32)[..., None] / 255.0
    return (rgb * a + board.astype(np.float32) * (1 - a)).astype(np.uint8)


def thumbnail(item: Face | Occluder | Texture, side: int) -> np.ndarray:
    """A small RGB picture of a loaded item (occluders over a checkerboard)."""
    if isinstance(item, Occluder):
        small = imageio.shrink_to_fit(np.dstack([item.image, item.alpha]), side)
        return over_checker(small[:, :, :3], small[:, :, 3])
    return imageio.shrink_to_fit(item.image, side)


def image_file(source: Any, item_id: str) -> Path | None:
    """The file an item's picture comes from, when it is a file of its own (not a COCO
    instance or a synthetic item)."""
    path_of = getattr(source, "path_of", None)
    if path_of is None:
        return None
    path = Path(path_of(item_id))
    return path if path.is_file() else None


def identity(source: Any, role: str, item_id: str, side: int) -> str | None:
    """The cache key of a thumbnail: the identity of every file it is made from, the item,
    the role and the size; None when the item has no files (nothing is cached then). A source
    that draws its own thumbnails names what they are made of (``thumbnail_files``)."""
    own = getattr(source, "thumbnail_files", None)
    if own is not None:
        parts = own(item_id)
        if not parts:
            return None
        try:
            key = file_key(*parts, role, str(side), THUMB_VERSION)
        except OSError:
            return None
        return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()
    path_of = getattr(source, "path_of", None)
    if path_of is None:
        return None
    where = path_of(item_id)
    files: list[Path | str] = []
    main = Path(where)
    if not main.is_file():
        head = where.rpartition("#")[0]  # a COCO instance: the annotations file
        if not head or not Path(head).is_file():
            return None
        main = Path(head)
    files.append(main)
    mask_path = getattr(source, "mask_path", None)
    if role == "occluders" and mask_path is not None:
        mask = mask_path(item_id)
        if mask is not None:
            files.append(mask)
    try:
        key = file_key(*files, role, item_id, str(side), THUMB_VERSION)
    except OSError:
        return None
    return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()


def make(source: Any, role: str, item_id: str, side: int) -> np.ndarray:
    """Make the thumbnail of ``item_id`` (faces and textures from their image file alone; a
    source with a ``make_thumbnail`` method draws its own).

    Raises
    ------
    StudioError
        (an InputError naming the file) when the item cannot be read.
    """
    own = getattr(source, "make_thumbnail", None)
    if own is not None:
        return own(item_id, side)
    if role != "occluders":
        path = image_file(source, item_id)
        if path is not None:
            return imageio.read_thumbnail(path, side)
    return thumbnail(source.load(item_id), side)


class ThumbnailStore:
    """Thumbnails on disk, one small JPEG per key (``<folder>/<ab>/<key>.jpg``)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.jpg"

    def get(self, key: str) -> np.ndarray | None:
        """The cached thumbnail, or None (a damaged entry counts as missing)."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return imageio.read_image(path)
        except StudioError:
            return None

    def put(self, key: str, image: np.ndarray) -> None:
        """Keep ``image`` under ``key`` (a read-only cache only costs time)."""
        with contextlib.suppress(StudioError):
            write_bytes_atomic(self._path(key), encode_image(image, "jpg", 92), durable=False)


def cached_thumbnail(
    source: Any, role: str, item_id: str, side: int, store: ThumbnailStore | None
) -> tuple[np.ndarray, bool]:
    """The thumbnail of ``item_id``, and whether it came from ``store`` (else it was made,
    and kept there when the item has files)."""
    key = identity(source, role, item_id, side) if store is not None else None
    if store is not None and key is not None:
        hit = store.get(key)
        if hit is not None:
            return hit, True
    image = make(source, role, item_id, side)
    if store is not None and key is not None:
        store.put(key, image)
    return image, False
