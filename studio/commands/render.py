"""``studio render``: one occluded face, with its masks and parameters."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from studio.commands.flags import add_backend, add_out, add_seed
from studio.core.engine.cache import RenderCache
from studio.core.engine.render import render
from studio.core.engine.sample import sample
from studio.core.io.paths import preset_path
from studio.core.io.presets import load_preset
from studio.core.io.writers import write_image, write_json
from studio.core.model.errors import InputError
from studio.core.model.preset import Preset
from studio.core.model.vocab import UpSide, values
from studio.core.ops.backend import get_backend
from studio.core.sources import face_from_files, occluder_from_files, texture_from_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render one occluded face",
        description="Sample parameters from a preset and render one occluded face. Writes "
        "DIR/image.jpg, DIR/mask.png, DIR/occlusion_mask.png and DIR/params.json.",
    )
    p.add_argument("--preset", help="preset YAML (default: built-in defaults, natocc)")
    p.add_argument("--face", required=True, help="face image")
    p.add_argument(
        "--face-mask", help="face (skin) mask of the face image (default: automatic face mask)"
    )
    p.add_argument("--occluder", help="occluder: RGBA PNG, or an image with --occluder-mask")
    p.add_argument("--occluder-mask", help="mask of the occluder image")
    p.add_argument(
        "--occluder-up",
        choices=values(UpSide),
        default=None,
        help="which side of the occluder is its top (for point-at-face)",
    )
    p.add_argument("--texture", help="texture image for randocc shapes")
    add_seed(p)
    add_out(p, "output folder")
    add_backend(p, default="cpu")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    get_backend(args.backend)  # an unusable --backend fails before any work
    preset = load_preset(preset_path(args.preset)) if args.preset else Preset()
    face = face_from_files(args.face, args.face_mask)
    if preset.mode == "natocc":
        if not args.occluder:
            raise InputError("natocc needs --occluder (or use a randocc preset)", args.preset)
        up = args.occluder_up or preset.sources.occluder_up
        occluder = occluder_from_files(
            args.occluder, args.occluder_mask, preset.sources.occluder_kind, up
        )
    else:
        occluder = texture_from_file(args.texture) if args.texture else None
    cache = RenderCache()
    params = sample(preset.engine(), np.random.default_rng(args.seed), face, occluder, cache)
    result = render(face, occluder, params, backend=args.backend, cache=cache)
    out = Path(args.out)
    write_image(out / "image.jpg", result.image, quality=preset.output.jpeg_quality)
    write_image(out / "mask.png", result.face_mask)
    write_image(out / "occlusion_mask.png", result.occlusion_mask)
    write_json(
        out / "params.json",
        {"seed": args.seed, "params": params.to_dict(), "stats": result.stats},
    )
    print(f"wrote {out} (coverage {result.stats['coverage']:.1%})")
    return 0
