"""Array namespaces for the engine's ops.

Ops are written once against a :class:`Backend`: ``be.xp`` is the array module (NumPy on CPU,
CuPy on CUDA) and the methods below are the few image filters that the array module lacks
(OpenCV on CPU). A CUDA backend provides the same methods.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from studio.core.errors import BackendError

Array = Any  # numpy.ndarray or cupy.ndarray


class CpuBackend:
    """NumPy arrays with OpenCV filters."""

    name = "cpu"
    xp = np

    def asarray(self, a: Array) -> np.ndarray:
        """Move ``a`` onto this backend."""
        return np.asarray(a)

    def to_numpy(self, a: Array) -> np.ndarray:
        """Bring ``a`` back to host memory."""
        return np.asarray(a)

    def gaussian_blur(self, image: Array, sigma: float) -> Array:
        """Gaussian blur with reflected borders; ``sigma <= 0`` returns the input."""
        if sigma <= 0:
            return image
        ksize = 2 * int(np.ceil(3.0 * sigma)) + 1
        return cv2.GaussianBlur(image, (ksize, ksize), sigma, borderType=cv2.BORDER_REFLECT_101)

    def warp_affine(
        self,
        image: Array,
        matrix: np.ndarray,
        size: tuple[int, int],
        *,
        linear: bool = True,
        replicate: bool = False,
    ) -> Array:
        """Warp ``image`` by the 2x3 forward ``matrix`` into an image of ``size`` = (w, h)."""
        return cv2.warpAffine(
            image,
            np.asarray(matrix, dtype=np.float64),
            size,
            flags=cv2.INTER_LINEAR if linear else cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT,
            borderValue=0,
        )

    def resize(self, image: Array, size: tuple[int, int], *, mode: str = "area") -> Array:
        """Resize to ``size`` = (w, h); ``mode`` is area, linear or nearest."""
        flags = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST}
        return cv2.resize(image, size, interpolation=flags[mode])

    def morph(self, mask: Array, radius: int, *, dilate: bool) -> Array:
        """Dilate or erode a uint8 mask with a disc of ``radius`` pixels."""
        if radius <= 0:
            return mask
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        op = cv2.dilate if dilate else cv2.erode
        return op(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)

    def over(self, face: Array, premultiplied: Array, alpha: Array) -> Array:
        """``face * (1 - alpha) + premultiplied`` on uint8 images (alpha HxW uint8, 255 = 1),
        rounded and saturated to uint8. Where alpha and premultiplied are 0 it returns face."""
        inverse = np.subtract(np.uint8(255), alpha)
        kept = cv2.multiply(face, cv2.merge([inverse, inverse, inverse]), scale=1.0 / 255.0)
        return cv2.add(kept, premultiplied)

    def add_u8(self, image: Array, delta: Array) -> Array:
        """``image + delta`` (uint8 + float32), rounded and saturated to uint8."""
        return cv2.add(image, delta, dtype=cv2.CV_8U)

    def scale_u8(self, image: Array, factor: float) -> Array:
        """``image * factor``, rounded and saturated to uint8."""
        return cv2.convertScaleAbs(image, alpha=float(factor))

    def fill_polygon(self, size: tuple[int, int], polygon: np.ndarray) -> Array:
        """Anti-aliased coverage (float32 in [0, 1]) of a closed polygon on a (w, h) canvas."""
        w, h = size
        ss = 4  # supersampling for an anti-aliased edge; labels threshold it at 0.5
        canvas = np.zeros((h * ss, w * ss), np.uint8)
        pts = np.round(np.asarray(polygon) * ss * 16).astype(np.int32)
        cv2.fillPoly(canvas, [pts], 255, lineType=cv2.LINE_8, shift=4)
        small = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
        return small.astype(np.float32) / 255.0

    def jpeg_roundtrip(self, image: Array, quality: int) -> Array:
        """Encode as JPEG at ``quality`` and decode again (RGB uint8 in and out)."""
        ok, buf = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:  # pragma: no cover - OpenCV fails only on invalid input
            raise BackendError("JPEG re-compression failed")
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


_BACKENDS: dict[str, Any] = {"cpu": CpuBackend()}


def get_backend(name: str = "cpu") -> CpuBackend:
    """Return the backend called ``name`` ("cpu", "cuda" or "auto")."""
    if name in ("cpu", "auto"):
        return _BACKENDS["cpu"]
    if name == "cuda":
        raise BackendError("the cuda backend is not available in this build (no CuPy/CUDA)")
    raise BackendError(f"unknown backend {name!r} (choose cpu, cuda or auto)")
