"""Array namespaces for the engine's ops.

Ops are written once against a backend: ``be.xp`` is the array module (NumPy on CPU, CuPy on
CUDA) and the methods below are the few image filters that the array module lacks.

- :class:`CpuBackend`: NumPy arrays, OpenCV filters. The reference implementation.
- :class:`NdimageBackend`: the same filters written against ``xp`` and a ``scipy.ndimage``-like
  module ``ndi`` (separable Gaussian, affine resampling, resize by weight matrices, grey
  morphology). :class:`CudaBackend` is this with ``xp = cupy`` and ``ndi = cupyx.scipy.ndimage``;
  the tests run the very same methods with ``xp = numpy`` and ``ndi = scipy.ndimage``.

Why CUDA and CPU results differ slightly (and how parity is judged)
------------------------------------------------------------------
The ndimage filters follow OpenCV's sampling rules (same kernels and radii, same half-pixel
resize grids, and warp source coordinates quantised to OpenCV's 1/32 pixel), but OpenCV
computes 8-bit Gaussian blurs, resizes and warps in fixed point (8 to 15 fractional bits) while
the ndimage filters compute in float32 and round once; GPUs also fuse multiply-adds. Colours
therefore differ by at most one grey level on some pixels. The shape alpha is warped in float32
by both, so it differs only by float rounding, which can flip the ``alpha >= 0.5`` label rule
only on pixels whose alpha is within ~1e-6 of 0.5: pixels on the label boundary. The parity
test (tests/core/test_backend_parity.py) therefore accepts ``|cuda - cpu| <= 1`` on 99.9% of
pixels and mask differences only on the label boundary, on at most 0.1% of pixels. Polygons
(RandOcc shapes) are rasterised on the host with OpenCV for every backend, so shapes are
identical; SOT's working grid is read from exact integer box sums (the same on every
backend), it draws its random numbers on the host and ranks by 16-bit keys with stable sorts,
so the projections and their ranks are the same on every backend up to float32 rounding of
the projections (a product may round differently on the GPU). Harmonisation
(studio/core/engine/harmonize.py) measures the placed occluder, so its estimates differ in the last
digits between backends; its noise is a window of a fixed table of normal numbers (made on
the host, uploaded once) at an offset drawn from the seed, so it is the same numbers
everywhere. The ``lighting`` colour method runs after the warp and scales colours by
up to 2x, so it can turn a 1-level warp difference into 2 levels: with it the test accepts
``|cuda - cpu| <= 2`` on 99.9% of pixels. Re-encoding the occluder at the photo's JPEG quality
(``harmonize.compression``) runs OpenCV's codec on the host for every backend, but a 1-level
difference in what it is given can move a quantised coefficient and with it an 8x8 block: with
it the test accepts the rule on 99% of the pixel values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from studio.core.model.errors import BackendError
from studio.core.model.vocab import BackendName, values
from studio.core.ops.resample import area_up_weights, area_weights, linear_weights, nearest_index

Array = Any  # numpy.ndarray or cupy.ndarray


AB_SCALE = 1024  # OpenCV warpAffine: source coordinates in fixed point with 10 fractional bits
TAB_SIZE = 32  # ... and bilinear weights tabulated at 1/32 pixel


class Backend(Protocol):
    """What the ops need from a backend."""

    name: str
    device: str  #: what it runs on, for people ("cpu", a GPU's name)
    on_host: bool  #: arrays are host NumPy arrays (nothing to upload or download)
    xp: Any

    @property
    def host(self) -> Backend: ...
    def host_only(self, fn: Callable[..., Any], *arrays: Array | None) -> Any: ...
    def asarray(self, a: Array) -> Array: ...
    def to_numpy(self, a: Array) -> np.ndarray: ...
    def gaussian_blur(self, image: Array, sigma: float, *, floats: bool = False) -> Array: ...
    def warp_affine(
        self,
        image: Array,
        matrix: np.ndarray,
        size: tuple[int, int],
        *,
        linear: bool = True,
        replicate: bool = False,
    ) -> Array: ...
    def resize(self, image: Array, size: tuple[int, int], *, mode: str = "area") -> Array: ...
    def morph(self, mask: Array, radius: int, *, dilate: bool) -> Array: ...
    def mix(self, image: Array, matrix: np.ndarray) -> Array: ...
    def gain(self, image: Array, factor: Array, *, out: Array | None = None) -> Array: ...
    def premultiply_u8(
        self, colours: Array, alpha: Array, noise: Array | None = None
    ) -> Array: ...
    def over(self, face: Array, premultiplied: Array | None, alpha: Array) -> Array: ...
    def add_u8(self, image: Array, delta: Array) -> Array: ...
    def scale_u8(self, image: Array, factor: float) -> Array: ...
    def integral(self, image: Array) -> Array: ...


def blur_radius(sigma: float) -> int:
    """Kernel half-width used for a Gaussian of ``sigma`` (OpenCV ksize = 2 * radius + 1)."""
    return int(np.ceil(3.0 * sigma))


def disc(radius: int) -> np.ndarray:
    """The elliptic structuring element of ``radius`` (OpenCV's MORPH_ELLIPSE), uint8 0/1."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def polygon_coverage(size: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage (float32 in [0, 1], host) of a closed polygon on a (w, h) canvas."""
    w, h = size
    ss = 4  # supersampling for an anti-aliased edge; labels threshold it at 0.5
    canvas = np.zeros((h * ss, w * ss), np.uint8)
    pts = np.round(np.asarray(polygon) * ss * 16).astype(np.int32)
    cv2.fillPoly(canvas, [pts], 255, lineType=cv2.LINE_8, shift=4)
    small = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


def jpeg_roundtrip_host(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG at ``quality`` and decode again (RGB uint8 in and out, host)."""
    ok, buf = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV fails only on invalid input
        raise BackendError("JPEG re-compression failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:  # pragma: no cover - its own encoding always decodes
        raise BackendError("JPEG re-compression failed")
    return decoded[:, :, ::-1].copy()


class CpuBackend:
    """NumPy arrays with OpenCV filters."""

    name = "cpu"
    device = "cpu"
    on_host = True  #: arrays are host NumPy arrays: nothing to upload or download
    xp = np

    @property
    def host(self) -> CpuBackend:
        """The backend of the host-only steps: this one."""
        return self

    def host_only(self, fn: Callable[..., Any], *arrays: Array | None) -> Any:
        """Run ``fn(host backend, *arrays)``: here, as it is."""
        return fn(self, *arrays)

    def asarray(self, a: Array) -> np.ndarray:
        """Move ``a`` onto this backend."""
        return np.asarray(a)

    def to_numpy(self, a: Array) -> np.ndarray:
        """Bring ``a`` back to host memory."""
        return np.asarray(a)

    def gaussian_blur(self, image: Array, sigma: float, *, floats: bool = False) -> Array:
        """Gaussian blur with reflected borders; ``sigma <= 0`` returns the input. With
        ``floats`` the result is float32 whatever the input (an 8-bit image is filtered
        straight into floats, without rounding and without a float copy of it)."""
        if sigma <= 0:
            return image.astype(np.float32) if floats else image
        ksize = 2 * blur_radius(sigma) + 1
        if floats and image.dtype != np.float32:
            k = cv2.getGaussianKernel(ksize, sigma, cv2.CV_32F)
            return cv2.sepFilter2D(image, cv2.CV_32F, k, k, borderType=cv2.BORDER_REFLECT_101)
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
        op = cv2.dilate if dilate else cv2.erode
        return op(mask, disc(radius), borderType=cv2.BORDER_CONSTANT, borderValue=0)

    def mix(self, image: Array, matrix: np.ndarray) -> Array:
        """Per-pixel linear map of the channels, in float32: ``out[..., i] = sum_j
        matrix[i, j] * image[..., j]`` for a (k, c) ``matrix`` on an HxWxc ``image``
        (HxWxk; HxW when k is 1) or on N x c pixels (N x k). One pass (OpenCV's
        ``transform``)."""
        src = image if image.dtype == np.float32 else image.astype(np.float32)
        if src.ndim == 2:  # pixels in rows
            out = self.mix(src.reshape(src.shape[0], 1, src.shape[1]), matrix)
            return out.reshape(src.shape[0], -1)
        m = np.asarray(matrix, np.float32)
        if m.shape[1] == 1 and m.shape[0] > 1:  # one plane scaled into several: OpenCV's
            plane = src[..., 0]  # transform takes a slow path for a single input channel
            return cv2.merge([plane * w for w in m[:, 0]])
        if src.strides[-1] != 4 or src.strides[-2] != 4 * src.shape[-1]:
            src = np.ascontiguousarray(src)  # OpenCV wants whole pixels side by side
        return cv2.transform(src, m)

    def gain(self, image: Array, factor: Array, *, out: Array | None = None) -> Array:
        """``image * factor`` for an HxWx3 image and an HxW float32 ``factor``, in the image's
        dtype (uint8 rounded and saturated), into ``out`` when given (it may be ``image``).
        NumPy broadcasts a trailing axis of 3 slowly; OpenCV multiplies whole pixels."""
        f3 = cv2.merge([factor, factor, factor])
        if image.dtype == np.uint8:
            return cv2.multiply(image, f3, dst=out, dtype=cv2.CV_8U)
        return cv2.multiply(image, f3.astype(image.dtype, copy=False), dst=out)

    def premultiply_u8(
        self, colours: Array, alpha: Array, noise: Array | None = None
    ) -> Array:
        """Straight float32 ``colours`` (HxWx3, any range), plus ``noise`` (the same, or
        None), rounded to uint8 (saturated), then multiplied by ``alpha / 255`` (HxW uint8)
        and rounded again: within [0, alpha]. Where alpha is 0 or 255 (all but a shape's
        anti-aliased edge) that is one exact rounding."""
        other = np.zeros(4) if noise is None else noise  # a scalar 0: round, saturate
        rounded = cv2.add(colours, other, dtype=cv2.CV_8U)
        return cv2.multiply(rounded, cv2.merge([alpha, alpha, alpha]), scale=1.0 / 255.0)

    def over(self, face: Array, premultiplied: Array | None, alpha: Array) -> Array:
        """``face * (1 - alpha) + premultiplied`` on uint8 images (alpha HxW uint8, 255 = 1),
        rounded and saturated to uint8 (None: black). Where alpha and premultiplied are 0 it
        returns face."""
        inverse = np.subtract(np.uint8(255), alpha)
        kept = cv2.multiply(face, cv2.merge([inverse, inverse, inverse]), scale=1.0 / 255.0)
        return kept if premultiplied is None else cv2.add(kept, premultiplied)

    def add_u8(self, image: Array, delta: Array) -> Array:
        """``image + delta`` (uint8 + float32), rounded and saturated to uint8."""
        return cv2.add(image, delta, dtype=cv2.CV_8U)

    def scale_u8(self, image: Array, factor: float) -> Array:
        """``image * factor``, rounded and saturated to uint8."""
        return cv2.convertScaleAbs(image, alpha=float(factor))

    def integral(self, image: Array) -> Array:
        """Summed-area table of a uint8 HxW(xC) image: ``out[y, x]`` is the sum of
        ``image[:y, :x]`` ((H+1)x(W+1)(xC); int32 while no sum can overflow it, else
        float64, exact either way)."""
        h, w = image.shape[:2]
        depth = cv2.CV_32S if 255 * h * w < 2**31 else cv2.CV_64F
        return cv2.integral(image, sdepth=depth)


class NdimageBackend:
    """The filters written once against an array module ``xp`` and an ndimage module ``ndi``.

    Subclasses set ``xp``, ``ndi`` and the transfer methods. Images are filtered in float32 and
    rounded once back to their integer dtype (see the module docstring on parity).
    """

    name = "ndimage"
    device = "host"
    on_host = False  #: arrays are treated as device arrays (uploaded, downloaded)
    xp: Any = np
    ndi: Any = None

    @property
    def host(self) -> CpuBackend:
        """The backend of the host-only steps (JPEG, Lab conversion, polygon fill)."""
        return _BACKENDS["cpu"]

    def host_only(self, fn: Callable[..., Any], *arrays: Array | None) -> Any:
        """Run ``fn(host backend, *arrays)`` on the host: the arrays are downloaded, and the
        array (or each array of a tuple) it returns is uploaded. The one way a host-only step
        (OpenCV's JPEG codec and Lab conversion) runs inside a device render."""
        out = fn(self.host, *(None if a is None else self.to_numpy(a) for a in arrays))
        if isinstance(out, tuple):
            return tuple(self.asarray(o) if isinstance(o, np.ndarray) else o for o in out)
        return self.asarray(out) if isinstance(out, np.ndarray) else out

    def asarray(self, a: Array) -> Array:
        return self.xp.asarray(a)

    def to_numpy(self, a: Array) -> np.ndarray:
        return np.asarray(a)

    def _like(self, out: Array, dtype: Any) -> Array:
        """``out`` (float) in ``dtype``: integers are rounded and clipped to their range."""
        xp = self.xp
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            return xp.clip(xp.rint(out), info.min, info.max).astype(dtype)
        return out.astype(dtype, copy=False)

    def gaussian_blur(self, image: Array, sigma: float, *, floats: bool = False) -> Array:
        """Gaussian blur of the two image axes, reflect-101 borders (ndimage ``mirror``),
        truncated at OpenCV's radius; two 1-D passes (available in every CuPy version).
        ``floats``: as :meth:`CpuBackend.gaussian_blur`."""
        if sigma <= 0:
            return image.astype(self.xp.float32) if floats else image
        truncate = blur_radius(sigma) / sigma
        out = image.astype(self.xp.float32)
        for axis in (0, 1):
            out = self.ndi.gaussian_filter1d(
                out, sigma, axis=axis, mode="mirror", truncate=truncate
            )
        return out if floats else self._like(out, image.dtype)

    def warp_affine(
        self,
        image: Array,
        matrix: np.ndarray,
        size: tuple[int, int],
        *,
        linear: bool = True,
        replicate: bool = False,
    ) -> Array:
        """Warp by the 2x3 forward ``matrix`` into (w, h).

        Each output pixel pulls from the inverse-mapped source point. The source coordinates
        are quantised like OpenCV's ``warpAffine`` (fixed point with 10 fractional bits, then
        1/32 pixel for bilinear, whole pixels for nearest), so both backends sample the same
        points; ``grid-constant`` is OpenCV's constant border, ``nearest`` its replicate.
        """
        xp = self.xp
        inverse = np.linalg.inv(np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]]))
        w, h = size
        xs = xp.arange(w, dtype=xp.float64)[None, :]
        ys = xp.arange(h, dtype=xp.float64)[:, None]
        coords = []
        for row in inverse[:2].tolist():  # source x, then source y, in 1/1024 pixel
            fixed = xp.rint(row[0] * xs * AB_SCALE) + xp.rint((row[1] * ys + row[2]) * AB_SCALE)
            if linear:
                coords.append(
                    xp.floor((fixed + AB_SCALE // TAB_SIZE // 2) / (AB_SCALE // TAB_SIZE))
                )
            else:
                coords.append(xp.floor((fixed + AB_SCALE // 2) / AB_SCALE))
        step = TAB_SIZE if linear else 1
        # ndimage wants (row, col) = (y, x) coordinates
        grid = xp.stack([coords[1] / step, coords[0] / step]).astype(xp.float32)
        src = image.astype(xp.float32)
        kwargs = {
            "order": 1 if linear else 0,
            "mode": "nearest" if replicate else "grid-constant",
            "cval": 0.0,
            "prefilter": False,
        }
        if src.ndim == 2:
            out = self.ndi.map_coordinates(src, grid, **kwargs)
        else:
            channels = [
                self.ndi.map_coordinates(src[..., c], grid, **kwargs) for c in range(src.shape[2])
            ]
            out = xp.stack(channels, axis=-1)
        return self._like(out, image.dtype)

    def resize(self, image: Array, size: tuple[int, int], *, mode: str = "area") -> Array:
        """Resize to (w, h) with OpenCV's rules: ``area`` averages the exact box overlaps when
        shrinking (and is OpenCV's sharpened bilinear when enlarging), ``linear`` is half-pixel
        bilinear with replicated edges, ``nearest`` takes floor(dst * scale). Separable: one
        weight matrix per axis, applied as matrix products on the device."""
        xp = self.xp
        w, h = size
        src_h, src_w = image.shape[:2]
        if mode == "nearest":
            rows = self.asarray(nearest_index(src_h, h))
            cols = self.asarray(nearest_index(src_w, w))
            return image[rows][:, cols]
        if mode == "area" and w <= src_w and h <= src_h:
            wy, wx = area_weights(src_h, h), area_weights(src_w, w)
        elif mode == "area":
            wy, wx = area_up_weights(src_h, h), area_up_weights(src_w, w)
        elif mode == "linear":
            wy, wx = linear_weights(src_h, h), linear_weights(src_w, w)
        else:
            raise ValueError(f"unknown resize mode {mode!r}")
        wy = self.asarray(wy.astype(np.float32))
        wx_t = self.asarray(wx.T.astype(np.float32))
        src = image.astype(xp.float32)
        if src.ndim == 3:
            out = xp.moveaxis(wy @ xp.moveaxis(src, 2, 0) @ wx_t, 0, 2)
        else:
            out = wy @ src @ wx_t
        return self._like(xp.ascontiguousarray(out), image.dtype)

    def morph(self, mask: Array, radius: int, *, dilate: bool) -> Array:
        """Dilate or erode a uint8 mask with a disc; zeros beyond the border (exact)."""
        if radius <= 0:
            return mask
        footprints = self.__dict__.setdefault("_footprints", {})  # uploaded once per radius
        if radius not in footprints:
            footprints[radius] = self.asarray(disc(radius).astype(bool))
        op = self.ndi.grey_dilation if dilate else self.ndi.grey_erosion
        return op(mask, footprint=footprints[radius], mode="constant", cval=0)

    def mix(self, image: Array, matrix: np.ndarray) -> Array:
        """As :meth:`CpuBackend.mix`: a matrix product over the channel axis."""
        xp = self.xp
        m = self.asarray(np.ascontiguousarray(np.asarray(matrix, np.float32).T))
        out = xp.matmul(image.astype(xp.float32, copy=False), m)
        return out[..., 0] if out.shape[-1] == 1 else out

    def gain(self, image: Array, factor: Array, *, out: Array | None = None) -> Array:
        """As :meth:`CpuBackend.gain`."""
        result = self._like(image.astype(self.xp.float32) * factor[..., None], image.dtype)
        if out is None:
            return result
        out[...] = result
        return out

    def premultiply_u8(
        self, colours: Array, alpha: Array, noise: Array | None = None
    ) -> Array:
        """As :meth:`CpuBackend.premultiply_u8`."""
        xp = self.xp
        total = colours if noise is None else colours + noise
        rounded = xp.clip(xp.rint(total), np.float32(0.0), np.float32(255.0))
        a = alpha.astype(xp.float32) * np.float32(1 / 255)
        return xp.rint(rounded * a[..., None]).astype(xp.uint8)

    def over(self, face: Array, premultiplied: Array | None, alpha: Array) -> Array:
        """As :meth:`CpuBackend.over`: each term rounded half to even, then saturated."""
        xp = self.xp
        kept = xp.rint(face * ((255 - alpha).astype(xp.float32) * np.float32(1 / 255))[..., None])
        if premultiplied is not None:
            kept = kept + premultiplied
        return xp.minimum(kept, 255).astype(xp.uint8)

    def add_u8(self, image: Array, delta: Array) -> Array:
        xp = self.xp
        return xp.clip(xp.rint(image.astype(xp.float32) + delta), 0, 255).astype(xp.uint8)

    def scale_u8(self, image: Array, factor: float) -> Array:
        xp = self.xp
        return xp.clip(xp.rint(image * np.float32(factor)), 0, 255).astype(xp.uint8)

    def integral(self, image: Array) -> Array:
        """As :meth:`CpuBackend.integral` (int64 sums: exact)."""
        xp = self.xp
        sums = xp.cumsum(xp.cumsum(image, axis=0, dtype=xp.int64), axis=1)
        pad = ((1, 0), (1, 0)) + ((0, 0),) * (image.ndim - 2)
        return xp.pad(sums, pad)


class CudaBackend(NdimageBackend):
    """CuPy arrays on the current CUDA device, cupyx.scipy.ndimage filters."""

    name = "cuda"

    def __init__(self) -> None:
        import cupy
        import cupyx.scipy.ndimage

        self.xp = cupy
        self.ndi = cupyx.scipy.ndimage
        self.device = cuda_device_name()

    def asarray(self, a: Array) -> Array:
        return self.xp.asarray(a)

    def to_numpy(self, a: Array) -> np.ndarray:
        return self.xp.asnumpy(a)


@functools.cache
def cuda_device_name() -> str:
    """Name of CUDA device 0 after running a tiny kernel on it; BackendError when unusable."""
    try:
        import cupy
    except ImportError as err:
        raise BackendError(
            "the cuda backend needs CuPy and a CUDA GPU: CuPy is not installed "
            "(pip install -e .[gpu])"
        ) from err
    except Exception as err:  # a broken CUDA install can fail in many ways at import
        raise BackendError(f"the cuda backend needs CuPy: importing it failed ({err})") from err
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise BackendError("the cuda backend needs a CUDA GPU: none was found")
        props = cupy.cuda.runtime.getDeviceProperties(0)
        probe = cupy.arange(8, dtype=cupy.float32) * 2
        if float(probe.sum()) != 56.0:
            raise BackendError("the cuda backend failed its self-test on the GPU")
    except BackendError:
        raise
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BackendError(f"the cuda backend needs a usable CUDA GPU: {first}") from err
    name = props.get("name", b"CUDA device")
    return name.decode() if isinstance(name, bytes) else str(name)


def cuda_available() -> bool:
    """True when CuPy imports, reports a device and runs a tiny kernel."""
    try:
        cuda_device_name()
    except BackendError:
        return False
    return True


_BACKENDS: dict[str, Any] = {"cpu": CpuBackend()}


def get_backend(name: str | Backend = "cpu") -> Backend:
    """Return the backend called ``name`` (a backend object is returned as is).

    "cpu" is NumPy + OpenCV; "cuda" is CuPy (BackendError with the reason when there is no
    usable GPU); "auto" is "cuda" when a GPU works and "cpu" otherwise, silently.
    """
    if not isinstance(name, str):
        return name
    if name == "cpu":
        return _BACKENDS["cpu"]
    if name == "auto":
        return get_backend("cuda") if cuda_available() else _BACKENDS["cpu"]
    if name == "cuda":
        if "cuda" not in _BACKENDS:
            cuda_device_name()  # raises BackendError with the reason
            _BACKENDS["cuda"] = CudaBackend()
        return _BACKENDS["cuda"]
    raise BackendError(f"unknown backend {name!r} (choose {', '.join(values(BackendName))})")
