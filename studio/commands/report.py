"""``studio report``: an HTML page (and a PNG sheet) of what an export folder holds."""

from __future__ import annotations

import argparse
import sys

from studio.commands.flags import add_storage_options
from studio.report import SAMPLES_PER_BIN, write_report


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="HTML report of an export: distributions, usage, failures, samples",
        description="Write DIR/report.html (self-contained: inline plots, thumbnails in "
        "DIR/report/thumbs, relative links to the files), DIR/report.png (the plots on one "
        "sheet) and DIR/report/summary.json (the numbers) from the export in DIR. Reads "
        "manifest.jsonl row by row. Needs matplotlib (the 'report' extra).",
    )
    p.add_argument("dir", help="export folder (with manifest.jsonl)")
    p.add_argument(
        "--samples",
        type=_count,
        default=SAMPLES_PER_BIN,
        help=f"samples shown per coverage bin: lowest, median, highest (default {SAMPLES_PER_BIN})",
    )
    add_storage_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = write_report(args.dir, args.samples)
    for note in report.stats.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {report.html} and {report.png}")
    return 0
