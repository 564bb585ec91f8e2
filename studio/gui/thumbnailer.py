"""The thumbnail worker of a browser: makes only the thumbnails asked for, newest wish first.

A browser calls :meth:`Thumbnailer.want` with the ids of the rows in view (and a small margin)
whenever the view scrolls, resizes or is filtered; the wish replaces the previous one, so the
thumbnails of rows scrolled away are cancelled before they are made. Each thumbnail comes from
the persistent cache (:mod:`studio.core.io.thumbnails`) or is made and stored there.

The worker is one thread at a lower OS priority (nice +10 on Linux; ``lower=False`` keeps the
normal one), and it waits while the preview renders (``yield_to``), so thumbnails never slow
the live preview down. A thread at a lower priority can be descheduled while it holds the
interpreter lock, stalling the UI thread that waits for it on a busy machine: the review grid,
which has no live preview to protect, keeps the normal priority.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.io.thumbnails import ThumbnailStore, cached_thumbnail
from studio.core.model.errors import StudioError
from studio.gui.canvas import to_qimage
from studio.gui.process_runner import lower_priority

YIELD_POLL_S = 0.004  #: how often a waiting worker looks whether the preview is idle


class Thumbnailer(QObject):
    """Makes the thumbnails a browser wants, one at a time, on a low-priority thread."""

    #: (generation, item id, QImage or the reason it could not be made)
    ready = Signal(int, str, object)

    def __init__(
        self,
        role: str,
        store: ThumbnailStore | None = None,
        yield_to: Callable[[], bool] | None = None,
        name: str = "thumbs",
        lower: bool = True,
    ) -> None:
        super().__init__()
        self.role = role
        self.lower = lower  #: run at a lower OS priority
        self.store = store
        self.yield_to = yield_to
        self.generation = 0
        self.side = 84
        self.made = 0  #: thumbnails decoded from a source (for the source shown then)
        self.hits = 0  #: thumbnails read back from the cache (idem)
        self.cancelled = 0  #: wanted, then dropped from the queue before being made
        self.started: list[str] = []  #: ids taken up, in order (the newest 4,096; for tests)
        self._source: Any = None
        self._queue: list[str] = []
        self._working: str | None = None
        self._stop = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def set_source(self, source: Any, side: int) -> int:
        """Work for ``source`` from now on (thumbnails ``side`` px); returns the generation
        its results carry (results of older generations are stale)."""
        with self._cond:
            self.generation += 1
            self._source, self.side = source, side
            self.cancelled += len(self._queue)
            self._queue = []
            return self.generation

    def want(self, ids: Sequence[str]) -> None:
        """Make the thumbnails of ``ids``, in this order, and no others: queued ids that are
        not in ``ids`` are cancelled."""
        with self._cond:
            wanted = set(ids)
            self.cancelled += sum(1 for i in self._queue if i not in wanted)
            self._queue = [i for i in ids if i != self._working]
            self._cond.notify()

    def pending(self) -> int:
        """Thumbnails queued or being made."""
        with self._cond:
            return len(self._queue) + (self._working is not None)

    def queued(self) -> list[str]:
        with self._cond:
            return list(self._queue)

    def _next(self) -> tuple[int, Any, str, int] | None:
        with self._cond:
            while not self._stop:
                if self._queue and not (self.yield_to is not None and self.yield_to()):
                    item_id = self._queue.pop(0)
                    self._working = item_id
                    self.started.append(item_id)
                    del self.started[:-4096]
                    return self.generation, self._source, item_id, self.side
                self._cond.wait(YIELD_POLL_S if self._queue else None)
            return None

    def _loop(self) -> None:
        if self.lower:
            lower_priority(threading.get_native_id())  # Linux: a thread is a task of its own
        while True:
            job = self._next()
            if job is None:
                return
            generation, source, item_id, side = job
            hit = None
            try:
                image, hit = cached_thumbnail(source, self.role, item_id, side, self.store)
                result: object = to_qimage(image)
            except StudioError as err:
                result = err.reason
            except Exception as err:  # a broken file must not stop the other thumbnails
                result = f"{type(err).__name__}: {err}"
            with self._cond:
                self._working = None
                if hit is not None and generation == self.generation:  # not a stale one
                    self.hits += hit
                    self.made += not hit
            self.ready.emit(generation, item_id, result)

    def shutdown(self) -> None:
        with self._cond:
            self._stop = True
            self._queue = []
            self._cond.notify()
        self._thread.join(timeout=5)
