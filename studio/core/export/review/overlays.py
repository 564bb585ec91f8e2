"""An exported sample's pictures for review: its image with one of its labels over it.

The views are those a sample's row can give: the image; the visible face mask (green); the
occlusion mask (red; from the label map when no occlusion mask was written); the class map
in a fixed palette, with a legend of the classes it holds; the shadow region, where the
recorded shadow parameters darken the face (cast from the occlusion mask by the engine's own
shadow, :mod:`studio.core.ops.shadow`: its edge is the label's, not the feathered alpha's).
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.rows import read_sample_file
from studio.core.io import imageio
from studio.core.io.contact_sheet import FACE_COLOUR, OCCLUDER_COLOUR, overlay, tint
from studio.core.io.imageio import Encoded
from studio.core.model.params import ShadowParams
from studio.core.ops import shadow
from studio.core.ops.backend import get_backend
from studio.core.sources.celebamask import CLASSES

VIEWS: tuple[str, ...] = ("image", "face", "occlusion", "classes", "shadow")
VIEW_LABELS = {
    "image": "Image",
    "face": "Face mask",
    "occlusion": "Occlusion mask",
    "classes": "Class map",
    "shadow": "Shadow region",
}
SHADOW_COLOUR = (60, 120, 255)
STRENGTH = 0.5  #: how far a labelled pixel moves towards its colour
SHADOW_SHOWN = 0.25  #: the shadow region: darkened by at least this share of its core


@dataclass
class SampleArrays:
    """A sample's decoded files (masks at the image's size; None where not written)."""

    image: np.ndarray  #: HxWx3 uint8
    face: np.ndarray | None  #: HxW bool
    occlusion: np.ndarray | None  #: HxW bool
    labels: np.ndarray | None  #: HxW uint8 class ids
    params: dict[str, Any]


def _shadow_params(params: dict[str, Any]) -> ShadowParams | None:
    h = params.get("harmonize") or {}
    s = h.get("shadow") or {}
    if not h.get("enabled") or not float(s.get("opacity") or 0.0) > 0:
        return None
    return ShadowParams(**{k: float(v) for k, v in s.items()})


def views_of(row: dict[str, Any]) -> tuple[str, ...]:
    """The views a manifest row can give (a failed sample: none)."""
    files = row.get("files") or {}
    if "image" not in files:
        return ()
    found = ["image"]
    if "mask" in files:
        found.append("face")
    if "occlusion_mask" in files or "labels" in files:
        found.append("occlusion")
    if "labels" in files:
        found.append("classes")
    if "occlusion" in found and _shadow_params(row.get("params") or {}) is not None:
        found.append("shadow")
    return tuple(found)


def read_sample(folder: ExportFolder, row: dict[str, Any], side: int | None = None) -> SampleArrays:
    """Decode a sample's files, read through the export folder (inside its sample folders,
    regular files, no more than their recorded sizes); reduced to fit ``side`` px when given
    (a JPEG image is decoded at a reduced scale, masks are resized to the image).

    Raises
    ------
    InputError
        naming the file that cannot be read.
    """
    files = row.get("files") or {}

    def encoded(key: str) -> Encoded:
        return Encoded(read_sample_file(folder, row, key), folder.path / str(files[key]))

    image = imageio.read_image(encoded("image")) if side is None else (
        imageio.read_thumbnail(encoded("image"), side)
    )  # fmt: skip
    shape = image.shape[:2]

    def mask(key: str) -> np.ndarray | None:
        if key not in files:
            return None
        return imageio.read_mask(encoded(key), shape=shape, resize=True)

    labels = None
    if "labels" in files:
        labels = imageio.read_label_map(encoded("labels"))
        if labels.shape != shape:
            labels = imageio.resize_nearest(labels, shape)
    params = row.get("params") or {}
    occlusion = mask("occlusion_mask")
    if occlusion is None and labels is not None:
        occlusion = labels == int(params.get("occluder_class", 255))
    return SampleArrays(image, mask("mask"), occlusion, labels, params)


def palette() -> np.ndarray:
    """The colour of each class id (256 x 3 uint8): face-parsing classes on a colour wheel,
    background black, the occluder (any id past the classes) red."""
    colours = np.tile(np.array(OCCLUDER_COLOUR, np.uint8), (256, 1))
    colours[0] = 0
    for i in range(1, len(CLASSES)):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)
        colours[i] = (round(r * 255), round(g * 255), round(b * 255))
    return colours


def class_name(class_id: int, occluder_class: int = 255) -> str:
    if class_id == occluder_class:
        return "occluder"
    return CLASSES[class_id] if class_id < len(CLASSES) else f"class {class_id}"


def legend(labels: np.ndarray, occluder_class: int = 255) -> list[tuple[int, str, tuple]]:
    """``(class id, name, colour)`` of every class present in a class map."""
    colours = palette()
    present = np.flatnonzero(np.bincount(labels.ravel(), minlength=256))
    return [
        (int(c), class_name(int(c), occluder_class), tuple(int(v) for v in colours[c]))
        for c in present
    ]


def shadow_region(arrays: SampleArrays) -> np.ndarray | None:
    """Where the recorded shadow darkens the face by at least :data:`SHADOW_SHOWN` of its
    darkest (bool), cast from the occlusion mask; None when the sample casts none."""
    params = _shadow_params(arrays.params)
    if params is None or arrays.occlusion is None or not arrays.occlusion.any():
        return None
    flipped = bool((arrays.params.get("image_augment") or {}).get("flip"))
    shape = arrays.occlusion[:, ::-1] if flipped else arrays.occlusion
    rows, cols = np.flatnonzero(shape.any(axis=1)), np.flatnonzero(shape.any(axis=0))
    bbox = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    size = math.sqrt((bbox[2] - bbox[0]) * (bbox[3] - bbox[1]))
    h, w = shape.shape
    box = shadow.window(params, size, bbox, (w, h))
    if box is None:
        return None
    white = np.full((h, w, 3), 255, np.uint8)
    alpha = np.ascontiguousarray(shape[bbox[1] : bbox[3], bbox[0] : bbox[2]]).astype(np.uint8)
    opacity = float((arrays.params.get("blend") or {}).get("opacity", 1.0))
    cast = shadow.cast(get_backend("cpu"), white, alpha * 255, bbox, box, params, size, opacity)
    dark = 255 - np.asarray(cast)[..., 0].astype(np.int16)
    region = np.zeros((h, w), bool)
    region[box[1] : box[3], box[0] : box[2]] = dark >= max(1, SHADOW_SHOWN * int(dark.max()))
    region &= ~shape
    return region[:, ::-1] if flipped else region


def render_view(arrays: SampleArrays, view: str, line: int = 1) -> np.ndarray:
    """The picture of ``view`` (RGB uint8 at the arrays' size); the image alone when the
    sample has no such label."""
    image = arrays.image
    if view == "face" and arrays.face is not None:
        return tint(image, arrays.face, FACE_COLOUR, STRENGTH)
    if view == "occlusion" and arrays.occlusion is not None:
        face = arrays.face if arrays.face is not None else np.zeros(image.shape[:2], bool)
        return overlay(image, face, arrays.occlusion, STRENGTH, line)
    if view == "classes" and arrays.labels is not None:
        labels = arrays.labels  # each labelled pixel towards its class's colour
        return tint(image, labels, palette()[labels[labels > 0]], STRENGTH)
    if view == "shadow":
        region = shadow_region(arrays)
        if region is not None:
            return tint(image, region, SHADOW_COLOUR, STRENGTH)
    return image
