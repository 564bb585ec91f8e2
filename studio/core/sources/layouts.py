"""Recognising the layout of a folder (or file) from names alone: which kind of source it is.

Nothing here decodes an image; recognising an RGBA folder reads a few PNG headers. The rules,
for each role, in order:

- a COCO instances ``.json`` is an occluder source (images in ``val2017/`` beside
  ``annotations/``, or the folder given);
- a CelebAMask-HQ root (``CelebA-HQ-img/`` + ``CelebAMask-HQ-mask-anno/``), or its
  ``CelebA-HQ-img/`` folder, is a face source with class maps;
- an explicit mask folder makes images + masks (the image folder itself only when its masks
  lie beside the images, named ``X.mask.png`` / ``X_mask.png``: else each image would be its
  own mask);
- a folder holding an images/masks pair (``images/`` + ``masks/``, ``img/`` + ``mask/``, ...);
- the images half of a pair of siblings: the reference generator's ``X_img/`` + ``X_mask/``,
  ``object_image_sr/`` + ``object_image_x4/``, ``images/`` + ``masks/``, ``faces/`` +
  ``face_masks/``, ``occluders/`` + ``occluder_masks/``;
- images with their masks beside them (``X.jpg`` + ``X.mask.png`` or ``X_mask.png``);
- a folder holding several sources (the reference ``dataset/`` folder) is an error for one
  role: it is opened whole by :func:`dataset_sources`;
- otherwise: photos with automatic face masks (faces), RGBA cut-outs (occluders; JPEGs cannot
  carry alpha, so a folder of them without masks is an error) or a texture tree (the DTD
  layout ``dtd/images/<class>/`` is entered at ``images/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from studio.core.io import imageio
from studio.core.model.errors import InputError, StudioError
from studio.core.model.vocab import Role, values
from studio.core.sources.base import beside_stem
from studio.core.sources.celebamask import ANNO_DIR, IMAGES_DIR, is_celebamask

ROLES: tuple[Role, ...] = values(Role)  # type: ignore[assignment]

#: Layout names (recorded in job.json; a resumed job must see the same).
IMAGES_MASKS = "images+masks"
CELEBAMASK = "celebamask-hq"
PHOTOS = "photos"
RGBA = "rgba"
COCO = "coco"
TEXTURES = "textures"

#: (images, masks) sub-folder pairs recognised inside a source folder, by role.
INNER_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "faces": (("images", "masks"), ("img", "mask"), ("faces", "face_masks"), ("faces", "masks")),
    "occluders": (("images", "masks"), ("img", "mask"), ("occluders", "occluder_masks")),
}
#: Image-folder name suffixes and the suffix of their sibling mask folder (``X_img`` + ``X_mask``).
SIBLING_SUFFIXES = (
    ("_img", "_mask"),
    ("_imgs", "_masks"),
    ("_images", "_masks"),
    ("_image", "_mask"),
)
#: Whole folder names with a sibling mask folder of another name.
SIBLING_NAMES = {
    "object_image_sr": "object_image_x4",  # the reference's super-resolved COCO objects
    "images": "masks",
    "img": "mask",
    "faces": "face_masks",
    "occluders": "occluder_masks",
}
#: Files whose alpha is sniffed to recognise an RGBA cut-out folder.
ALPHA_SNIFF = 16
NO_ALPHA_EXTENSIONS = (".jpg", ".jpeg", ".bmp")


@dataclass(frozen=True)
class Layout:
    """A recognised layout: what to open, and how it was recognised (for people)."""

    name: str
    root: Path  #: image folder, CelebAMask-HQ root or COCO .json
    masks: Path | None = None
    images: Path | None = None  #: the image folder of a COCO file
    how: str = ""
    #: masks may be stored at another resolution (the reference data sets resize them)
    resize_masks: bool = False
    #: the masks lie beside their images, in the same folder (``X.mask.png`` for ``X.jpg``)
    beside: bool = False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _has_images(folder: Path, deep: bool = True) -> bool:
    """Whether ``folder`` (and, with ``deep``, its sub-folders) holds an image file name."""
    try:
        for _dirpath, dirnames, filenames in os.walk(folder):
            if any(imageio.is_image_name(n) for n in filenames):
                return True
            if not deep:
                return False
            dirnames.sort()
    except OSError:
        return False
    return False


def mask_sibling(folder: Path) -> tuple[Path, bool] | None:
    """The sibling mask folder of an image folder (``X_img`` -> ``X_mask``), if it exists;
    with whether it is the reference generator's naming (its masks may differ in size)."""
    name, parent = folder.name, folder.parent
    for img_suffix, mask_suffix in SIBLING_SUFFIXES:
        if name.lower().endswith(img_suffix) and len(name) > len(img_suffix):
            stem = name[: -len(img_suffix)]
            for cand in (stem + mask_suffix, stem + mask_suffix.upper()):
                if _is_dir(parent / cand):
                    return parent / cand, True
    other = SIBLING_NAMES.get(name)
    if other is not None and _is_dir(parent / other):
        return parent / other, name == "object_image_sr"
    return None


def image_sibling(folder: Path) -> Path | None:
    """The image folder whose masks ``folder`` holds (for a clear error), if any."""
    name, parent = folder.name, folder.parent
    for img_suffix, mask_suffix in SIBLING_SUFFIXES:
        if name.lower().endswith(mask_suffix) and len(name) > len(mask_suffix):
            cand = parent / (name[: -len(mask_suffix)] + img_suffix)
            if _is_dir(cand):
                return cand
    for images, masks in SIBLING_NAMES.items():
        if name == masks and _is_dir(parent / images):
            return parent / images
    return None


def inner_pair(folder: Path, role: Role) -> tuple[Path, Path] | None:
    for images, masks in INNER_PAIRS.get(role, ()):
        if _is_dir(folder / images) and _is_dir(folder / masks):
            return folder / images, folder / masks
    return None


def coco_images_folder(annotations: Path) -> Path:
    """Where a COCO file's images usually are: ``annotations/instances_val2017.json`` ->
    ``val2017/`` next to ``annotations/``; else the JSON's folder."""
    name = annotations.stem.removeprefix("instances_")
    for cand in (annotations.parent.parent / name, annotations.parent / name):
        if _is_dir(cand):
            return cand
    return annotations.parent


def dtd_images(folder: Path) -> Path | None:
    """``dtd/images`` for a DTD root (``images/<class>/`` beside ``labels/`` or ``imdb/``, or
    a folder named dtd)."""
    images = folder / "images"
    if not _is_dir(images) or _has_images(folder, deep=False):
        return None
    if folder.name.lower() == "dtd" or _is_dir(folder / "labels") or _is_dir(folder / "imdb"):
        return images
    return None


def dataset_members(folder: Path) -> list[str]:
    """Names of the sources inside a folder of several (the reference ``dataset/`` folder):
    image folders with sibling masks, CelebAMask-HQ roots and DTD roots among its children."""
    found = []
    try:
        children = sorted(p for p in folder.iterdir() if _is_dir(p))
    except OSError:
        return []
    for child in children:
        if mask_sibling(child) or is_celebamask(child) or dtd_images(child) is not None:
            found.append(child.name)
    return found


def has_beside_masks(folder: Path) -> bool:
    """Whether an image of ``folder`` (or its sub-folders) has its mask beside it: ``X.jpg``
    with ``X.mask.png`` or ``X_mask.png`` in the same folder (names only)."""
    try:
        for _dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            stems = {n.rsplit(".", 1)[0] for n in filenames if imageio.is_image_name(n)}
            if any((beside_stem(stem + ".png") or "\0") in stems for stem in stems):
                return True
    except OSError:
        return False
    return False


def _beside(path: Path) -> Layout:
    return Layout(
        IMAGES_MASKS,
        path,
        masks=path,
        how="masks beside their images (X.jpg + X.mask.png or X_mask.png)",
        beside=True,
    )


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise InputError("not found", path)


def _alpha_check(folder: Path) -> str:
    """Why ``folder`` cannot be read as RGBA cut-outs, or "" when it can."""
    names: list[Path] = []
    jpegs = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if not imageio.is_image_name(name):
                continue
            if name.lower().endswith(NO_ALPHA_EXTENSIONS):
                jpegs += 1
            else:
                names.append(Path(dirpath, name))
    if not names and not jpegs:
        return "no images found"
    if not names:
        return (
            f"{jpegs} JPEG/BMP images cannot carry an alpha channel and no mask folder was "
            "found (looked for a sibling such as X_img/ + X_mask/, or images/ + masks/ "
            "inside): give the masks folder or RGBA PNG cut-outs"
        )
    step = max(1, len(names) // ALPHA_SNIFF)
    for path in names[::step][:ALPHA_SNIFF]:
        try:
            if imageio.probe(path).has_alpha:
                return ""
        except StudioError:
            continue
    return (
        "no alpha channel in the images looked at, and no mask folder was found (looked for "
        "a sibling such as X_img/ + X_mask/, or images/ + masks/ inside): give the masks "
        "folder or RGBA PNG cut-outs"
    )


def recognise(
    path: str | Path,
    role: Role,
    *,
    masks: str | Path | None = None,
    images: str | Path | None = None,
) -> Layout:
    """The layout of ``path`` for ``role``.

    Raises
    ------
    InputError
        naming the folder and the reason when it does not exist, holds nothing usable for the
        role, or is ambiguous (a folder of several sources, a mask folder, JPEG occluders
        without masks).
    """
    path = Path(path)
    _check_exists(path)
    if path.is_file():
        if path.suffix.lower() != ".json":
            raise InputError("a source is a folder, or a COCO instances .json file", path)
        if role != "occluders":
            raise InputError(f"a COCO file is an occluder source, not {role}", path)
        folder = Path(images) if images else coco_images_folder(path)
        _check_exists(folder)
        return Layout(COCO, path, images=folder, how=f"COCO instances, images in {folder}")
    if images is not None:
        raise InputError("an image folder is only given with a COCO .json source", path)
    if masks is not None:
        masks = Path(masks)
        _check_exists(masks)
        if not _is_dir(masks):
            raise InputError("the mask folder is not a folder", masks)
        if role == "textures":
            raise InputError("textures take no mask folder", masks)
        if masks.resolve() == path.resolve():
            if has_beside_masks(path):
                return _beside(path)
            raise InputError(
                "the mask folder is the image folder: each image would be its own mask (masks "
                "beside their images are named X.mask.png or X_mask.png)",
                masks,
            )
        sibling = mask_sibling(path)
        reference = sibling is not None and sibling[1] and sibling[0].resolve() == masks.resolve()
        return Layout(
            IMAGES_MASKS, path, masks=masks, how=f"masks from {masks}", resize_masks=reference
        )
    celeba_root = path if is_celebamask(path) else None
    if celeba_root is None and role == "faces" and path.name == IMAGES_DIR:
        celeba_root = path.parent if is_celebamask(path.parent) else None
    if celeba_root is not None:
        if role != "faces":
            raise InputError(f"a CelebAMask-HQ folder is a face source, not {role}", path)
        return Layout(
            CELEBAMASK,
            celeba_root,
            how=f"CelebAMask-HQ: {IMAGES_DIR}/ with part masks in {ANNO_DIR}/",
        )
    if role == "textures":
        inner = dtd_images(path)
        if inner is not None:
            return Layout(TEXTURES, inner, how="DTD: textures in images/<class>/")
        if not _has_images(path):
            raise InputError("no images found", path)
        return Layout(TEXTURES, path, how="any tree of images")
    pair = inner_pair(path, role)
    if pair is not None:
        return Layout(
            IMAGES_MASKS, pair[0], masks=pair[1], how=f"{pair[0].name}/ + {pair[1].name}/ inside"
        )
    sibling = mask_sibling(path)
    if sibling is not None:
        mask_dir, reference = sibling
        return Layout(
            IMAGES_MASKS,
            path,
            masks=mask_dir,
            how=f"masks in the sibling {mask_dir.name}/",
            resize_masks=reference,
        )
    if has_beside_masks(path):
        return _beside(path)
    members = dataset_members(path)
    if members:
        raise InputError(
            f"holds several sources ({', '.join(members)}): name one of them, or use this "
            "folder as the data root of a preset",
            path,
            hint="data",
        )
    images_of = image_sibling(path)
    if images_of is not None:
        raise InputError(f"is the mask folder of {images_of}: give that folder instead", path)
    if not _has_images(path):
        raise InputError("no images found", path)
    if role == "faces":
        return Layout(PHOTOS, path, how="photos without masks: automatic face masks")
    reason = _alpha_check(path)
    if reason:
        raise InputError(reason, path, hint="occluder_masks")
    return Layout(RGBA, path, how="RGBA cut-outs: the alpha is the shape")
