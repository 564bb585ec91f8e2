"""Single-file inputs (``studio render``): a face, an occluder, a texture from their files."""

from __future__ import annotations

from pathlib import Path

from studio.core.io.paths import file_key
from studio.core.model.errors import InputError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.sources.automask import face_label_map
from studio.core.sources.base import read_face, read_image, read_occluder


def face_from_files(image_path: str | Path, mask_path: str | Path | None = None) -> Face:
    """The face of ``image_path`` with its mask, or the automatic face mask when none given."""
    path = Path(image_path)
    if mask_path is not None:
        return read_face(path, Path(mask_path), path.name)
    image = read_image(path)
    mask = face_label_map(path, image) == 1
    if not mask.any():
        raise InputError(
            "no face found for the automatic face mask", image_path, hint="face_mask"
        )
    return Face(image, mask, id=path.name, _key=file_key(path, "auto"))


def occluder_from_files(
    image_path: str | Path, mask_path: str | Path | None, kind: str = "object", up: str = "up"
) -> Occluder:
    """An occluder from an RGBA image, or an image and its mask file."""
    path = Path(image_path)
    return read_occluder(
        path,
        None if mask_path is None else Path(mask_path),
        path.name,
        kind=kind,
        up=up,
        no_alpha="occluder has no alpha channel: give an RGBA PNG or the occluder's mask",
        no_alpha_hint="occluder_mask",
    )


def texture_from_file(path: str | Path) -> Texture:
    return Texture(read_image(Path(path)), id=Path(path).name, _key=file_key(Path(path)))
