"""Loading single-file inputs for commands (a face, an occluder, a texture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.core.errors import InputError
from studio.core.inputs import Face, Occluder, Texture
from studio.core.sources.base import read_image, read_mask


def load_face(image_path: str, mask_path: str | None) -> Face:
    if mask_path is None:
        raise InputError(
            "no face mask given: pass --face-mask MASK.png (automatic face masks need the "
            "face-mask model, see `studio facemask`)",
            image_path,
        )
    image = read_image(Path(image_path))
    mask = read_mask(Path(mask_path))
    if mask.shape != image.shape[:2]:
        raise InputError(
            f"mask {mask.shape[1]}x{mask.shape[0]} does not match image "
            f"{image.shape[1]}x{image.shape[0]}",
            mask_path,
        )
    return Face(image, mask, id=Path(image_path).name)


def load_occluder(image_path: str, mask_path: str | None, kind: str, up: str) -> Occluder:
    image = read_image(Path(image_path), keep_alpha=True)
    if mask_path is not None:
        alpha = read_mask(Path(mask_path)).astype(np.uint8) * 255
        if alpha.shape != image.shape[:2]:
            raise InputError("occluder mask size does not match the occluder image", mask_path)
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
