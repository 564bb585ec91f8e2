"""``studio review``: the review decisions of an export (review.jsonl), listed or taken."""

from __future__ import annotations

import argparse
import json

from studio.commands.flags import non_negative_int
from studio.core.export.folder import ExportFolder
from studio.core.export.records import MANIFEST, iter_rows
from studio.core.export.review.decisions import SHOWN, read_decisions, record
from studio.core.model.errors import InputError

LISTS = {"rejected": ("reject",), "flagged": ("flag",), "reviewed": ("reject", "flag")}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "review",
        help="list (or take) the review decisions of an export folder",
        description="The decisions taken in the studio's Review window (python main.py "
        "--review DIR) live in DIR/review.jsonl, one row per decision. studio train and studio "
        "evaluate leave rejected samples out (--include-rejected keeps them), studio report "
        "and studio sheet count them, studio verify does not read them. Without options: the "
        "counts.",
    )
    p.add_argument("dir", help="export folder (with manifest.jsonl), or its URL (s3://...)")
    p.add_argument(
        "--list",
        choices=sorted(LISTS),
        help="print the samples rejected, flagged, or either: index, decision and file stem",
    )
    for decision, what in (("reject", "reject"), ("flag", "flag"), ("clear", "take back")):
        p.add_argument(
            f"--{decision}",
            nargs="+",
            type=non_negative_int,
            metavar="INDEX",
            help=f"{what} these samples (by sample index), as the studio's keys do",
        )
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")
    p.set_defaults(func=run)


def _stems(folder: ExportFolder, indices: set[int]) -> dict[int, str]:
    """The file stem of each of ``indices`` that the manifest records."""
    found: dict[int, str] = {}
    for _, row in iter_rows(folder, MANIFEST, strict=False):
        index = row.get("index")
        if index in indices:
            found[index] = str(row.get("stem", ""))
    return found


def run(args: argparse.Namespace) -> int:
    folder = ExportFolder(args.dir)
    out = folder.path  # the path as given, or the URL kept whole
    if not folder.exists(MANIFEST):
        raise InputError("not an export folder (no manifest.jsonl)", out)
    taken = [(i, d) for d in ("reject", "flag", "clear") for i in getattr(args, d) or ()]
    if taken:
        recorded = _stems(folder, {i for i, _ in taken})
        missing = sorted({i for i, _ in taken} - set(recorded))
        if missing:
            raise InputError(f"no sample {missing[0]} in the manifest", out / MANIFEST)
        record(folder, taken)
    verdicts = read_decisions(folder)
    for note in verdicts.notes:
        print(f"note: {note}")
    if args.list is None:
        counts = verdicts.counts()
        summary = {"rejected": counts["reject"], "flagged": counts["flag"]}
        if args.json:
            print(json.dumps({"out": str(out), **summary}))
        else:
            print(f"{out}: {summary['rejected']} rejected, {summary['flagged']} flagged")
        return 0
    wanted = LISTS[args.list]
    chosen = sorted(i for i, d in verdicts.by_index.items() if d in wanted)
    stems = _stems(folder, set(chosen))
    rows = [
        {"index": i, "decision": SHOWN[verdicts.by_index[i]], "stem": stems.get(i, "")}
        for i in chosen
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['index']}\t{row['decision']}\t{row['stem']}")
    return 0
