"""``studio evaluate``: score a trained model on a test set (the torch extra)."""

from __future__ import annotations

import argparse

from studio.commands._events import EventPrinter, add_progress_argument, cancel_on_signals
from studio.core.model.vocab import BackendName, values
from studio.integrations.train import require_torch


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
    p.add_argument("--out", metavar="REPORT", help="report folder (default RUN/evaluate)")
    p.add_argument("--device", choices=values(BackendName), default="auto")
    p.add_argument("--limit", type=int, help="only the first N test images")
    p.add_argument("--batch", type=int, default=8, help="images per forward pass (default 8)")
    add_progress_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    require_torch("evaluate")
    from studio.integrations.train.evaluate import evaluate

    printer = EventPrinter(args.progress)
    with cancel_on_signals() as cancel:
        try:
            result = evaluate(
                args.run,
                args.test,
                args.out,
                device=args.device,
                limit=args.limit,
                batch=args.batch,
                on_event=printer,
                cancel=cancel,
            )
        finally:
            printer.close()
    print(result.line(), file=printer.log)
    return 0
