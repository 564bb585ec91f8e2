"""``studio demo``: render a contact sheet of NatOcc and RandOcc samples and print its path."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from studio.core.contact_sheet import contact_sheet, fit_tile, overlay
from studio.core.errors import StudioError
from studio.core.inputs import Face, Occluder, Texture
from studio.core.paths import samples
from studio.core.render import RenderCache, render
from studio.core.sample import sample
from studio.core.sources import FolderFaceSource, FolderOccluderSource, TextureFolder
from studio.core.spec import EngineSpec
from studio.core.synthetic import synthetic_face, synthetic_occluder, synthetic_texture
from studio.core.writers import write_image

TILE = 256


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="render a demo contact sheet",
        description="Render NatOcc and RandOcc samples from the bundled samples (or generated "
        "ones when none are bundled) into a contact sheet with label overlays.",
    )
    p.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    p.add_argument("--count", type=int, default=6, help="samples per mode (default 6)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def _load_inputs() -> tuple[list[Face], list[Occluder], list[Texture], str]:
    folders = samples()
    root = folders.root
    try:
        faces_src = FolderFaceSource(folders.faces, folders.face_masks)
        occ_src = FolderOccluderSource(folders.occluders)
        tex_src = TextureFolder(folders.textures)
        faces = [faces_src.load(i) for i in faces_src.ids()]
        occluders = [occ_src.load(i) for i in occ_src.ids()]
        textures = [tex_src.load(i) for i in tex_src.ids()]
        if faces and occluders:
            return faces, occluders, textures, f"bundled samples in {root}"
    except StudioError:
        pass
    faces = [synthetic_face(512, seed=s) for s in range(3)]
    occluders = [synthetic_occluder(256, seed=s) for s in range(3)]
    textures = [synthetic_texture(256, seed=s) for s in range(3)]
    return faces, occluders, textures, "generated samples (no bundled samples found)"


def run(args: argparse.Namespace) -> int:
    faces, occluders, textures, origin = _load_inputs()
    rng = np.random.default_rng(args.seed)
    cache = RenderCache()
    tiles = []
    for mode in ("natocc", "randocc"):
        natocc = mode == "natocc"
        spec = EngineSpec(  # as presets/demo.yaml and randocc.yaml: objects relit, not SOT
            mode=mode,
            color={"method": "lighting" if natocc else "none"},
            blend={"opacity_probability": 0.0 if natocc else 0.3},
            harmonize={
                "enabled": True,
                "color": {"target": "ring" if natocc else "face"},
                "shading": {"strength": 1.0 if natocc else 0.0},
                "shadow": {"probability": 0.6 if natocc else 0.0},
            },
        )
        for i in range(args.count):
            face = faces[int(rng.integers(len(faces)))]
            if mode == "natocc":
                occ = occluders[int(rng.integers(len(occluders)))]
            else:
                occ = textures[int(rng.integers(len(textures)))] if textures else None
            params = sample(
                spec, np.random.default_rng([args.seed, i, len(tiles)]), face, occ, cache
            )
            r = render(face, occ, params, cache=cache)
            tiles.append(fit_tile(r.image, TILE))
            tiles.append(fit_tile(overlay(r.image, r.face_mask, r.occlusion_mask), TILE))
    sheet = contact_sheet(tiles, columns=4)
    path = Path(args.out) / "contact_sheet.png"
    write_image(path, sheet)
    print(f"demo from {origin}: {len(tiles) // 2} samples")
    print(path.resolve())
    return 0
