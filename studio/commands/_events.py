"""Progress of the train / evaluate / compare commands: a tqdm bar, JSON lines, or nothing.

Their work reports dict events (``{"event": "start" | "progress" | "epoch" | "stage" |
"result" | "note" | "done", ...}``). ``--progress jsonl`` prints each as one JSON line on
stdout (what the studio's Evaluate tab reads); ``bar`` draws a tqdm bar on stderr and prints
stage lines and notes there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


def add_progress_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--progress",
        choices=["bar", "jsonl", "none"],
        default="bar",
        help="bar: tqdm on stderr; jsonl: one JSON event per line on stdout (for the studio)",
    )


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class EventPrinter:
    """Callable that shows events in the chosen ``--progress`` mode."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.bar: Any = None

    @property
    def log(self):
        """Where summary lines go: stderr in jsonl mode (stdout is for events), else stdout."""
        return sys.stderr if self.mode == "jsonl" else sys.stdout

    def __call__(self, event: dict[str, Any]) -> None:
        if self.mode == "jsonl":
            sys.stdout.write(json.dumps(_clean(event)) + "\n")
            sys.stdout.flush()
        elif self.mode == "bar":
            self._bar(event)

    def _bar(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "stage":
            self.close()
            label = f"{event.get('model', '')}: " if event.get("model") else ""
            print(f"{label}{event['stage']}", file=sys.stderr)
        elif kind == "start":
            from tqdm import tqdm

            self.close()
            self.bar = tqdm(
                total=event.get("total"),
                initial=event.get("done") or 0,
                unit=event.get("unit", "img"),
                dynamic_ncols=True,
                file=sys.stderr,
            )
        elif kind == "progress" and self.bar is not None:
            self.bar.update(int(event.get("done", 0)) - self.bar.n)
            if event.get("loss") is not None:
                self.bar.set_postfix(loss=f"{event['loss']:.4f}", refresh=False)
        elif kind == "epoch":
            text = f"epoch {event['epoch']}: loss {event['loss']:.4f}"
            if "val_miou" in event:
                text += f", val mIoU {event['val_miou']:.4f}"
            self._write(text)
        elif kind == "note":
            self._write(event["message"])
        elif kind == "done":
            self.close()

    def _write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def cancel_on_signals() -> Iterator[threading.Event]:
    """A ``threading.Event`` set by SIGTERM / SIGINT while the block runs (the work then stops
    cleanly, resumable); the previous handlers come back afterwards."""
    cancel = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        cancel.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
