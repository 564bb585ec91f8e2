"""In-memory inputs of the engine: a face, an occluder, a texture.

They validate themselves on construction, so that a degenerate input fails with a clear
message before any rendering starts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import cv2
import numpy as np

from studio.core.model.errors import InputError
from studio.core.model.vocab import UpSide, values

MIN_FACE_SIDE = 16
MIN_OCCLUDER_SIDE = 4

Bbox = tuple[float, float, float, float]  # x0, y0, x1, y1 (x1, y1 exclusive)


def _as_rgb(image: np.ndarray, what: str, source: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(
            f"{what} must be an HxWx3 uint8 RGB array, got {image.dtype} {image.shape}", source
        )
    return np.ascontiguousarray(image)


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1), exclusive ends, of the non-zero pixels; None if empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        return None
    xs = np.flatnonzero(mask.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def content_key(*arrays: np.ndarray | None) -> str:
    """A short content hash of arrays, used as a cache key."""
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        if a is None:
            h.update(b"-")
            continue
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


@dataclass(eq=False)
class Face:
    """A face photo with its binary face (skin) mask.

    Parameters
    ----------
    image : HxWx3 uint8 RGB.
    mask : HxW, non-zero = face.
    id : stable identifier (relative path) recorded in the parameters.
    labels : optional HxW uint8 class map (face parsing); the occluder becomes one more class.
    scale : resolution of this image relative to the native one (a preview is < 1).
    bbox : face bbox at this resolution; computed from the mask when not given.
    """

    image: np.ndarray
    mask: np.ndarray
    id: str = "face"
    labels: np.ndarray | None = None
    scale: float = 1.0
    #: computed from the mask when not given (never None after construction)
    bbox: Bbox = None  # type: ignore[assignment]
    _key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.image = _as_rgb(self.image, "face image", self.id)
        h, w = self.image.shape[:2]
        if min(h, w) < MIN_FACE_SIDE:
            raise InputError(
                f"face image {w}x{h} is too small (at least {MIN_FACE_SIDE}x{MIN_FACE_SIDE})",
                self.id,
            )
        mask = np.asarray(self.mask)
        if mask.ndim == 3:
            mask = mask[:, :, 0]
        if mask.shape != (h, w):
            raise InputError(
                f"face mask {mask.shape[1]}x{mask.shape[0]} does not match image {w}x{h}", self.id
            )
        self.mask = np.ascontiguousarray(mask > 0)
        if self.labels is not None and np.asarray(self.labels).shape != (h, w):
            raise InputError("label map size does not match the face image", self.id)
        if self.bbox is None:
            box = mask_bbox(self.mask)
            if box is None:
                raise InputError("face mask is empty (no face pixels)", self.id)
            x0, y0, x1, y1 = (float(v) for v in box)
            self.bbox = (x0, y0, x1, y1)
        elif not self.mask.any():
            raise InputError("face mask is empty (no face pixels)", self.id)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the face bbox, in pixels."""
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0

    @property
    def bbox_area(self) -> float:
        x0, y0, x1, y1 = self.bbox
        return (x1 - x0) * (y1 - y0)

    @property
    def key(self) -> str:
        """Content hash of image, mask and labels (cached)."""
        if self._key is None:
            self._key = content_key(self.image, self.mask, self.labels)
        return self._key

    def resized(self, factor: float) -> Face:
        """This face at ``factor`` times its resolution (for previews), with an exact bbox."""
        w, h = self.size
        nw, nh = max(1, round(w * factor)), max(1, round(h * factor))
        fx, fy = nw / w, nh / h
        image = cv2.resize(self.image, (nw, nh), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(self.mask.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST)
        labels = (
            None
            if self.labels is None
            else cv2.resize(self.labels, (nw, nh), interpolation=cv2.INTER_NEAREST)
        )
        x0, y0, x1, y1 = self.bbox
        return Face(
            image, mask, self.id, labels, self.scale * fx, (x0 * fx, y0 * fy, x1 * fx, y1 * fy)
        )


@dataclass(eq=False)
class Occluder:
    """An occluder cut-out: RGB plus its shape alpha, cropped to the alpha's bbox.

    Parameters
    ----------
    image : HxWx3 uint8 RGB.
    alpha : HxW uint8 shape alpha (0..255); pixels with alpha >= 128 are the occluder.
    id : stable identifier recorded in the parameters.
    kind : "hand", "object", "shape" or "other".
    up : which side of the image is the occluder's "up" (fingers of a hand):
        "up", "down", "left" or "right"; used by point-at-face rotation.
    """

    image: np.ndarray
    alpha: np.ndarray
    id: str = "occluder"
    kind: str = "object"
    up: str = "up"
    _key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.image = _as_rgb(self.image, "occluder image", self.id)
        alpha = np.asarray(self.alpha)
        if alpha.ndim == 3:
            alpha = alpha[:, :, 0]
        if alpha.shape != self.image.shape[:2]:
            raise InputError(
                f"occluder mask {alpha.shape[1]}x{alpha.shape[0]} does not match image "
                f"{self.image.shape[1]}x{self.image.shape[0]}",
                self.id,
            )
        if alpha.dtype == bool:
            alpha = alpha.astype(np.uint8) * 255
        elif alpha.dtype != np.uint8:
            alpha = np.clip(np.asarray(alpha, np.float64) * 255.0, 0, 255).astype(np.uint8)
        if self.up not in values(UpSide):
            raise InputError(f"occluder 'up' must be up/down/left/right, got {self.up!r}", self.id)
        box = mask_bbox(alpha >= 128)
        if box is None:
            raise InputError("occluder mask is empty (nothing to paste)", self.id)
        x0, y0, x1, y1 = box
        if min(x1 - x0, y1 - y0) < MIN_OCCLUDER_SIDE:
            raise InputError(
                f"occluder is too small ({x1 - x0}x{y1 - y0} px; at least "
                f"{MIN_OCCLUDER_SIDE}x{MIN_OCCLUDER_SIDE})",
                self.id,
            )
        self.image = np.ascontiguousarray(self.image[y0:y1, x0:x1])
        self.alpha = np.ascontiguousarray(alpha[y0:y1, x0:x1])

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = content_key(self.image, self.alpha) + self.up
        return self._key


@dataclass(eq=False)
class Texture:
    """A texture image used to fill RandOcc shapes."""

    image: np.ndarray
    id: str = "texture"
    _key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.image = _as_rgb(self.image, "texture image", self.id)
        if min(self.image.shape[:2]) < 2:
            raise InputError("texture image is too small (at least 2x2)", self.id)

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = content_key(self.image)
        return self._key
