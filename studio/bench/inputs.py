"""Input benchmarks: scanning big folders (names only) and the automatic face mask."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from studio.bench.common import BenchRow, time_call
from studio.core import imageio
from studio.core.sources import open_source
from studio.core.writers import encode_image

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "faces"


def _make_tree(root: Path, count: int) -> None:
    """``count`` face files in 30 sub-folders plus a mask per face (tiny, never decoded)."""
    for i in range(count):
        sub = f"{i % 30:02d}"
        for folder, ext in (("images", ".jpg"), ("masks", ".png")):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
            (root / folder / sub / f"{i:06d}.v1{ext}").write_bytes(b"x")


def _decode_rows(root: Path) -> list[BenchRow]:
    """imageio.read_image (Pillow: checks truncation, EXIF, modes) against a bare OpenCV
    decode, side by side on the same 1024x1024 files."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (1024, 1024, 3), dtype=np.uint8), (0, 0), 3)
    rows = []
    for ext in ("jpg", "png"):
        path = root / f"decode.{ext}"
        path.write_bytes(encode_image(image, ext))
        ours = time_call(lambda p=path: imageio.read_image(p), repeat=15)
        bare = time_call(
            lambda p=path: cv2.cvtColor(
                cv2.imdecode(np.fromfile(p, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
            ),
            repeat=15,
        )
        rows.append(
            BenchRow(
                "inputs",
                f"read 1024x1024 {ext.upper()}: imageio / bare OpenCV decode",
                ours / bare,
                "x",
                note=f"imageio {ours * 1e3:.1f} ms, OpenCV {bare * 1e3:.1f} ms",
            )
        )
    return rows


def run(quick: bool, backend: str) -> list[BenchRow]:
    del backend  # CPU only
    count = 3_000 if quick else 30_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _make_tree(root, count)
        start = time.perf_counter()
        source = open_source(root, "faces")
        found = len(source.ids())
        seconds = time.perf_counter() - start
        rows.append(
            BenchRow(
                "inputs",
                f"scan {count} faces + {count} masks (names only)",
                seconds,
                "s",
                target="seconds, not minutes (< 5 s for 30,000)",
                ok=found == count and seconds < 5.0 * count / 30_000,
            )
        )
        rows.extend(_decode_rows(root))
    faces = sorted((SAMPLES / "images").glob("*.jpg"))
    if faces:
        from studio.core.facemask import FaceMasker

        masker = FaceMasker()
        images = [imageio.read_image(p) for p in faces]
        per_image = time_call(lambda: [masker.face_masks(i) for i in images], repeat=3)
        ms = 1000 * per_image / len(images)
        ious = []
        for path, image in zip(faces, images, strict=True):
            truth = imageio.read_mask(SAMPLES / "masks" / f"{path.stem}.png")
            found = masker.face_masks(image)
            auto = found[0] if found else np.zeros_like(truth)
            ious.append(float((auto & truth).sum() / max(1, (auto | truth).sum())))
        rows.append(
            BenchRow(
                "inputs",
                f"face mask IoU vs hand-checked masks, mean of {len(ious)} bundled photos",
                float(np.mean(ious)),
                "IoU",
                target=">= 0.85",
                ok=float(np.mean(ious)) >= 0.85,
                note=", ".join(f"{p.stem} {v:.3f}" for p, v in zip(faces, ious, strict=True)),
            )
        )
        rows.append(
            BenchRow(
                "inputs",
                f"automatic face mask, {len(images)} bundled photos (512-600 px)",
                ms,
                "ms/image",
                target="well under 1 s",
                ok=ms < 500,
            )
        )
    return rows
