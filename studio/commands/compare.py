"""``studio compare``: a no-occlusion baseline against each preset (the torch extra)."""

from __future__ import annotations

import argparse

from studio.commands._events import EventPrinter, add_progress_argument, cancel_on_signals
from studio.core.model.vocab import BackendName, values
from studio.integrations.train import require_torch


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="is a preset better training data than no occlusion? (needs torch)",
        description="Export COUNT samples of FACES with each preset, train the same small "
        "U-Net on the unoccluded faces (baseline) and on faces + each export, with the same "
        "seed and number of steps, score each on the test set, print the table and write "
        "OUT/compare.json and OUT/compare.png. Exit 130 when stopped (--resume goes on).",
    )
    p.add_argument("presets", nargs="+", metavar="PRESET", help="preset YAML files")
    p.add_argument("--faces", required=True, help="face images with masks (images/ + masks/)")
    p.add_argument("--test", required=True, metavar="DIR", help="test set (visible-face masks)")
    p.add_argument("--out", default="compare", help="output folder (default ./compare)")
    p.add_argument("--count", type=int, default=300, help="samples per preset (default 300)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument(
        "--minutes",
        type=float,
        help="the baseline's training time; its steps are every model's budget (default 2)",
    )
    budget.add_argument("--steps", type=int, help="optimizer steps of every model")
    p.add_argument("--size", type=int, default=128, help="training side (default 128)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--width", type=int, default=16, help="U-Net channels at full resolution")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=values(BackendName), default="auto")
    p.add_argument("--workers", type=int, help="export worker processes (default: all cores)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--occluders", help="occluder folder for every preset (overrides them)")
    p.add_argument("--textures", help="texture folder for every preset (overrides them)")
    p.add_argument(
        "--val-limit",
        type=int,
        default=100,
        help="test images scored after each epoch for the curves (100)",
    )
    p.add_argument("--resume", action="store_true", help="continue the compare in --out")
    add_progress_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_torch("compare")
    from studio.integrations.train.compare import Cancelled, CompareConfig, compare, format_table

    config = CompareConfig(
        presets=list(args.presets),
        faces=args.faces,
        test=args.test,
        out=args.out,
        count=args.count,
        minutes=args.minutes,
        steps=args.steps,
        size=args.size,
        batch=args.batch,
        width=args.width,
        seed=args.seed,
        device=args.device,
        workers=args.workers,
        threads=args.threads,
        occluders=args.occluders,
        textures=args.textures,
        val_limit=args.val_limit,
    )
    printer = EventPrinter(args.progress)
    with cancel_on_signals() as cancel:
        try:
            summary = compare(config, resume=args.resume, cancel=cancel, on_event=printer)
        except Cancelled:
            printer.close()
            print(f"stopped; continue with --resume ({args.out})", file=printer.log)
            return 130
        finally:
            printer.close()
    print(format_table(summary["models"]), file=printer.log)
    print(f"wrote {config.out}/compare.json and compare.png", file=printer.log)
    return 0
