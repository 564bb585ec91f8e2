"""Engines run the planned samples and yield their outcomes, in any order.

- :class:`InProcessEngine`: one worker, in this process (tests, small jobs, the GUI preview).
- :class:`LocalEngine`: worker processes on this machine, started early (see below).
- :class:`RayEngine`: Ray tasks in batches (optional extra ``cluster``), for many machines:
  sharing one output folder, or with none (inputs and output by URL: each task reads the
  inputs and writes its samples or shards to the store itself; the driver plans and
  records).

All engines stop submitting when ``cancel`` is set and still yield what is in flight, so
every finished sample gets recorded.

Start-up of the local engine: ``start()`` (the command calls it before planning) starts the
worker processes on a thread: from a fork server with the engine preloaded where the platform
has one (one import for all workers, each worker a fork of it), else spawned. They load the
engine while the driver plans the job; until every worker is ready the driver makes samples
itself (of a folder export: a shard is left to the workers), so the first samples are written
while the workers start. A job of no more samples
than workers is made in the driver alone (starting processes would cost more than it saves).
Which process makes a sample never changes its bytes.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from studio.core.export import worker as worker_module
from studio.core.export.plan import JobPlan
from studio.core.export.worker import (
    DEFAULT_CACHE_MB,
    Outcome,
    SampleMaker,
    make_batch_cached,
    serve,
)
from studio.core.model.errors import BackendError, InputError, StudioError


class Engine(Protocol):
    name: str
    workers: int

    def start(self, count: int | None = None) -> None: ...

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

    def start(self, count: int | None = None) -> None:
        """Nothing to start."""

    def run(
        self, plan: JobPlan, indices: Iterable[int], cancel: threading.Event
    ) -> Iterator[Outcome]:
        maker = SampleMaker(plan, self.cache_mb)
        for batch in _batches(indices, 1, plan):
            if cancel.is_set():
                return
            yield from maker.make_batch(batch)


QUEUED_PER_WORKER = 2  #: batches sent ahead to a worker: it starts one while the last is read
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _context() -> ForkServerContext | SpawnContext:
    """A fork server with the engine preloaded where the platform has one, else spawn (both
    safe with threads and GUIs: no worker is a fork of the driver)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        server: ForkServerContext = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(["__main__", worker_module.__name__])
        return server
    spawn: SpawnContext = multiprocessing.get_context("spawn")
    return spawn


@contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """Block SIGINT and SIGTERM in this thread while it starts processes: they inherit the
    mask, so a signal to the process group never reaches a worker that is still loading (it
    then ignores them, see :func:`~.worker.quiet_worker`); the driver's other threads still
    receive them."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups to fear
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False  #: answered the plan: its sources are open
    queued: int = 0  #: batches sent and not answered yet


class _Pool:
    """Worker processes started on a thread, so the caller goes on (plans, makes samples)
    meanwhile: each is started, sent the plan once it is known (a large plan fills the pipe
    until the worker reads it) and handed over. :meth:`close` stops them (also at exit,
    should the caller not)."""

    def __init__(self, size: int, cache_mb: int) -> None:
        self.size = size  #: workers that are or will be up (less when one cannot start)
        self.workers: list[_Worker] = []
        self._plan: tuple[JobPlan, dict[str, str]] | None = None
        self._planned = threading.Event()
        self._started: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closing = False
        atexit.register(self.close)
        threading.Thread(
            target=self._start, args=(cache_mb,), name="studio-export-start", daemon=True
        ).start()

    def set_plan(self, plan: JobPlan) -> None:
        """The plan to send each worker, with this process's environment variables now."""
        self._plan = (plan, dict(os.environ))
        self._planned.set()

    def _start(self, cache_mb: int) -> None:
        ctx = _context()
        started: list[_Worker] = []
        with _stop_signals_blocked():
            for n in range(self.size):
                ours, theirs = ctx.Pipe()
                process = ctx.Process(
                    target=serve, args=(theirs, cache_mb), name=f"studio-worker-{n}", daemon=True
                )
                if self._closing:
                    break
                try:
                    process.start()  # with a fork server: once it has loaded the engine
                except Exception:  # no more processes (limits, memory): work with fewer
                    self.size = n
                    break
                theirs.close()
                started.append(_Worker(process, ours))
        self._planned.wait()
        for w in started:
            with self._lock:
                handed = not self._closing
                if handed:
                    self._started.put(w)
            if not handed:  # closed meanwhile: nobody else knows of this one
                w.process.kill()
                w.process.join()
                w.conn.close()
                continue
            with suppress(OSError):  # killed by close() while the plan was on its way
                w.conn.send(("plan", self._plan))  # it answers "ready" once it is open

    def adopt(self) -> None:
        """Take over the workers started since the last call (into :attr:`workers`)."""
        while True:
            try:
                self.workers.append(self._started.get_nowait())
            except queue.Empty:
                return

    @property
    def all_ready(self) -> bool:
        return 0 < self.size == len(self.workers) and all(w.ready for w in self.workers)

    def drop(self, w: _Worker) -> None:
        self.workers.remove(w)
        self.size -= 1
        w.conn.close()

    def close(self) -> None:
        """Stop the workers: idle ones are told to stop, ones still loading are killed (they
        hold no work), busy ones finish the batches they were sent."""
        with self._lock:
            self._closing = True
        self._planned.set()
        atexit.unregister(self.close)
        self.adopt()
        for w in self.workers:
            if not w.ready:
                w.process.kill()
                continue
            with suppress(OSError):
                w.conn.send(None)
        for w in self.workers:
            w.process.join(timeout=60)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        self.workers.clear()


class LocalEngine:
    """Worker processes on this machine (see the module docstring on their start-up)."""

    name = "local"

    def __init__(
        self, workers: int | None = None, batch: int = 1, cache_mb: int = DEFAULT_CACHE_MB
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.batch = max(1, batch)
        self.cache_mb = cache_mb
        self._pool: _Pool | None = None

    def _needs_workers(self, count: int | None) -> bool:
        return count is None or count > self.workers

    def start(self, count: int | None = None) -> None:
        """Start the worker processes now, before the job is planned (``count``: the samples
        to make, when known: a job of no more samples than workers needs none)."""
        if self._pool is None and self._needs_workers(count):
            self._pool = _Pool(self.workers, self.cache_mb)

    def run(
        self, plan: JobPlan, indices: Iterable[int], cancel: threading.Event
    ) -> Iterator[Outcome]:
        pool, self._pool = self._pool, None
        if pool is None and self._needs_workers(plan.count):
            pool = _Pool(self.workers, self.cache_mb)
        if pool is None:
            yield from InProcessEngine(self.cache_mb).run(plan, indices, cancel)
            return
        try:
            batches = _batches(indices, self.batch, plan)
            yield from _drive(pool, plan, batches, cancel, self.cache_mb)
        finally:
            pool.close()


def _drive(
    pool: _Pool,
    plan: JobPlan,
    batches: Iterator[list[int]],
    cancel: threading.Event,
    cache_mb: int,
) -> Iterator[Outcome]:
    """Hand batches to the ready workers and yield their outcomes; until every worker is
    ready, make samples in this process too."""
    local: SampleMaker | None = None  # the driver's own, while workers start
    more = True
    pool.set_plan(plan)
    while True:
        pool.adopt()
        stopping = cancel.is_set()
        for w in list(pool.workers):
            while more and not stopping and w.ready and w.queued < QUEUED_PER_WORKER:
                chunk = next(batches, None)
                if chunk is None:
                    more = False
                    break
                try:
                    w.conn.send(("make", chunk))
                except OSError:  # it died since it last answered
                    _lost(pool, w, cancel)
                    break
                w.queued += 1
        # a shard is a long task: the driver stands in with samples, with shards only when
        # no worker could start
        waits = plan.shards is not None and pool.size > 0
        standing_in = more and not stopping and not pool.all_ready and not waits
        if standing_in:
            chunk = next(batches, None)
            if chunk is None:
                more = False
            else:
                local = local or SampleMaker(plan, cache_mb)
                yield from local.make_batch(chunk)
        elif local is not None:
            local = None  # every worker is up: free the driver's caches
        queued = sum(w.queued for w in pool.workers)
        if not queued and (stopping or not more):
            return
        timeout = 0.0 if standing_in else 0.05 if not pool.all_ready else 0.5
        yield from _receive(pool, timeout, cancel)


def _receive(pool: _Pool, timeout: float, cancel: threading.Event) -> Iterator[Outcome]:
    """Read what the workers sent (waiting at most ``timeout`` seconds for something)."""
    by_conn = {w.conn: w for w in pool.workers}
    by_sentinel = {w.process.sentinel: w for w in pool.workers}
    for ready in wait([*by_conn, *by_sentinel], timeout):
        w = by_conn.get(ready)  # type: ignore[call-overload]
        if w is None:  # a process ended; what it sent before is read first
            w = by_sentinel[ready]  # type: ignore[index]
            if w in pool.workers and not w.conn.poll():
                _lost(pool, w, cancel)
            continue
        if w not in pool.workers:
            continue
        try:
            kind, payload = w.conn.recv()
        except (EOFError, OSError):
            _lost(pool, w, cancel)
            continue
        if kind == "ready":
            w.ready = True
        elif kind == "done":
            w.queued -= 1
            yield from payload
        else:
            raise payload


def _lost(pool: _Pool, w: _Worker, cancel: threading.Event) -> None:
    """A worker ended without being told to: after a stop signal it is left out (its samples
    are made again on resume), otherwise the job stops."""
    pool.drop(w)
    if not cancel.is_set():
        raise StudioError(
            "a worker process died (killed, or out of memory); the job is resumable with --resume"
        )


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

    def start(self, count: int | None = None) -> None:
        """Ray starts (or joins its cluster) when the job runs."""

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
