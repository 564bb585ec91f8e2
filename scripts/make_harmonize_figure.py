"""Make docs/harmonize.png: what each harmonize step does, before / after, on the bundled samples.

    .venv/bin/python scripts/make_harmonize_figure.py [--out docs/harmonize.png]

Each row renders one sample twice with the same parameters, the step off and on (the first row
compares SOT with the lighting colour method; the others use lighting on both sides); the
faces of the shading, focus and noise rows are the realism benchmark's degraded copies (lit from
one side, blurred, noisy), and those of the look and light rows the controlled protocol's (a grey
copy, a warm grade, lit from the left: :mod:`studio.bench.follow`), so that the step has
something to match. Crops around the occluder.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import cv2
import numpy as np

from studio.bench import follow
from studio.bench.realism import degraded
from studio.core.engine.render import render
from studio.core.engine.sample import sample
from studio.core.io.contact_sheet import fit_tile
from studio.core.io.paths import samples
from studio.core.io.writers import write_image
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import HarmonizeParams, RenderParams, ShadowParams
from studio.core.model.spec import EngineSpec
from studio.core.sources import open_source

TILE = 300
LABEL_W = 230
NO_STEPS = {"shading": 0.0, "focus": 0.0, "noise": 0.0, "shadow": ShadowParams()}

#: (title, face id, how it is degraded, occluder id, seed, step, crop): the crop is the
#: occluder's box grown by this share of its size, or (zoom) a 2x close-up of its left edge
GRACE, EILEEN = "grace_hopper.jpg", "astronaut.jpg"
ROWS = (
    ("colour: SOT -> lighting (ring)", GRACE, "original", "coin_2.png", 1, "color", 0.3),
    ("shading (face lit from one side)", GRACE, "gradient", "cup.png", 0, "shading", 0.6),
    ("focus (face blurred, sigma 2)", EILEEN, "blurred", "helmet.png", 3, "focus", 0.3),
    ("noise (face noisy, sigma 6; 2x)", GRACE, "noisy", "coin_1.png", 0, "noise", "zoom"),
    ("cast shadow", GRACE, "original", "coin_3.png", 2, "shadow", 0.4),
    # the photo's look (issue 23): the copies of the realism suite's controlled protocol
    ("photo look: a black-and-white photo", GRACE, "grey", "cup.png", 0, "look", 0.5),
    ("photo look: a warm colour grade", EILEEN, "warm", "shuttle_model.png", 1, "look", 0.3),
    ("light: a face lit from the left (35 %)", GRACE, "side light", "cup.png", 0, "light", 0.8),
)


def _pair(
    face: Face, occ: Occluder, seed: int, step: str, crop: float | str
) -> tuple[np.ndarray, np.ndarray]:
    spec = EngineSpec.model_validate(
        {
            "color": {"method": "sot"},
            "scale": {"area_ratio": {"min": 0.4, "max": 0.6}},
            "occluder_augment": {"blur": {"probability": 0}, "jpeg": {"probability": 0}},
            "harmonize": {"enabled": True, "shadow": {"probability": 1.0}},
        }
    )
    params = sample(spec, np.random.default_rng(seed), face, occ)
    base = dataclasses.replace(params.harmonize, **NO_STEPS)
    if step == "color":
        before = params.replace(harmonize=HarmonizeParams())
        lit = dataclasses.replace(params.color, method="lighting")
        after = params.replace(color=lit, harmonize=dataclasses.replace(base, color_target="ring"))
    elif step == "shadow":
        params = params.replace(color=dataclasses.replace(params.color, method="lighting"))
        before = params.replace(harmonize=base)
        shadow = ShadowParams(opacity=0.5, angle=-40.0, distance=0.08, softness=0.04)
        after = params.replace(harmonize=dataclasses.replace(base, shadow=shadow))
    else:  # the other rows use the lighting colour method on both sides
        params = params.replace(color=dataclasses.replace(params.color, method="lighting"))
        before = params.replace(harmonize=base)
        after = params.replace(harmonize=dataclasses.replace(base, **{step: 1.0}))
    return _crop(face, occ, before, crop), _crop(face, occ, after, crop)


def _crop(face: Face, occ: Occluder, params: RenderParams, crop: float | str) -> np.ndarray:
    result = render(face, occ, params)
    x0, y0, x1, y1 = result.stats["occluder_bbox"]
    h, w = result.image.shape[:2]
    if crop == "zoom":  # the occluder's left edge and the skin beside it, 2x, no smoothing
        cx, cy, half = x0 + (x1 - x0) // 8, (y0 + y1) // 2, TILE // 4
        part = result.image[max(0, cy - half) : cy + half, max(0, cx - half) : cx + half]
        return fit_tile(cv2.resize(part, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST), TILE)
    pad = max(12, round(max(x1 - x0, y1 - y0) * float(crop)))
    part = result.image[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)]
    return fit_tile(part, TILE)


def _label(text: str, height: int) -> np.ndarray:
    strip = np.full((height, LABEL_W, 3), 24, np.uint8)
    words, lines = text.split(" "), [""]
    for word in words:  # wrap at about 22 characters
        if len(lines[-1]) + len(word) > 22:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    y = height // 2 - 12 * (len(lines) - 1)
    for line in lines:
        cv2.putText(
            strip, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (230, 230, 230), 1, cv2.LINE_AA
        )
        y += 24
    return strip


def make_figure() -> np.ndarray:
    folders = samples()
    faces = open_source(folders.root / "faces", "faces")
    occluders = open_source(folders.occluders, "occluders")
    rows = []
    head = [np.full((34, TILE, 3), 24, np.uint8) for _ in range(2)]
    for tile, text in zip(head, ("before (step off)", "after (step on)"), strict=True):
        cv2.putText(
            tile, text, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (230, 230, 230), 1, cv2.LINE_AA
        )
    rows.append(np.hstack([np.full((34, LABEL_W, 3), 24, np.uint8), head[0], head[1]]))
    for title, face_id, how, occ_id, seed, step, crop in ROWS:
        face = faces.load(face_id)
        face = follow.degraded_face(face, how) if how in follow.CONDITIONS else degraded(face, how)
        before, after = _pair(face, occluders.load(occ_id), seed, step, crop)
        rows.append(np.hstack([_label(title, TILE), before, after]))
    gap = np.full((4, rows[0].shape[1], 3), 12, np.uint8)
    return np.vstack([part for row in rows for part in (row, gap)][:-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs/harmonize.png")
    args = p.parse_args()
    write_image(Path(args.out), make_figure())
    print(Path(args.out).resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
