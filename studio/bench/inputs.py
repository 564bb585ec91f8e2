"""Input benchmarks: scanning big folders (names only) and the automatic face mask."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from studio.bench.common import BenchRow, time_call
from studio.core.io import imageio
from studio.core.io.paths import samples
from studio.core.io.writers import encode_image
from studio.core.sources import open_source

SAMPLES = samples().faces.parent


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
        from studio.core.io.facemask import FaceMasker

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
        rows.extend(automask_export_rows(images, quick))
    return rows


def _photo_variants(images: list[np.ndarray], count: int, folder: Path) -> None:
    """``count`` distinct photos (shifted crops of the bundled ones, JPEG q95), each one in
    which the automatic mask finds a face (so that every run makes the same samples)."""
    from studio.core.io.facemask import FaceMasker

    masker = FaceMasker()
    folder.mkdir(parents=True)
    made, k = 0, 2
    while made < count:
        for image in images:
            crop = np.ascontiguousarray(image[k:, k:])
            if made < count and masker.face_masks(crop):
                (folder / f"photo_{made:03d}.jpg").write_bytes(encode_image(crop, "jpg", 95))
                made += 1
        k += 1


def automask_export_rows(images: list[np.ndarray], quick: bool) -> list[BenchRow]:
    """Export throughput from photos without masks (automatic face masks: a fresh cache, then
    the cached masks) beside the same photos with given masks, 2 workers, NatOcc + SOT."""
    import os

    from studio.bench.export import run_engine
    from studio.core.export import LocalEngine, make_plan
    from studio.core.model.preset import Preset
    from studio.core.sources import SourceRef, open_ref

    count = 24 if quick else 96
    preset = Preset.model_validate({"name": "bench-automask", "color": {"method": "sot"}})
    occluders = SourceRef("occluders", str(SAMPLES.parent / "occluders"))
    rows: list[BenchRow] = []
    saved = os.environ.get("STUDIO_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="studio-bench-automask-") as tmp:
        root = Path(tmp)
        _photo_variants(images, count, root / "photos" / "images")
        os.environ["STUDIO_CACHE_DIR"] = str(root / "cache")  # the workers inherit it
        try:
            photos = SourceRef("faces", str(root / "photos" / "images"))
            rates = {}
            for name in ("first run", "cached"):
                refs = {"faces": photos, "occluders": occluders}
                plan = make_plan(preset, refs, root / f"out-{name}", count=count)
                rates[name] = run_engine(plan, LocalEngine(2))["rate"]
            # the same photos with their (now computed) masks given as files
            source = open_ref(SourceRef("faces", str(root / "photos" / "images")))
            masks = root / "photos" / "masks"
            masks.mkdir()
            for item in source.ids():
                face = source.load(item)
                mask = face.mask.astype(np.uint8) * 255
                (masks / (Path(item).stem + ".png")).write_bytes(encode_image(mask, "png"))
            given = SourceRef("faces", str(root / "photos"))
            plan = make_plan(preset, {"faces": given, "occluders": occluders}, root / "out-given")
            rates["given masks"] = run_engine(plan, LocalEngine(2))["rate"]
        finally:
            if saved is None:
                os.environ.pop("STUDIO_CACHE_DIR", None)
            else:
                os.environ["STUDIO_CACHE_DIR"] = saved
    for name, rate in rates.items():
        rows.append(
            BenchRow(
                "inputs",
                f"export from photos, {name} (512-600 px, 2 workers, natocc+SOT)",
                rate,
                "img/s",
                note="automatic face masks" if name != "given masks" else "masks as files",
            )
        )
    rows.append(
        BenchRow(
            "inputs",
            "automatic masks first run / given masks",
            rates["first run"] / max(rates["given masks"], 1e-9),
            "ratio",
            note=f"cached / given: {rates['cached'] / max(rates['given masks'], 1e-9):.2f}",
        )
    )
    return rows
