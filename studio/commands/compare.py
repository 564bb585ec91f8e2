"""``studio compare``: a no-occlusion baseline against each preset (the torch extra)."""

from __future__ import annotations

import argparse

from studio.commands.flags import (
    add_backend,
    add_out,
    add_progress,
    add_seed,
    add_workers,
    from_args,
    positive_int,
    to_argv,
)
from studio.commands.printer import EventPrinter
from studio.core.jobs.cancel import cancel_on_signals
from studio.integrations.train import require_torch
from studio.integrations.train.config import CompareConfig

#: CompareConfig fields whose flag is not --field-name
RENAMES = {"device": "--backend"}


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
    add_out(p, "output folder (default ./compare)", default="compare")
    p.add_argument("--count", type=positive_int, default=300, help="samples per preset (300)")
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
    add_seed(p)
    add_backend(p)
    add_workers(p, "processes that render the exports (default: all cores)")
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
    add_progress(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    return from_args(CompareConfig, args, dests={"device": "backend"})


def arguments(config: CompareConfig, resume: bool = False) -> list[str]:
    """The ``studio compare`` arguments of ``config`` (the studio starts compares with these)."""
    argv = ["compare", *to_argv(config, positional=("presets",), renames=RENAMES)]
    return [*argv, "--resume"] if resume else argv


def run(args: argparse.Namespace) -> int:
    require_torch("compare")
    from studio.integrations.train.compare import Cancelled, compare, format_table

    config = config_from_args(args)
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
