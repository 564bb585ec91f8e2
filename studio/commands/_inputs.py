"""Loading single-file inputs for commands (a face, an occluder, a texture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.core import imageio
from studio.core.errors import InputError
from studio.core.inputs import Face, Occluder, Texture
from studio.core.sources.automask import face_label_map
from studio.core.sources.base import read_image


def load_face(image_path: str, mask_path: str | None) -> Face:
    """The face of ``image_path`` with its mask, or the automatic face mask when none given."""
    image = read_image(Path(image_path))
    if mask_path is None:
        mask = face_label_map(Path(image_path), image) == 1
        if not mask.any():
            raise InputError(
                "no face found for the automatic face mask: pass --face-mask MASK.png",
                image_path,
            )
    else:
        mask = imageio.read_mask(Path(mask_path), shape=image.shape[:2])
    try:
        return Face(image, mask, id=Path(image_path).name)
    except InputError as err:
        raise InputError(err.reason, mask_path or image_path) from None


def load_occluder(image_path: str, mask_path: str | None, kind: str, up: str) -> Occluder:
    image = read_image(Path(image_path), keep_alpha=True)
    if mask_path is not None:
        mask = imageio.read_mask(Path(mask_path), shape=image.shape[:2])
        alpha = mask.astype(np.uint8) * 255
    elif image.shape[2] == 4:
        alpha = image[:, :, 3]
    else:
        raise InputError(
            "occluder has no alpha channel: give an RGBA PNG or --occluder-mask", image_path
        )
    rgb = np.ascontiguousarray(image[:, :, :3])
    try:
        return Occluder(rgb, alpha, id=Path(image_path).name, kind=kind, up=up)
    except InputError as err:
        raise InputError(err.reason, image_path) from None


def load_texture(path: str) -> Texture:
    return Texture(read_image(Path(path)), id=Path(path).name)
