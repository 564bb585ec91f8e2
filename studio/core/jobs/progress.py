"""Throttled progress events with rate and ETA, one helper for every job."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from studio.core.jobs.events import Event

INTERVAL = 0.25  #: seconds between progress events (the last one always comes)


class Progress:
    """Turns a job's running count into ``progress`` events, at most one per ``interval``.

    ``rate`` counts the units done in this session (a resumed job starts at ``done``); the
    ETA is the units left at that rate, unless the job knows better (a time budget) and
    passes its own.
    """

    def __init__(
        self,
        total: int | None,
        *,
        done: int = 0,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = total
        self.done = done
        self.first = done
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last: float | None = None

    @property
    def seconds(self) -> float:
        """Seconds since the helper was made (this session)."""
        return self.clock() - self.started

    @property
    def rate(self) -> float:
        """Units per second in this session."""
        return (self.done - self.first) / max(self.seconds, 1e-9)

    def eta(self) -> float | None:
        """Seconds left at this session's rate (None while unknown)."""
        rate = self.rate
        if self.total is None or rate <= 0:
            return None
        return max(0, self.total - self.done) / rate

    def update(self, done: int, *, force: bool = False, **values: Any) -> Event | None:
        """The progress event for ``done`` units, or None when the last one is too recent
        (the event that reaches ``total`` always comes). ``values`` add fields or data
        (``failed=``, ``loss=``; ``rate=``/``eta=`` replace the computed ones)."""
        self.done = done
        now = self.clock()
        last = self.total is not None and done >= self.total
        if not (force or last) and self._last is not None and now - self._last < self.interval:
            return None
        self._last = now
        values.setdefault("rate", self.rate)
        values.setdefault("eta", self.eta())
        return Event.make("progress", done=done, total=self.total, **values)
