"""Input benchmarks: scanning big folders (names only) and the automatic face mask."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from studio.bench.common import BenchRow, time_call
from studio.core import imageio
from studio.core.sources import FolderFaceSource

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples" / "faces"


def _make_tree(root: Path, count: int) -> None:
    """``count`` face files in 30 sub-folders plus a mask per face (tiny, never decoded)."""
    for i in range(count):
        sub = f"{i % 30:02d}"
        for folder, ext in (("images", ".jpg"), ("masks", ".png")):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
            (root / folder / sub / f"{i:06d}.v1{ext}").write_bytes(b"x")


def run(quick: bool, backend: str) -> list[BenchRow]:
    del backend  # CPU only
    count = 3_000 if quick else 30_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _make_tree(root, count)
        start = time.perf_counter()
        source = FolderFaceSource(root / "images", root / "masks")
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
    faces = sorted((SAMPLES / "images").glob("*.jpg"))
    if faces:
        from studio.core.facemask import FaceMasker

        masker = FaceMasker()
        images = [imageio.read_image(p) for p in faces]
        per_image = time_call(lambda: [masker.face_masks(i) for i in images], repeat=3)
        ms = 1000 * per_image / len(images)
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
