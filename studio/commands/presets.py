"""``studio presets``: the shipped presets, by name."""

from __future__ import annotations

import argparse
import sys

from studio.core.io.paths import preset_path, shipped_presets
from studio.core.io.presets import load_preset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "presets",
        help="list the shipped presets (or print one)",
        description="List the presets that ship with the studio, with their descriptions. "
        "Any command that takes a preset file also takes one of these names "
        "(studio export natocc-hands --data ~/dataset --out out/hands). With NAME, print "
        "that preset's YAML (studio presets natocc-hands > mine.yaml makes a copy to edit).",
    )
    p.add_argument("name", nargs="?", help="a shipped preset to print")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name:
        sys.stdout.write(preset_path(args.name).read_text(encoding="utf-8"))
        return 0
    shipped = shipped_presets()
    width = max(len(name) for name in shipped)
    for name, path in shipped.items():
        preset = load_preset(path)
        print(f"{name:<{width}}  {preset.mode:<8} {preset.description}")
    return 0
