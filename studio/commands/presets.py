"""``studio presets``: the shipped presets and the user's own, by name."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.core.io.paths import preset_path, shipped_presets, user_presets, user_presets_dir
from studio.core.io.presets import load_preset
from studio.core.model.errors import StudioError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "presets",
        help="list the shipped presets and yours (or print one)",
        description="List the presets that ship with the studio and your own (those the "
        "studio saved in your presets folder), with their descriptions. Any command that "
        "takes a preset file also takes one of these names (studio export natocc-hands "
        "--data ~/dataset --out out/hands); a shipped name wins over one of yours. With "
        "NAME, print that preset's YAML (studio presets natocc-hands > mine.yaml makes a "
        "copy to edit).",
    )
    p.add_argument("name", nargs="?", help="a preset to print")
    p.set_defaults(func=run)


def _describe(path: Path) -> tuple[str, str]:
    """The mode and description of a preset file, or why it cannot be read."""
    try:
        preset = load_preset(path)
    except StudioError as err:
        return "?", f"(cannot be read: {err.reason})"
    return preset.mode, preset.description


def run(args: argparse.Namespace) -> int:
    if args.name:
        sys.stdout.write(preset_path(args.name).read_text(encoding="utf-8"))
        return 0
    shipped, yours = shipped_presets(), user_presets()
    rows = [(name, "shipped", path) for name, path in shipped.items()]
    rows += [(name, "yours", path) for name, path in yours.items()]
    width = max(len(name) for name, _, _ in rows)
    for name, where, path in rows:
        mode, description = _describe(path)
        if where == "yours" and name in shipped:
            description += f" (hidden by the shipped {name}: use its path, {path})"
        print(f"{name:<{width}}  {where:<7}  {mode:<8} {description}")
    print(f"\nyours: {user_presets_dir()}" + ("" if yours else " (none yet)"))
    return 0
