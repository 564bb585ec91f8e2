"""Open a source from a path by recognising its layout (used by ``studio inspect``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from studio.core.errors import InputError
from studio.core.preset import SourcesSpec
from studio.core.sources.automask import AutoMaskFaceSource
from studio.core.sources.base import FolderFaceSource, FolderOccluderSource, TextureFolder
from studio.core.sources.celebamask import CelebAMaskSource, is_celebamask
from studio.core.sources.coco import CocoOccluderSource

Role = Literal["faces", "occluders", "textures"]

#: Sub-folder pairs recognised as "images + masks" inside a source folder.
PAIRED_FOLDERS = (("images", "masks"), ("img", "mask"), ("faces", "masks"))


def coco_images_folder(annotations: Path) -> Path:
    """Where a COCO file's images usually are: ``annotations/instances_val2017.json`` ->
    ``val2017/`` next to ``annotations/``; else the JSON's folder."""
    name = annotations.stem.removeprefix("instances_")
    for cand in (annotations.parent.parent / name, annotations.parent / name):
        if cand.is_dir():
            return cand
    return annotations.parent


def open_source(
    path: str | Path,
    role: Role | None = None,
    *,
    masks: str | Path | None = None,
    images: str | Path | None = None,
    kind: str = "object",
    up: str = "up",
    min_area: float = 1024.0,
    categories: list[str] | None = None,
    every_face: bool = False,
    save_masks: str | Path | None = None,
):
    """A face, occluder or texture source for ``path``; the layout is recognised.

    - ``*.json``: COCO instances (occluders), images in ``images`` or the usual place;
    - a folder with ``CelebA-HQ-img/`` and ``CelebAMask-HQ-mask-anno/``: CelebAMask-HQ faces;
    - a folder with ``images/`` + ``masks/`` (or ``masks`` given): images with masks;
    - any other folder: photos with automatic face masks (faces), RGBA occluders
      (occluders) or textures.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("not found", path)
    if path.is_file():
        if path.suffix.lower() != ".json":
            raise InputError("a source is a folder, or a COCO instances .json file", path)
        if role not in (None, "occluders"):
            raise InputError("a COCO file is an occluder source", path)
        folder = Path(images) if images else coco_images_folder(path)
        return CocoOccluderSource(path, folder, min_area, categories, kind, up)
    if is_celebamask(path) and masks is None:
        if role not in (None, "faces"):
            raise InputError("a CelebAMask-HQ folder is a face source", path)
        return CelebAMaskSource(path)
    root, mask_root = path, None if masks is None else Path(masks)
    if mask_root is None:
        for img_name, mask_name in PAIRED_FOLDERS:
            if (path / img_name).is_dir() and (path / mask_name).is_dir():
                root, mask_root = path / img_name, path / mask_name
                break
            if path.name == img_name and (path.parent / mask_name).is_dir():
                mask_root = path.parent / mask_name  # the images/ folder of such a pair
                break
    role = role or "faces"
    if role == "textures":
        return TextureFolder(path)
    if role == "occluders":
        return FolderOccluderSource(root, mask_root, kind=kind, up=up)
    if mask_root is not None:
        return FolderFaceSource(root, mask_root)
    return AutoMaskFaceSource(path, save_masks=save_masks, every_face=every_face)


def sources_from_preset(
    spec: SourcesSpec, base: str | Path = "."
) -> tuple[Any | None, Any | None, Any | None]:
    """(faces, occluders, textures) sources of a preset's ``sources:`` section.

    Relative paths are relative to ``base`` (the preset's folder). Layouts are recognised as
    by :func:`open_source`: ``faces`` may be a CelebAMask-HQ folder, a folder with images/ +
    masks/, or plain photos (automatic masks) when ``face_masks`` is not given; ``occluders``
    may be a COCO .json.
    """
    base = Path(base)

    def where(value: str | None) -> Path | None:
        return None if value is None else base / Path(value).expanduser()

    faces = occluders = textures = None
    if spec.faces:
        faces = open_source(where(spec.faces), "faces", masks=where(spec.face_masks))
    if spec.occluders:
        occluders = open_source(
            where(spec.occluders),
            "occluders",
            masks=where(spec.occluder_masks),
            kind=spec.occluder_kind,
            up=spec.occluder_up,
        )
    if spec.textures:
        textures = open_source(where(spec.textures), "textures")
    return faces, occluders, textures
