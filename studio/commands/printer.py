"""The one printer of job events (export, train, evaluate, compare) for ``--progress``.

``jsonl`` prints each event as one JSON line on stdout (what the studio reads back with
:meth:`~studio.core.jobs.events.Event.from_json`); ``bar`` draws a tqdm bar on stderr and prints
stages, epochs and notes there; ``none`` prints nothing. Summary lines go to :attr:`log`:
stderr in jsonl mode (stdout is for events), else stdout.

A stream that is closed (``| head -1`` has exited, ``2>&-``) raises :class:`StreamClosed`
instead of an internal error: a job then stops as if cancelled (:func:`say`, :func:`silence`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any, TextIO

from studio.core.jobs.events import Event
from studio.core.model.errors import StudioError


class StreamClosed(StudioError):
    """Standard output or error is closed: nothing more can be shown."""


def say(text: str, stream: TextIO | None) -> None:
    """Write a line to ``stream`` (StreamClosed when it is closed or its reader is gone)."""
    if stream is None:
        raise StreamClosed("standard error or output is closed")
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError) as err:
        raise StreamClosed(f"cannot write to {getattr(stream, 'name', 'a stream')}") from err


def silence() -> None:
    """Point stdout and stderr at the null device (no error at exit for a closed pipe)."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(null, fd)
        os.close(null)


class EventPrinter:
    """Callable that shows events in the chosen ``--progress`` mode.

    Raises :class:`StreamClosed` when its stream is closed."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.bar: Any = None

    @property
    def log(self) -> TextIO:
        return sys.stderr if self.mode == "jsonl" else sys.stdout

    def __call__(self, event: Event) -> None:
        try:
            self._show(event)
        except (OSError, ValueError, AttributeError) as err:
            if not _closed(sys.stdout) and not _closed(sys.stderr):
                raise
            self.bar = None  # tqdm cannot close on a closed stream
            raise StreamClosed("standard output or error is closed") from err

    def _show(self, event: Event) -> None:
        if self.mode == "jsonl":
            say(json.dumps(event.to_json()), sys.stdout)
        elif self.mode == "bar":
            if sys.stderr is None:
                raise StreamClosed("standard error is closed")
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
            bar, self.bar = self.bar, None
            with contextlib.suppress(OSError, ValueError, AttributeError):
                bar.close()


def _closed(stream: TextIO | None) -> bool:
    """Whether ``stream`` can no longer be written (closed, or its reader gone)."""
    if stream is None or stream.closed:
        return True
    try:
        stream.flush()
    except (OSError, ValueError):
        return True
    return False
