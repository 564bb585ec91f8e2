"""Source protocols and the plain folder sources."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from studio.core.errors import InputError
from studio.core.inputs import Face, Occluder, Texture

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@runtime_checkable
class FaceSource(Protocol):
    def ids(self) -> list[str]: ...
    def load(self, item_id: str) -> Face: ...


@runtime_checkable
class OccluderSource(Protocol):
    def ids(self) -> list[str]: ...
    def load(self, item_id: str) -> Occluder: ...


@runtime_checkable
class TextureSource(Protocol):
    def ids(self) -> list[str]: ...
    def load(self, item_id: str) -> Texture: ...


def list_images(root: Path) -> list[str]:
    """Sorted relative paths of the image files under ``root``."""
    if not root.is_dir():
        raise InputError("folder not found", root)
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )


def read_image(path: Path, *, keep_alpha: bool = False) -> np.ndarray:
    """Read an image as RGB (or RGBA when ``keep_alpha`` and present) uint8."""
    data = np.fromfile(path, np.uint8) if path.is_file() else None
    if data is None:
        raise InputError("file not found", path)
    if data.size == 0:
        raise InputError("0-byte file", path)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError("not an image (or a damaged one)", path)
    if image.dtype == np.uint16:
        image = (image / 257.0 + 0.5).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        rgba = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
        return rgba if keep_alpha else np.ascontiguousarray(rgba[:, :, :3])
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask(path: Path) -> np.ndarray:
    """Read a mask as bool: 0/255, 0/1 and grey masks are thresholded at half their maximum."""
    image = read_image(path)[:, :, 0]
    top = int(image.max())
    return image > top / 2 if top > 0 else image > 0


def _match_by_stem(folder: Path, stem: str) -> Path | None:
    for ext in IMAGE_EXTENSIONS:
        for cand in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if cand.is_file():
                return cand
    return None


def _stem(item_id: str) -> str:
    """Full stem: the name without its last extension (never cut at the first dot)."""
    p = Path(item_id)
    return (p.parent / p.stem).as_posix()


class FolderFaceSource:
    """Images in ``faces`` with masks in ``masks`` matched by full stem."""

    def __init__(self, faces: str | Path, masks: str | Path) -> None:
        self.root, self.masks = Path(faces), Path(masks)

    def ids(self) -> list[str]:
        return list_images(self.root)

    def load(self, item_id: str) -> Face:
        path = self.root / item_id
        mask_path = _match_by_stem(self.masks, _stem(item_id))
        if mask_path is None:
            raise InputError(f"no mask named {_stem(item_id)}.* in {self.masks}", path)
        image = read_image(path)
        mask = read_mask(mask_path)
        if mask.shape != image.shape[:2]:
            raise InputError(
                f"mask {mask.shape[1]}x{mask.shape[0]} does not match image "
                f"{image.shape[1]}x{image.shape[0]}",
                mask_path,
            )
        return Face(image, mask, id=item_id)


class FolderOccluderSource:
    """RGBA PNGs, or images with masks (matched by full stem) in ``masks``."""

    def __init__(
        self,
        root: str | Path,
        masks: str | Path | None = None,
        kind: str = "object",
        up: str = "up",
    ) -> None:
        self.root = Path(root)
        self.masks = None if masks is None else Path(masks)
        self.kind, self.up = kind, up

    def ids(self) -> list[str]:
        return list_images(self.root)

    def load(self, item_id: str) -> Occluder:
        path = self.root / item_id
        image = read_image(path, keep_alpha=True)
        if self.masks is not None:
            mask_path = _match_by_stem(self.masks, _stem(item_id))
            if mask_path is None:
                raise InputError(f"no mask named {_stem(item_id)}.* in {self.masks}", path)
            alpha = read_mask(mask_path).astype(np.uint8) * 255
            rgb = image[:, :, :3]
        elif image.shape[2] == 4:
            rgb, alpha = image[:, :, :3], image[:, :, 3]
        else:
            raise InputError("occluder has no alpha channel and no mask folder was given", path)
        return Occluder(np.ascontiguousarray(rgb), alpha, id=item_id, kind=self.kind, up=self.up)


class TextureFolder:
    """Any folder tree of images (the DTD layout works as is)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def ids(self) -> list[str]:
        return list_images(self.root)

    def load(self, item_id: str) -> Texture:
        return Texture(read_image(self.root / item_id), id=item_id)
