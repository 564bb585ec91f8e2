"""Engines run the planned samples and yield their outcomes, in any order.

- :class:`InProcessEngine`: one worker, in this process (tests, small jobs, the GUI preview).
- :class:`LocalEngine`: a spawn-safe process pool on this machine.
- :class:`RayEngine`: Ray tasks in batches (optional extra ``cluster``), for many machines:
  sharing one output folder, or with none (inputs and output by URL: each task reads the
  inputs and writes its samples or shards to the store itself; the driver plans and
  records).

All engines stop submitting when ``cancel`` is set and still yield what is in flight, so
every finished sample gets recorded.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from studio.core.export.plan import JobPlan
from studio.core.export.worker import (
    DEFAULT_CACHE_MB,
    Outcome,
    SampleMaker,
    init_worker,
    make_batch_cached,
    make_in_worker,
)
from studio.core.model.errors import BackendError, InputError, StudioError


class Engine(Protocol):
    name: str
    workers: int

    def run(
        self, plan: JobPlan, indices: Iterable[int], cancel: threading.Event
    ) -> Iterator[Outcome]: ...


def _batches(indices: Iterable[int], size: int, plan: JobPlan) -> Iterator[list[int]]:
    """Batches of ``size`` indices, taken from the iterable as they are needed; for a job of
    shards, the indices of one shard range each (a worker writes its shards whole)."""
    if plan.shards is not None:
        yield from (list(b) for _, b in itertools.groupby(indices, plan.shards.range_of))
        return
    it = iter(indices)
    while batch := list(itertools.islice(it, size)):
        yield batch


class InProcessEngine:
    """Make samples one after the other in the calling process."""

    name = "local"
    workers = 1

    def __init__(self, cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self.cache_mb = cache_mb

    def run(
        self, plan: JobPlan, indices: Iterable[int], cancel: threading.Event
    ) -> Iterator[Outcome]:
        maker = SampleMaker(plan, self.cache_mb)
        for batch in _batches(indices, 1, plan):
            if cancel.is_set():
                return
            yield from maker.make_batch(batch)


class LocalEngine:
    """A process pool (spawn start method: safe with threads, GUIs and macOS/Windows)."""

    name = "local"

    def __init__(
        self, workers: int | None = None, batch: int = 1, cache_mb: int = DEFAULT_CACHE_MB
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.batch = max(1, batch)
        self.cache_mb = cache_mb

    def run(
        self, plan: JobPlan, indices: Iterable[int], cancel: threading.Event
    ) -> Iterator[Outcome]:
        ctx = multiprocessing.get_context("spawn")
        # the workers die with this process; with the kernel's parent-death signal too when
        # the thread that starts them (this one) lives as long as the pool
        main_thread = threading.current_thread() is threading.main_thread()
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(plan, self.cache_mb, True, main_thread),
        )
        pending: set[Future[list[Outcome]]] = set()
        batches = _batches(indices, self.batch, plan)
        limit = self.workers * 3
        try:
            while True:
                while not cancel.is_set() and len(pending) < limit:
                    chunk = next(batches, None)
                    if chunk is None:
                        break
                    pending.add(pool.submit(make_in_worker, chunk))
                if not pending:
                    return
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        outcomes = fut.result()
                    except BrokenProcessPool as err:
                        if cancel.is_set():  # a stop signal reached a starting worker
                            return
                        raise StudioError(
                            "a worker process died (killed, or out of memory); the job is "
                            "resumable",
                            hint="resume",
                        ) from err
                    yield from outcomes
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


class RayEngine:
    """The same plan as Ray tasks in batches. Needs ``pip install 'occlusion-studio[cluster]'``.

    With ``address`` None a local Ray is started with ``workers`` CPUs; with an address
    ("auto" or "ray://host:10001") the job joins that cluster, whose nodes must see local
    input and output folders under the same paths, or read and write them by URL
    (``s3://...``: no shared folder needed).
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        batch: int = 4,
        cache_mb: int = DEFAULT_CACHE_MB,
    ) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as err:
            raise BackendError(
                "the ray engine needs Ray: pip install 'occlusion-studio[cluster]'"
            ) from err
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.address = address
        self.batch = max(1, batch)
        self.cache_mb = cache_mb

    def _init(self) -> bool:
        import ray

        if ray.is_initialized():
            return False
        with keep_signal_handlers():  # Ray's own would turn a stop into exit 15 or an abort
            return self._start(ray)

    def _start(self, ray: Any) -> bool:
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                ray.init(num_cpus=self.workers, **kwargs)
        except Exception as err:  # Ray raises several types (ConnectionError, RuntimeError...)
            where = self.address or "a local Ray"
            raise BackendError(f"cannot start or reach {where}: {err}") from err
        return True

    def run(
        self, plan: JobPlan, indices: Iterable[int], cancel: threading.Event
    ) -> Iterator[Outcome]:
        import ray

        started = self._init()
        try:
            task = ray.remote(num_cpus=1, max_retries=2)(make_batch_cached)
            plan_ref = ray.put(plan)
            cpus = int(ray.cluster_resources().get("CPU", self.workers))
            limit = max(2, cpus * 2)
            batches = _batches(indices, self.batch, plan)
            pending: list[Any] = []
            while True:
                while not cancel.is_set() and len(pending) < limit:
                    chunk = next(batches, None)
                    if chunk is None:
                        break
                    pending.append(task.remote(plan_ref, chunk, self.cache_mb))
                if not pending:
                    return
                done, pending = ray.wait(pending, num_returns=1, timeout=0.2)
                for ref in done:
                    try:
                        outcomes = ray.get(ref)
                    except ray.exceptions.RayTaskError as err:
                        # a write failure in a task: show it as the one-line error it is
                        if isinstance(err.cause, StudioError):
                            raise err.cause from err
                        raise
                    except ray.exceptions.RayError:
                        if cancel.is_set():  # the stop signal reached Ray's workers too
                            return
                        raise
                    yield from outcomes
        finally:
            if started:
                ray.shutdown()


@contextlib.contextmanager
def keep_signal_handlers() -> Iterator[None]:
    """Run the block (``ray.init``), then put back this process's SIGINT and SIGTERM
    handlers: a stop then cancels the job (exit 130), whatever the block installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            if handler is not None:
                signal.signal(s, handler)


def make_engine(
    name: str = "local",
    workers: int | None = None,
    address: str | None = None,
    cache_mb: int = DEFAULT_CACHE_MB,
) -> Engine:
    """``local`` (process pool; one worker runs in-process) or ``ray``."""
    if workers is not None and workers < 1:
        raise InputError(f"workers must be 1 or more, got {workers}")
    if name == "ray":
        return RayEngine(workers, address, cache_mb=cache_mb)
    if name != "local":
        raise BackendError(f"unknown engine {name!r} (local or ray)")
    if address:
        raise BackendError("a Ray cluster address needs the ray engine", hint="engine")
    if workers == 1:
        return InProcessEngine(cache_mb)
    return LocalEngine(workers, cache_mb=cache_mb)
