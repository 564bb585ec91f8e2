"""Exports for the review tests: real ones (files and all), and manifests made up quickly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studio.core.model.params import (
    ColorParams,
    HarmonizeParams,
    OccluderAugment,
    RenderParams,
    ShadowParams,
    ShapeParams,
)

METHODS = ("sot", "reinhard", "lighting", "none")


def made_up_row(index: int, rng: np.random.Generator) -> dict:
    """A manifest row of plausible values (no files behind it): NatOcc and RandOcc samples,
    optional values missing, numbers and choices varying."""
    randocc = rng.random() < 0.3
    shape = None
    if randocc:
        points = tuple(
            (float(rng.random()), float(rng.random())) for _ in range(int(rng.integers(3, 9)))
        )
        fill = None if rng.random() < 0.5 else (1, 2, 3)
        shape = ShapeParams(points, float(rng.random()), float(rng.random()), 512, fill)
    params = RenderParams(
        mode="randocc" if randocc else "natocc",
        face_id=f"face{int(rng.integers(0, 40)):03d}.jpg",
        occluder_id=f"shape:{index}" if randocc else f"o{int(rng.integers(0, 7))}.png",
        texture_id=None if not randocc or shape.fill_rgb else "t0.jpg",
        shape=shape,
        center_rel=(float(rng.random()), float(rng.random())),
        area_ratio=float(rng.uniform(0.2, 1.0)),
        rotation=float(rng.uniform(-180, 180)),
        flip=bool(rng.random() < 0.5),
        augment=OccluderAugment(
            jpeg_quality=None if rng.random() < 0.4 else int(rng.integers(70, 101)),
            contrast=float(rng.uniform(0.9, 1.1)),
        ),
        color=ColorParams(method=METHODS[int(rng.integers(0, 4))], seed=int(rng.integers(0, 9))),
        harmonize=HarmonizeParams(
            enabled=bool(rng.random() < 0.5), shadow=ShadowParams(opacity=float(rng.random()))
        ),
    )
    return {
        "index": index,
        "stem": f"{index:07d}_face",
        "seed": 3,
        "face_id": params.face_id,
        "occluder_id": params.occluder_id,
        "texture_id": params.texture_id,
        "attempts": int(rng.integers(1, 4)),
        "coverage": float(rng.random()),
        "occluder_bbox": [int(v) for v in rng.integers(0, 100, 4)],
        "size": [128, 128],
        "files": {"image": f"images/{index:07d}_face.png", "mask": f"masks/{index:07d}_face.png"},
        "checks": {"image": [1, "0"], "mask": [1, "0"]},
        "params": params.to_dict(),
    }


def made_up_export(
    out: Path, count: int, seed: int = 0, failed: tuple[int, ...] = ()
) -> list[dict]:
    """``out/manifest.jsonl`` with ``count`` made-up rows in a shuffled order (and
    failures.jsonl rows for ``failed``); returns the rows as written."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    order = [i for i in rng.permutation(count + len(failed)) if i not in failed]
    lines = [json.dumps(made_up_row(int(i), rng), sort_keys=True) for i in order]
    (out / "manifest.jsonl").write_text("".join(line + "\n" for line in lines))
    fails = [{"index": i, "path": f"/faces/f{i}.jpg", "reason": "no placement"} for i in failed]
    fails.append({"index": None, "path": "/occluders/bad.png", "reason": "cannot be read"})
    (out / "failures.jsonl").write_text("".join(json.dumps(r) + "\n" for r in fails))
    return [json.loads(line) for line in lines]


def real_export(
    root: Path,
    name: str,
    preset_extra: str = "",
    mode: str = "natocc",
    count: int = 8,
    seed: int = 0,
) -> Path:
    """``root/name``: a real export of the test inputs in ``root/in`` (PNG images: the files
    hold the rendered pixels; occlusion masks written)."""
    from export_helpers import make_inputs, plan_for, write_preset

    from studio.core.export import InProcessEngine, run_export

    inputs = root / "in"
    if not (inputs / "faces").is_dir():
        make_inputs(inputs)
    extra = "output:\n  image_format: png\n  occlusion_mask: true\n" + preset_extra
    preset = write_preset(inputs / f"{name}.yaml", extra, mode)
    out = root / name
    run_export(plan_for(preset, out, count=count, seed=seed), InProcessEngine())
    return out
