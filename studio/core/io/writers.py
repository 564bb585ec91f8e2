"""Atomic file writers: each file is written to a temporary name and renamed into place, so a
crash never leaves a half-written file under its final name."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from studio.core.model.errors import StudioError, WriteError


@functools.cache
def _umask() -> int:
    """This process's umask (read once; /proc on Linux, else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode() -> int:
    """The mode a new file gets (``0o666`` less the umask), as ``open()`` would give it."""
    return 0o666 & ~_umask()


def write_bytes_atomic(
    path: str | Path, data: bytes, *, durable: bool = True, mode: int | None = None
) -> None:
    """Write ``data`` to ``path`` atomically: a temp file in the same folder, renamed.

    ``durable`` also fsyncs the file before the rename (an export leaves that to batched
    folder syncs and its size checks). The file gets ``mode``, by default what the umask
    gives a new file (a temp file's private 0600 is never kept).

    Raises
    ------
    WriteError
        naming ``path``, with the ``errno`` of the failure.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise WriteError.from_os_error(err, path) from err
    try:
        os.fchmod(fd, default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteError.from_os_error(err, path) from err


def replace_file(path: str | Path, data: bytes) -> None:
    """Replace a user's file atomically, keeping what it is: a symlink is written through to
    its target, and an existing file keeps its mode."""
    path = Path(path)
    target = path.resolve() if path.is_symlink() else path
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = None
    write_bytes_atomic(target, data, mode=mode)


def encode_image(rgb: np.ndarray, fmt: str = "jpg", quality: int = 95) -> bytes:
    """Encode an RGB (or single-channel) uint8 image as JPEG or PNG bytes."""
    img = rgb
    if rgb.ndim == 3:
        img = rgb[:, :, ::-1]  # free when rgb is itself a reversed view of BGR memory
        if not img.flags.c_contiguous:
            img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # far faster than a strided copy
    if fmt in ("jpg", "jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        ext = ".jpg"
    else:
        params = []  # OpenCV's defaults: 3x faster than an explicit level 1, and smaller
        ext = ".png"
    ok, buf = cv2.imencode(ext, img, params)
    if not ok:  # pragma: no cover
        raise StudioError(f"could not encode image as {fmt}")
    return buf.tobytes()


def write_image(path: str | Path, rgb: np.ndarray, quality: int = 95) -> None:
    """Write an image; the format follows the suffix (.jpg/.jpeg or .png)."""
    fmt = Path(path).suffix.lower().lstrip(".")
    write_bytes_atomic(path, encode_image(rgb, fmt, quality))


def dumps_json(obj: Any, **kwargs: Any) -> str:
    """Strict JSON text: NaN and infinity are refused, never written as invalid JSON."""
    return json.dumps(obj, allow_nan=False, **kwargs)


def json_bytes(obj: Any) -> bytes:
    """The bytes of a JSON record file: strict, indented, keys sorted, a final newline."""
    return (dumps_json(obj, indent=2, sort_keys=True) + "\n").encode()


def write_json(path: str | Path, obj: Any) -> None:
    write_bytes_atomic(path, json_bytes(obj))
