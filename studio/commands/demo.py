"""``studio demo``: render a contact sheet of NatOcc and RandOcc samples and print its path."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.commands.flags import add_out, add_seed, positive_int
from studio.core.engine.cache import RenderCache
from studio.core.engine.draw import draw_sample, sample_rng
from studio.core.engine.pool import ItemPool
from studio.core.engine.render import render
from studio.core.io.contact_sheet import contact_sheet, fit_tile, overlay
from studio.core.io.paths import samples
from studio.core.io.writers import write_image
from studio.core.model.errors import StudioError
from studio.core.model.spec import EngineSpec
from studio.core.model.vocab import Mode, pool_role, values
from studio.core.sources import open_source
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

TILE = 256


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="render a demo contact sheet",
        description="Render NatOcc and RandOcc samples from the bundled samples (or generated "
        "ones when none are bundled) into a contact sheet with label overlays.",
    )
    add_out(p, "output folder (default out/demo)", default="out/demo")
    p.add_argument("--count", type=positive_int, default=6, help="samples per mode (default 6)")
    add_seed(p)
    p.set_defaults(func=run)


def _load_inputs() -> tuple[ItemPool, ItemPool, ItemPool, str]:
    """Pools of faces, occluders and textures: the bundled samples, or generated ones."""
    folders = samples()
    try:
        pools = (
            ItemPool(open_source(folders.faces.parent, "faces")),
            ItemPool(open_source(folders.occluders, "occluders")),
            ItemPool(open_source(folders.textures, "textures")),
        )
        if len(pools[0]) and len(pools[1]):
            return (*pools, f"bundled samples in {folders.root}")
    except StudioError:
        pass
    faces = [synthetic_face(512, seed=s) for s in range(3)]
    occluders = [synthetic_occluder(256, seed=s) for s in range(3)]
    textures = [synthetic_texture(256, seed=s) for s in range(3)]
    origin = "generated samples (no bundled samples found)"
    return ItemPool(faces), ItemPool(occluders), ItemPool(textures), origin


def run(args: argparse.Namespace) -> int:
    faces, occluders, textures, origin = _load_inputs()
    cache = RenderCache()
    tiles = []
    for mode in values(Mode):
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
        pool = {"occluders": occluders, "textures": textures}[pool_role(mode)]
        for _ in range(args.count):
            rng = sample_rng(args.seed, len(tiles) // 2)
            face = faces.draw(rng)[1]
            try:
                drawn = draw_sample(spec, rng, face, pool, cache)
            except StudioError as err:
                print(f"demo: skipped a sample: {err.line()}", file=sys.stderr)
                continue
            r = render(face, drawn.item, drawn.params, cache=cache)
            tiles.append(fit_tile(r.image, TILE))
            line = round(max(r.image.shape[:2]) / TILE)  # an outline still visible in the tile
            tiles.append(fit_tile(overlay(r.image, r.face_mask, r.occlusion_mask, line=line), TILE))
    sheet = contact_sheet(tiles, columns=4)
    path = Path(args.out) / "contact_sheet.png"
    write_image(path, sheet)
    print(f"demo from {origin}: {len(tiles) // 2} samples")
    print(path.resolve())
    return 0
