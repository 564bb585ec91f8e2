"""``studio evaluate``: score a trained model on a test set (the torch extra)."""

from __future__ import annotations

import argparse

from studio.commands.flags import (
    add_backend,
    add_include_rejected,
    add_out,
    add_progress,
    add_storage_options,
    from_args,
    positive_int,
    to_argv,
)
from studio.commands.printer import EventPrinter
from studio.core.jobs.cancel import cancel_on_signals
from studio.integrations.train import require_torch
from studio.integrations.train.config import EvaluateConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a trained model on a test folder (needs torch)",
        description="Predict on a test set (images + masks, any layout the input layer reads; "
        "the masks are the visible face, as in the paper) and write REPORT/report.json "
        "(face_iou, miou, boundary_f, per_image) and REPORT/gallery.png (the 12 worst images).",
    )
    p.add_argument("run", metavar="RUN", help="run folder of studio train (or its model.pt)")
    p.add_argument("--test", required=True, metavar="DIR", help="test set folder")
    add_out(p, "report folder (default RUN/evaluate)", default=None, metavar="REPORT")
    add_backend(p)
    p.add_argument("--limit", type=positive_int, help="only the first N test images")
    p.add_argument(
        "--batch", type=positive_int, default=8, help="images per forward pass (default 8)"
    )
    add_include_rejected(p)
    add_progress(p)
    add_storage_options(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> EvaluateConfig:
    return from_args(EvaluateConfig, args, dests={"device": "backend"})


def arguments(config: EvaluateConfig) -> list[str]:
    """The ``studio evaluate`` arguments of ``config`` (the studio starts evaluations with
    these)."""
    return ["evaluate", *to_argv(config, positional=("run",), renames={"device": "--backend"})]


def run(args: argparse.Namespace) -> int:
    require_torch("evaluate")
    from studio.integrations.train.evaluate import evaluate

    printer = EventPrinter(args.progress)
    with cancel_on_signals() as cancel:
        try:
            config = config_from_args(args)
            result = evaluate(
                config.run,
                config.test,
                config.out,
                device=config.device,
                limit=config.limit,
                batch=config.batch,
                include_rejected=config.include_rejected,
                on_event=printer,
                cancel=cancel,
            )
        finally:
            printer.close()
    print(result.line(), file=printer.log)
    return 0
