"""``studio sheet``: a contact sheet PNG of an export, with mask overlays."""

from __future__ import annotations

import argparse

from studio.commands.flags import add_out, add_storage_options, positive_int
from studio.core.export.review.decisions import read_decisions
from studio.core.export.sheet import write_contact_sheet


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sheet",
        help="contact sheet of an export folder",
        description="Write a PNG grid of the first N samples of an export; occluder labels "
        "tinted red, the visible face mask outlined in green.",
    )
    p.add_argument("dir", help="export folder (with manifest.jsonl)")
    p.add_argument(
        "--count", type=positive_int, default=16, help="samples on the sheet (default 16)"
    )
    p.add_argument(
        "--size", type=positive_int, default=256, help="tile side in pixels (default 256)"
    )
    add_out(p, "PNG path (default DIR/sheet.png)", default=None)
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = write_contact_sheet(args.dir, args.out, args.count, args.size)
    counts = read_decisions(args.dir).counts()
    reviewed = f" ({counts['reject']} rejected, {counts['flag']} flagged in review)"
    print(f"wrote {path}" + (reviewed if counts else ""))
    return 0
