"""Background jobs of the window: opening and scanning sources, decoding the chosen items.

``Jobs.submit(key, work, done, failed)`` runs ``work()`` on a worker thread and calls ``done``
(or ``failed`` with the exception) on the UI thread. Per key only the newest job counts: an
older one that has not started is skipped, and the result of one that finished after a newer
submit is dropped, so a burst of choices (holding an arrow key in a browser) decodes only the
last item. ``Jobs(synchronous=True)`` runs each job at once on the caller's thread (tests).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal


@dataclass
class _Job:
    key: Hashable
    generation: int
    work: Callable[[], Any]
    done: Callable[[Any], None]
    failed: Callable[[BaseException], None] | None
    result: Any = None
    error: BaseException | None = None


class Jobs(QObject):
    """Keyed background jobs whose results come back on the UI thread (newest per key)."""

    _finished = Signal(object)

    def __init__(self, synchronous: bool = False, threads: int = 1, name: str = "jobs") -> None:
        super().__init__()
        self.synchronous = synchronous
        self._latest: dict[Hashable, int] = {}
        self._pending = 0
        self._closed = False
        self._lock = threading.Lock()
        self._pool = None if synchronous else ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._finished.connect(self._deliver)

    def submit(
        self,
        key: Hashable,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``work`` in the background; ``done(result)`` or ``failed(error)`` follows on the
        UI thread unless a newer job of the same ``key`` was submitted meanwhile."""
        if self._closed:
            return
        with self._lock:
            generation = self._latest.get(key, 0) + 1
            self._latest[key] = generation
            self._pending += 1
        job = _Job(key, generation, work, done, failed)
        if self._pool is None:
            self._run(job)
            self._deliver(job)
        else:
            self._pool.submit(self._run_and_post, job)

    def pending(self) -> int:
        """Jobs submitted whose results have not been delivered (or dropped) yet."""
        return self._pending

    def _current(self, job: _Job) -> bool:
        return self._latest.get(job.key) == job.generation

    def _run(self, job: _Job) -> None:
        if not self._current(job):
            return  # superseded before it started
        try:
            job.result = job.work()
        except Exception as err:  # delivered to ``failed`` on the UI thread
            job.error = err

    def _run_and_post(self, job: _Job) -> None:
        self._run(job)
        self._finished.emit(job)

    def _deliver(self, job: _Job) -> None:
        with self._lock:
            self._pending -= 1
        if not self._current(job):
            return
        if job.error is None:
            job.done(job.result)
        elif job.failed is not None:
            job.failed(job.error)
        else:
            traceback.print_exception(job.error)

    def shutdown(self) -> None:
        self._closed = True
        with self._lock:
            self._latest = {key: -1 for key in self._latest}  # nothing is delivered after
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
