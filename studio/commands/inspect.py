"""``studio inspect``: what a source holds, and what in it cannot be used."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from studio.core.model.vocab import OccluderKind, Role, UpSide, values
from studio.core.sources import dataset_members_refs, open_ref, open_source


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="count the items of a source and list its problems",
        description="Recognise the layout of SOURCE (a folder, or a COCO instances .json), "
        "count its usable items and list each unusable one with the reason. Scanning reads "
        "names only; --check also loads every item.",
    )
    p.add_argument("source", metavar="SOURCE", help="folder or COCO .json")
    p.add_argument("--as", dest="role", choices=values(Role))
    p.add_argument("--masks", help="mask folder matched by full stem")
    p.add_argument("--images", help="image folder of a COCO .json")
    p.add_argument("--kind", default="object", choices=values(OccluderKind))
    p.add_argument("--up", default="up", choices=values(UpSide))
    p.add_argument("--min-area", type=float, default=1024.0, help="COCO: min instance area")
    p.add_argument("--categories", help="COCO: comma-separated category names or ids")
    p.add_argument("--every-face", action="store_true", help="photos: each face is an item")
    p.add_argument("--save-masks", help="photos: also write automatic masks to this folder")
    p.add_argument("--check", action="store_true", help="load every item (slower)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.role is None and args.masks is None and Path(args.source).is_dir():
        members = dataset_members_refs(args.source)
        if members:  # the reference dataset/ folder: each of its sources
            print(f"a dataset folder with {len(members)} sources: {args.source}")
            codes = [_inspect(open_ref(ref), args) for ref in members]
            return max(codes)
    source = open_source(
        args.source,
        args.role,
        masks=args.masks,
        images=args.images,
        kind=args.kind,
        up=args.up,
        min_area=args.min_area,
        categories=args.categories.split(",") if args.categories else None,
        every_face=args.every_face,
        save_masks=args.save_masks,
    )
    code = _inspect(source, args)
    if not args.json and args.role is None and Path(args.source).is_dir():
        print("  (read as the layout above; --as occluders or --as textures for other uses)")
    return code


def _inspect(source, args: argparse.Namespace) -> int:
    start = time.perf_counter()
    report = source.report(check=args.check)
    seconds = time.perf_counter() - start
    if args.json:
        data = dict(report.to_dict(), seconds=round(seconds, 3), role=source.ref.role)
        data["how"] = source.recognised.how
        print(json.dumps(data, indent=2))
    else:
        what = "checked" if args.check else "scanned"
        print(f"{source.ref.role}: {report.layout}: {report.root}")
        print(f"  recognised as: {source.recognised.how}")
        print(
            f"  {report.count} usable items, {len(report.problems)} problems ({what} in "
            f"{seconds:.2f} s)"
        )
        for key, value in report.details.items():
            print(f"  {key}: {value}")
        for problem in report.problems:
            print(f"  problem: {problem.line()}")
    return 0 if report.count > 0 else 1
