"""Cancel a job on SIGINT / SIGTERM: the job sees an event set and stops cleanly, resumable."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def cancel_on_signals() -> Iterator[threading.Event]:
    """A ``threading.Event`` set by SIGTERM / SIGINT while the block runs; the previous
    handlers come back afterwards. Outside the main thread (a studio worker) no handler can
    be set: the event is then only set by its owner."""
    cancel = threading.Event()

    def stop(_signum: int, _frame: Any) -> None:
        cancel.set()

    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
