"""``studio train``: train a compact segmentation network from scratch (the torch extra)."""

from __future__ import annotations

import argparse
import dataclasses

from studio.commands.flags import (
    add_backend,
    add_include_rejected,
    add_out,
    add_progress,
    add_seed,
    add_storage_options,
    from_args,
    to_argv,
)
from studio.commands.printer import EventPrinter
from studio.core.jobs.cancel import cancel_on_signals
from studio.core.model.errors import InputError
from studio.core.model.vocab import TrainTarget, values
from studio.integrations.train import require_torch
from studio.integrations.train.config import TrainConfig

TARGETS = values(TrainTarget)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a face-segmentation model on exports or face folders (needs torch)",
        description="Train a small U-Net from scratch on one or more data sets the input layer "
        "reads (exports, CelebAMask-HQ, images + masks). Writes RUN/model.pt, metrics.jsonl, "
        "curve.png, config.json (and model.onnx where onnx is installed), a checkpoint per "
        "epoch; --resume continues after a crash or kill -9. Exit 130 when stopped.",
    )
    p.add_argument("data", nargs="+", metavar="DATA", help="data set folders")
    add_out(p, "run folder", metavar="RUN")
    p.add_argument(
        "--target",
        choices=TARGETS,
        default="face",
        help="face: visible face mask (default, the paper's); occlusion: occluder "
        "mask; classes: face-parsing classes + occluder (CelebAMask-HQ)",
    )
    p.add_argument("--size", type=int, default=256, help="training side in pixels (default 256)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="passes over the data (default 10)")
    budget.add_argument("--minutes", type=float, help="training time budget")
    budget.add_argument("--steps", type=int, help="optimizer steps")
    p.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (AdamW, cosine)")
    p.add_argument("--width", type=int, default=16, help="U-Net channels at full resolution")
    add_backend(p)
    add_seed(p)
    p.add_argument(
        "--loader-workers",
        type=int,
        default=0,
        help="DataLoader processes that read (and occlude) the items (default 0)",
    )
    p.add_argument("--workers", type=int, dest="old_workers", help=argparse.SUPPRESS)
    p.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: torch's, the core count); CPU results depend on it",
    )
    p.add_argument(
        "--length", type=int, help="items per data set per epoch (cycles or cuts each set)"
    )
    p.add_argument("--no-flip", action="store_true", help="no random left-right flips")
    p.add_argument("--val", metavar="DIR", help="test set scored after every epoch")
    p.add_argument("--val-limit", type=int, default=100, help="images of --val used (100)")
    p.add_argument(
        "--occlude",
        metavar="PRESET",
        help="occlude training faces on the fly with RandomOcclusion and this preset",
    )
    p.add_argument("--occluders", help="occluder folder for --occlude (overrides the preset)")
    p.add_argument("--textures", help="texture folder for --occlude (overrides the preset)")
    p.add_argument(
        "--occlude-p",
        type=float,
        default=0.5,
        help="probability of occluding a sample (default 0.5)",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in RUN")
    add_include_rejected(p)
    add_progress(p)
    add_storage_options(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    if getattr(args, "old_workers", None) is not None:
        raise InputError(
            "studio train takes --loader-workers for its DataLoader processes (--workers means "
            "the processes that render samples, in export and compare)"
        )
    config = from_args(TrainConfig, args, dests={"device": "backend"})
    return dataclasses.replace(config, flip=not args.no_flip)


def arguments(config: TrainConfig, resume: bool = False) -> list[str]:
    """The ``studio train`` arguments of ``config``."""
    plain = dataclasses.replace(config, flip=True)
    flags = to_argv(
        plain, positional=("data",), renames={"device": "--backend"}, skip=("extra", "depth")
    )
    argv = ["train", *flags]
    argv += [] if config.flip else ["--no-flip"]
    return [*argv, "--resume"] if resume else argv


def run(args: argparse.Namespace) -> int:
    require_torch("train")
    from studio.integrations.train.loop import train

    config = config_from_args(args)
    printer = EventPrinter(args.progress)
    with cancel_on_signals() as cancel:
        try:
            result = train(config, resume=args.resume, cancel=cancel, on_event=printer)
        finally:
            printer.close()
    if not result.finished:
        print(
            f"stopped after {result.steps} steps; continue with --resume ({result.out})",
            file=printer.log,
        )
        return 130
    last = result.history[-1] if result.history else {}
    scores = f", val mIoU {last['val_miou']:.4f}" if "val_miou" in last else ""
    loss = f", loss {last['loss']:.4f}" if "loss" in last else ""
    print(
        f"trained {result.steps} steps ({result.epochs} epochs{loss}{scores}) -> {result.model}",
        file=printer.log,
    )
    return 0
