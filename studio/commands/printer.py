"""The one printer of job events (export, train, evaluate, compare) for ``--progress``.

``jsonl`` prints each event as one JSON line on stdout (what the studio reads back with
:meth:`~studio.core.jobs.events.Event.from_json`); ``bar`` draws a tqdm bar on stderr and prints
stages, epochs and notes there; ``none`` prints nothing. Summary lines go to :attr:`log`:
stderr in jsonl mode (stdout is for events), else stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from studio.core.jobs.events import Event


class EventPrinter:
    """Callable that shows events in the chosen ``--progress`` mode."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.bar: Any = None

    @property
    def log(self) -> TextIO:
        return sys.stderr if self.mode == "jsonl" else sys.stdout

    def __call__(self, event: Event) -> None:
        if self.mode == "jsonl":
            sys.stdout.write(json.dumps(event.to_json()) + "\n")
            sys.stdout.flush()
        elif self.mode == "bar":
            self._bar(event)

    def _bar(self, event: Event) -> None:
        kind = event.kind
        if kind == "stage":
            self.close()
            label = f"{event.model}: " if event.model else ""
            print(f"{label}{event.stage}", file=sys.stderr)
        elif kind == "start":
            from tqdm import tqdm

            self.close()
            self.bar = tqdm(
                total=event.total,
                initial=event.done or 0,
                unit=event.unit or "img",
                dynamic_ncols=True,
                file=sys.stderr,
            )
        elif kind == "progress" and self.bar is not None:
            self.bar.update((event.done or 0) - self.bar.n)
            postfix = {}
            if event.failed:
                postfix["failed"] = event.failed
            if event.get("loss") is not None:
                postfix["loss"] = f"{event.get('loss'):.4f}"
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
        elif kind == "epoch":
            text = f"epoch {event.get('epoch')}: loss {event.get('loss', float('nan')):.4f}"
            if event.get("val_miou") is not None:
                text += f", val mIoU {event.get('val_miou'):.4f}"
            self.write(text)
        elif kind == "note":
            self.write(event.message or "")
        elif kind == "done":
            self.close()

    def write(self, text: str) -> None:
        """A line on stderr that does not break the bar."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
