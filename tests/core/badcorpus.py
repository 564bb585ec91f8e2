"""A generated folder of awkward and broken inputs (used by the bad-input tests).

``build_corpus(root)`` writes faces/ + masks/ (a face source) and occluders/ (an RGBA occluder
source) and returns, per file, what must happen: ``("ok", check)`` with a check of the loaded
array, or ``("error", reason_fragment)``.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

Expect = tuple[str, object]


def face_image(h: int = 64, w: int = 48, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (200, 150, 120)
    img += rng.integers(0, 20, (h, w, 3), dtype=np.uint8)
    return img


def ellipse_mask(h: int = 64, w: int = 48) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, 255, -1)
    return mask


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(array: np.ndarray, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says WIDTHxHEIGHT, with a tiny (wrong-sized) body: never decodable,
    and a reader that allocated before checking the size would need 1.2 GB for 20000x20000."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def bad_crc_png(array: np.ndarray) -> bytes:
    data = bytearray(png_bytes(array))
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    data[at + 4 + length] ^= 0xFF
    return bytes(data)


def exif_rotated_jpeg(array: np.ndarray) -> bytes:
    """Stored WxH landscape with EXIF orientation 6 (display rotated 90 degrees clockwise)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return jpeg_bytes(array, exif=exif.tobytes())


def cmyk_jpeg(rgb: tuple[int, int, int], h: int = 64, w: int = 48) -> bytes:
    image = Image.new("RGB", (w, h), rgb).convert("CMYK")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def gray16_png(h: int = 64, w: int = 48) -> bytes:
    values = np.full((h, w), 65535, np.uint16)
    values[:, : w // 2] = 32896  # -> 128 in 8 bits
    buf = io.BytesIO()
    Image.fromarray(values).save(buf, "PNG")
    return buf.getvalue()


def build_corpus(root: Path) -> dict[str, Expect]:
    """Write the corpus under ``root``; return {relative path: expectation} for faces/."""
    faces, masks, occ = root / "faces", root / "masks", root / "occluders"
    for folder in (faces, masks, occ, faces / "empty_sub", faces / "sub"):
        folder.mkdir(parents=True, exist_ok=True)
    img, mask = face_image(), ellipse_mask()
    expect: dict[str, Expect] = {}

    def face(name: str, data: bytes, mask_data: bytes | None, outcome: Expect) -> None:
        (faces / name).write_bytes(data)
        if mask_data is not None:
            stem = name.rsplit(".", 1)[0]
            (masks / f"{stem}.png").write_bytes(mask_data)
        expect[name] = outcome

    def shape_is(h: int, w: int) -> Callable[[np.ndarray], bool]:
        return lambda a: a.shape[:2] == (h, w)

    good_mask = png_bytes(mask)
    face("plain.jpg", jpeg_bytes(img), good_mask, ("ok", shape_is(64, 48)))
    face("png_named.jpg", png_bytes(img), good_mask, ("ok", shape_is(64, 48)))
    face("UPPER.JPEG", jpeg_bytes(img), good_mask, ("ok", shape_is(64, 48)))
    face("face_01.v2.jpg", jpeg_bytes(img), good_mask, ("ok", shape_is(64, 48)))
    face("visage_é_顔.png", png_bytes(img), good_mask, ("ok", shape_is(64, 48)))
    face("sub/nested.png", png_bytes(img), None, ("ok", shape_is(64, 48)))
    (masks / "sub").mkdir(exist_ok=True)
    (masks / "sub" / "nested.png").write_bytes(good_mask)
    face("gray.png", png_bytes(img[:, :, 0]), good_mask, ("ok", shape_is(64, 48)))
    face("palette.png", _palette_png(img), good_mask, ("ok", shape_is(64, 48)))
    face("webp.webp", _encoded(img, "WEBP"), good_mask, ("ok", shape_is(64, 48)))
    face("bitmap.bmp", _encoded(img, "BMP"), good_mask, ("ok", shape_is(64, 48)))
    face("tiff.tif", _encoded(img, "TIFF"), good_mask, ("ok", shape_is(64, 48)))
    face(
        "gray16.png",
        gray16_png(),
        good_mask,
        ("ok", lambda a: a[0, 0].tolist() == [128] * 3 and a[0, -1].tolist() == [255] * 3),
    )
    face(
        "cmyk.jpg",
        cmyk_jpeg((200, 60, 30)),
        good_mask,
        ("ok", lambda a: np.abs(a[32, 24].astype(int) - (200, 60, 30)).max() <= 6),
    )
    # stored 48 wide x 64 high, EXIF says rotate: it must come out 64 wide x 48 high,
    # with a mask of the displayed size.
    face(
        "exif_rotated.jpg",
        exif_rotated_jpeg(img),
        png_bytes(ellipse_mask(48, 64)),
        ("ok", shape_is(48, 64)),
    )
    face(
        "mask_01.png",
        png_bytes(img),
        png_bytes((mask > 0).astype(np.uint8)),
        ("ok", shape_is(64, 48)),
    )
    face("zero.jpg", b"", good_mask, ("error", "0-byte file"))
    face("truncated.jpg", jpeg_bytes(img)[:600], good_mask, ("error", "truncated JPEG"))
    face("bad_crc.png", bad_crc_png(img), good_mask, ("error", "CRC error"))
    face("text.jpg", b"this is not a picture\n" * 10, good_mask, ("error", "not an image"))
    face(
        "one.png",
        png_bytes(np.zeros((1, 1, 3), np.uint8)),
        png_bytes(np.full((1, 1), 255, np.uint8)),
        ("error", "too small"),
    )
    face("huge.png", png_header_only(20000, 20000), good_mask, ("error", "decompression-bomb"))
    face(
        "zero_mask.png", png_bytes(img), png_bytes(np.zeros((64, 48), np.uint8)), ("error", "empty")
    )
    face(
        "mismatch.png",
        png_bytes(face_image(128, 128)),
        png_bytes(ellipse_mask(64, 64)),
        ("error", "mask 64x64 does not match image 128x128"),
    )
    face("no_mask.png", png_bytes(img), None, ("error", "no mask named no_mask.*"))
    os.symlink(root / "nowhere.jpg", faces / "dangling.jpg")
    expect["dangling.jpg"] = ("error", "symlink to nowhere")
    (faces / "notes.txt").write_text("ignored: not an image name")

    rgba = np.zeros((40, 30, 4), np.uint8)
    rgba[..., :3] = (10, 200, 30)
    rgba[10:30, 5:25, 3] = 255
    (occ / "cup.png").write_bytes(png_bytes(rgba, "RGBA"))
    (occ / "transparent.png").write_bytes(png_bytes(np.zeros((40, 30, 4), np.uint8), "RGBA"))
    (occ / "opaque_rgb.jpg").write_bytes(jpeg_bytes(img))
    return expect


def _encoded(array: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt)
    return buf.getvalue()


def _palette_png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, "PNG")
    return buf.getvalue()
