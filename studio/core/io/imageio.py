"""The one image and mask reader of the project.

Everything that reads an image from disk goes through :func:`read_image` or :func:`read_mask`:

- the format is sniffed from the content (a PNG named ``.jpg`` loads), not from the extension;
- EXIF orientation is applied; greyscale, palette, CMYK and 16-bit images become 8-bit RGB;
  RGBA (and palette transparency) keeps its alpha when asked;
- a decompression-bomb guard checks the pixel count from the header, before decoding;
- every failure is an :class:`~studio.core.model.errors.InputError` with the path and a human reason
  ("0-byte file", "truncated JPEG", "not an image", "mask 512x512 does not match image ...").

Pillow reads the header, EXIF and the odd modes; it also decodes, because it reports truncated
and damaged files (OpenCV's decoder silently fills a truncated JPEG with grey).
"""

from __future__ import annotations

import io
import os
import threading
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from studio.core.model.errors import InputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

# Pillow warns (on stderr) about damaged TIFF tags and the like; damaged files are reported
# as one InputError line instead.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

#: Default decompression-bomb limit in pixels (64 MP); ``STUDIO_MAX_PIXELS`` overrides it.
DEFAULT_MAX_PIXELS = 64_000_000
EXIF_ORIENTATION = 0x0112


def max_pixels_limit() -> int:
    """The pixel limit in force: ``STUDIO_MAX_PIXELS`` from the environment, or 64 MP."""
    value = os.environ.get("STUDIO_MAX_PIXELS", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_PIXELS


def is_image_name(name: str) -> bool:
    """True when ``name`` has one of the image extensions (case-insensitive)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


@dataclass(frozen=True)
class ImageInfo:
    """What the header says: size, format and mode (nothing is decoded)."""

    width: int
    height: int
    format: str
    mode: str
    has_alpha: bool = False  #: an alpha channel or palette transparency


_PILLOW_LIMIT_LOCK = threading.Lock()


class Encoded:
    """The bytes of an image file read already (by an export folder, with its checks), with
    the name its errors give; decoded like a file by :func:`decode_image` and
    :func:`decode_mask`."""

    def __init__(self, data: bytes, name: str | Path) -> None:
        self.data, self.name = data, Path(name)

    def __str__(self) -> str:
        return str(self.name)

    def __fspath__(self) -> str:  # errors name the file the bytes came from
        return str(self.name)


Source = Path | Encoded  #: what the decoders read: a file, or its bytes


def _source(path: str | Path | Encoded) -> Source:
    return path if isinstance(path, Encoded) else Path(path)


def _read_all(path: Source) -> bytes:
    return path.data if isinstance(path, Encoded) else path.read_bytes()


def _open_without_pillow_limit(path: Source) -> Image.Image:
    """``Image.open`` with Pillow's own pixel limit off: ours, configurable, is checked right
    after from the same header (Pillow's fixed 89 MP limit would override a higher one)."""
    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(io.BytesIO(path.data) if isinstance(path, Encoded) else path)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _check_file(path: Path) -> None:
    """A file to decode: a regular file, not empty (the reason names what it is instead)."""
    if path.is_symlink() and not path.exists():
        raise InputError("symlink to nowhere", path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as err:
        raise InputError("file not found", path) from err
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path) from err
    if not path.is_file():
        raise InputError("not a file", path)
    if size == 0:
        raise InputError("0-byte file", path)


def _open(path: Source, max_pixels: int | None) -> Image.Image:
    """Open ``path`` lazily (header only) and apply the pixel guard."""
    limit = max_pixels_limit() if max_pixels is None else max_pixels
    if isinstance(path, Encoded):
        if not path.data:
            raise InputError("0-byte file", path)
    else:
        _check_file(path)
    try:
        image = _open_without_pillow_limit(path)
    except Image.DecompressionBombError as err:
        raise InputError(
            f"image is over the decompression-bomb limit of {limit:,} pixels", path
        ) from err
    except UnidentifiedImageError as err:
        fmt = _magic_format(path)
        reason = f"damaged {fmt} (the header cannot be read)" if fmt else "not an image"
        raise InputError(reason, path) from err
    except (SyntaxError, ValueError, EOFError) as err:
        raise InputError(f"damaged image ({err})", path) from err
    except OSError as err:
        if "truncated" in str(err).lower():
            raise InputError(f"truncated {_magic_format(path) or 'image'}", path) from err
        raise InputError(f"cannot read: {err.strerror or err}", path) from err
    w, h = image.size
    if w * h > limit:
        image.close()
        raise InputError(
            f"image {w}x{h} ({w * h:,} pixels) is over the decompression-bomb limit of "
            f"{limit:,} pixels (set STUDIO_MAX_PIXELS to raise it)",
            path,
        )
    if w < 1 or h < 1:
        image.close()
        raise InputError(f"image has no pixels ({w}x{h})", path)
    return image


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"RIFF", "WEBP"),
    (b"GIF8", "GIF"),
)


def _magic_format(path: Source) -> str | None:
    """Format named by the first bytes of the file (for error messages)."""
    if isinstance(path, Encoded):
        head = path.data[:8]
        return next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def _png_crc_error(path: Source) -> str | None:
    """Name of the first PNG chunk whose CRC is wrong (Pillow checks only the header's)."""
    return _png_chunks(_read_all(path))[0]


def _png_chunks(data: bytes) -> tuple[str | None, bool, bool]:
    """(name of the first chunk with a wrong CRC or None, whether IEND was reached, whether
    an eXIf chunk is there)."""
    pos, exif = 8, False
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        end = pos + 8 + length
        if end + 4 > len(data):
            return None, False, exif  # truncation is reported by the decoder
        kind = data[pos + 4 : pos + 8]
        if zlib.crc32(data[pos + 4 : end]) != int.from_bytes(data[end : end + 4], "big"):
            return kind.decode("latin-1"), False, exif
        if kind == b"IEND":
            return None, True, exif
        exif = exif or kind == b"eXIf"
        pos = end + 4
    return None, False, exif


def probe(path: str | Path, *, max_pixels: int | None = None) -> ImageInfo:
    """Size, format and mode from the header alone (no decoding)."""
    image = _open(_source(path), max_pixels)
    try:
        alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
        return ImageInfo(image.size[0], image.size[1], image.format or "?", image.mode, alpha)
    finally:
        image.close()


def _decode(path: Source, max_pixels: int | None, draft: int | None = None) -> Image.Image:
    """Open, guard, decode fully and apply EXIF orientation; with ``draft`` a JPEG is decoded
    at the smallest DCT scale (1/2, 1/4, 1/8) that keeps both sides >= ``draft``."""
    image = _open(path, max_pixels)
    fmt = image.format or "image"
    if draft is not None and fmt == "JPEG":
        image.draft(image.mode, (draft, draft))
    if fmt == "PNG":
        chunk = _png_crc_error(path)
        if chunk is not None:
            image.close()
            raise InputError(f"damaged PNG (CRC error in {chunk} chunk)", path)
    try:
        image.load()
        if image.getexif().get(EXIF_ORIENTATION, 1) in (1, None):
            return image  # exif_transpose would copy the pixels for nothing
        return ImageOps.exif_transpose(image) or image
    except OSError as err:
        text = str(err)
        if "truncated" in text.lower():
            raise InputError(f"truncated {fmt}", path) from err
        if "crc" in text.lower() or "checksum" in text.lower():
            raise InputError(f"damaged {fmt} (checksum error)", path) from err
        raise InputError(f"damaged {fmt} ({text})", path) from err
    except (SyntaxError, ValueError, EOFError, MemoryError) as err:
        text = str(err)
        if "crc" in text.lower() or "checksum" in text.lower():
            raise InputError(f"damaged {fmt} (checksum error)", path) from err
        raise InputError(f"damaged {fmt} ({text or type(err).__name__})", path) from err


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Scale 16-bit, 32-bit integer or float samples to uint8."""
    if values.dtype == np.uint8:
        return values
    if values.dtype == bool:
        return values.astype(np.uint8) * 255
    if np.issubdtype(values.dtype, np.floating):
        top = float(np.nanmax(values)) if values.size else 0.0
        scale = 255.0 if top <= 1.0 else 255.0 / max(top, 1e-12)
        return np.clip(np.nan_to_num(values) * scale + 0.5, 0, 255).astype(np.uint8)
    top = int(values.max()) if values.size else 0
    full = 255 if top <= 255 else 65535 if top <= 65535 else int(np.iinfo(values.dtype).max)
    return np.clip(values.astype(np.float64) * (255.0 / full) + 0.5, 0, 255).astype(np.uint8)


def _pil_to_array(image: Image.Image, keep_alpha: bool) -> np.ndarray:
    """RGB (or RGBA) uint8 array from any Pillow mode."""
    mode = image.mode
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if mode.startswith(("I", "F")):
        grey = _to_uint8(np.asarray(image))
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    target = "RGBA" if keep_alpha and has_alpha else "RGB"
    if mode != target:
        image = image.convert(target)
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def _jpeg_is_complete(data: bytes) -> bool:
    """An end-of-image marker follows the last start-of-scan. Entropy-coded data never holds
    0xFFD9 (0xFF is byte-stuffed), so a truncated JPEG has no EOI after its last scan."""
    return data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda") >= 0


def _fast_jpeg(path: Source, image: Image.Image) -> np.ndarray | None:
    """Decode a complete, upright RGB or greyscale JPEG with OpenCV (about twice as fast as
    Pillow); None when Pillow's slower, more careful path is needed."""
    if image.format != "JPEG" or image.mode not in ("RGB", "L"):
        return None
    if image.getexif().get(EXIF_ORIENTATION, 1) not in (1, None):
        return None
    data = _read_all(path)
    if not _jpeg_is_complete(data):
        return None  # Pillow names the fault
    flag = cv2.IMREAD_COLOR_RGB if image.mode == "RGB" else cv2.IMREAD_GRAYSCALE
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flag | cv2.IMREAD_IGNORE_ORIENTATION)
    if decoded is None or decoded.shape[:2] != (image.size[1], image.size[0]):
        return None
    return decoded if decoded.ndim == 3 else cv2.cvtColor(decoded, cv2.COLOR_GRAY2RGB)


def _fast_path(
    path: Source, max_pixels: int | None, decode: Callable[[Source, Image.Image], np.ndarray | None]
) -> np.ndarray | None:
    """The header checks (guard, sizes), then ``decode``'s OpenCV fast path, or None for
    Pillow's careful path."""
    header = _open(path, max_pixels)
    try:
        return decode(path, header)
    finally:
        header.close()


def read_image(
    path: str | Path | Encoded, *, keep_alpha: bool = False, max_pixels: int | None = None
) -> np.ndarray:
    """Read an image as HxWx3 RGB uint8 (HxWx4 RGBA when ``keep_alpha`` and it has alpha).

    Parameters
    ----------
    path : image file; the format is sniffed from its content.
    keep_alpha : return RGBA when the file has an alpha channel or palette transparency.
    max_pixels : decompression-bomb limit checked from the header (default: 64 MP or
        ``STUDIO_MAX_PIXELS``).

    Raises
    ------
    InputError : with the path and a human reason.
    """
    path = _source(path)
    fast = _fast_path(path, max_pixels, _fast_jpeg)
    if fast is not None:
        return fast
    image = _decode(path, max_pixels)
    try:
        return _pil_to_array(image, keep_alpha)
    except (OSError, ValueError) as err:
        raise InputError(f"unsupported image mode {image.mode} ({err})", path) from err
    finally:
        image.close()


def _fast_grey_png(path: Source, image: Image.Image) -> np.ndarray | None:
    """Decode a complete, undamaged greyscale PNG mask with OpenCV (several times faster than
    Pillow); None when Pillow's path is needed (other modes, EXIF, damage, truncation)."""
    if image.format != "PNG" or image.mode not in ("L", "I;16", "I;16B", "I"):
        return None
    data = _read_all(path)
    damaged, complete, exif = _png_chunks(data)
    if damaged is not None or not complete or exif:
        return None  # Pillow names the fault (or applies the EXIF orientation)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.ndim != 2 or decoded.shape != (image.size[1], image.size[0]):
        return None
    return decoded
def read_thumbnail(
    path: str | Path | Encoded,
    side: int,
    *,
    keep_alpha: bool = False,
    max_pixels: int | None = None,
) -> np.ndarray:
    """An image reduced to fit in ``side`` x ``side`` pixels (never enlarged), as RGB (RGBA with
    ``keep_alpha``) uint8, with every check of :func:`read_image`.

    A JPEG is decoded at a reduced scale (DCT scaling: a 1024 px photo costs a few percent of a
    full decode); other formats are decoded fully, then reduced with an area filter.
    """
    path = _source(path)
    image = _decode(path, max_pixels, draft=side)
    try:
        pixels = _pil_to_array(image, keep_alpha)
    except (OSError, ValueError) as err:
        raise InputError(f"unsupported image mode {image.mode} ({err})", path) from err
    finally:
        image.close()
    return shrink_to_fit(pixels, side)


def shrink_to_fit(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` reduced (area filter) to fit in ``side`` x ``side``; never enlarged."""
    h, w = image.shape[:2]
    f = side / max(h, w)
    if f >= 1.0:
        return image
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _grey_of(image: Image.Image) -> np.ndarray:
    """One channel of a mask image, in its own value range (not rescaled)."""
    mode = image.mode
    if mode.startswith(("I", "F")):
        return np.asarray(image)
    if mode == "1":
        return np.asarray(image, dtype=np.uint8)
    if mode in ("RGBA", "LA", "PA") and _alpha_is_the_mask(image):
        return np.asarray(image.getchannel("A"))
    return np.asarray(image.convert("L"))


def _alpha_is_the_mask(image: Image.Image) -> bool:
    """An RGBA mask whose colour is constant carries the mask in its alpha."""
    extrema = image.convert("L").getextrema()
    return extrema[0] == extrema[1]


#: a mask has at least this share of its pixels near its darkest or brightest level
TWO_LEVEL_SHARE = 0.75


def is_two_level(path: str | Path) -> bool:
    """Whether the image at ``path`` looks like a mask: at least :data:`TWO_LEVEL_SHARE` of
    its pixels within a tenth of its range of its darkest or brightest level (0/255 masks,
    anti-aliased or JPEG-compressed ones); a photo has most pixels in between."""
    image = _decode(Path(path), None)
    try:
        values = _grey_of(image).astype(np.float32)
    finally:
        image.close()
    low, top = float(values.min()), float(values.max())
    band = (top - low) / 10
    near = np.count_nonzero((values <= low + band) | (values >= top - band))
    return bool(near >= TWO_LEVEL_SHARE * values.size)


def threshold_mask(values: np.ndarray) -> np.ndarray:
    """Bool mask: values above half of the maximum (0/255, 0/1 and grey masks alike)."""
    top = float(values.max()) if values.size else 0.0
    return values > top / 2.0 if top > 0 else np.zeros(values.shape, bool)


def read_mask(
    path: str | Path | Encoded,
    *,
    shape: tuple[int, int] | None = None,
    resize: bool = False,
    max_pixels: int | None = None,
) -> np.ndarray:
    """Read a mask as HxW bool, thresholded at half of its maximum.

    Parameters
    ----------
    path : mask file (0/255, 0/1, anti-aliased grey, 16-bit; colour masks use luminance).
    shape : (height, width) of the image it belongs to. A different size is an error unless
        ``resize`` is set (masks at another resolution, e.g. CelebAMask-HQ); then it is resized
        with nearest neighbour.
    """
    path = _source(path)
    values = _fast_path(path, max_pixels, _fast_grey_png)
    if values is None:
        image = _decode(path, max_pixels)
        try:
            values = _grey_of(image)
        except (OSError, ValueError) as err:
            raise InputError(f"unsupported mask mode {image.mode} ({err})", path) from err
        finally:
            image.close()
    mask = threshold_mask(values)
    if shape is not None and mask.shape != tuple(shape):
        if not resize:
            raise InputError(size_mismatch("mask", mask.shape, shape), path)
        mask = resize_nearest(mask.astype(np.uint8), shape) > 0
    return mask


def read_label_map(path: str | Path | Encoded, *, max_pixels: int | None = None) -> np.ndarray:
    """Read a class-id map (palette index or grey value per pixel) as HxW uint8."""
    path = _source(path)
    image = _decode(path, max_pixels)
    try:
        if image.mode in ("P", "L"):
            return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
        return np.ascontiguousarray(np.asarray(image.convert("L"), dtype=np.uint8))
    finally:
        image.close()


def decode_image(
    data: bytes, name: str | Path, *, keep_alpha: bool = False, max_pixels: int | None = None
) -> np.ndarray:
    """:func:`read_image` of a file's bytes read already (``name`` is what errors give)."""
    return read_image(Encoded(data, name), keep_alpha=keep_alpha, max_pixels=max_pixels)


def decode_mask(
    data: bytes,
    name: str | Path,
    *,
    shape: tuple[int, int] | None = None,
    resize: bool = False,
) -> np.ndarray:
    """:func:`read_mask` of a file's bytes read already (``name`` is what errors give)."""
    return read_mask(Encoded(data, name), shape=shape, resize=resize)


def resize_nearest(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a label or mask array to (height, width) with nearest neighbour."""
    h, w = shape
    return cv2.resize(values, (w, h), interpolation=cv2.INTER_NEAREST)


def size_mismatch(what: str, got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """Human reason for a size mismatch: ``mask 512x512 does not match image 1024x1024``."""
    return f"{what} {got[1]}x{got[0]} does not match image {want[1]}x{want[0]}"
