"""Building the row index of an export: streamed in chunks, cached when finished.

:meth:`IndexBuilder.read` reads the next chunk of the records (the manifest, then the failed
samples); :meth:`IndexBuilder.snapshot` then gives a :class:`~.index.ReviewIndex` of the rows
read so far at no copy (views of buffers that only grow), so a viewer shows the first rows
while the rest is read. With ``worker=True`` the chunks of a large manifest after the first are
parsed in a worker process (:mod:`.chunks`): the reading thread only merges columns. A
finished index is kept in the user cache folder (:mod:`.cache`).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.records import FAILURES, MANIFEST, read_rows
from studio.core.export.review import fields as F
from studio.core.export.review.cache import cache_path, read_cache, write_cache
from studio.core.export.review.chunks import Chunk, Line, parse_batch, read_in_worker
from studio.core.export.review.index import (
    FAILED,
    FROM_FAILURES,
    FROM_MANIFEST,
    WRITTEN,
    ReviewIndex,
    table_order,
)
from studio.core.io.remote import Location, location
from studio.core.model.errors import InputError

CHUNK_ROWS = 2048  #: rows read per chunk by default
WORKER_BYTES = 4 * 2**20  #: a manifest at least this large is parsed in a worker process


class Grow:
    """An array that grows (to the room reserved, else by a quarter); ``view(n)`` is its first
    ``n`` items (no copy)."""

    def __init__(self, dtype: Any, fill: Any, room: int = 1024) -> None:
        self.data = np.empty(room, dtype)
        self.size = 0
        self.fill = fill

    def reserve(self, room: int) -> None:
        """Make room for ``room`` items at once (one copy, not one per growth)."""
        if room > len(self.data):
            bigger = np.empty(room, self.data.dtype)
            bigger[: self.size] = self.data[: self.size]
            self.data = bigger

    def put(self, at: int, values: np.ndarray) -> None:
        """Write ``values`` from row ``at`` on (rows before it never written: ``fill``)."""
        end = at + len(values)
        if end > len(self.data):
            self.reserve(max(end, len(self.data) + len(self.data) // 4))
        if at > self.size:
            self.data[self.size : at] = self.fill
        self.data[at:end] = values
        self.size = max(self.size, end)

    def view(self, n: int) -> np.ndarray:
        if n > self.size:
            self.put(n, np.empty(0, self.data.dtype))
        return self.data[:n]

    def trim(self) -> None:
        """Hold no more room than the items (when no more will come and much is spare)."""
        if len(self.data) > self.size + self.size // 16 + 1024:
            self.data = self.data[: self.size].copy()


@dataclass
class Choices:
    """A choice column's labels (code ``i`` is ``labels[i]``; append-only)."""

    labels: list[str] = field(default_factory=list)
    code_of: dict[str, int] = field(default_factory=dict)

    def codes(self, labels: list[str]) -> np.ndarray:
        """The global code of each of ``labels`` (new ones are added)."""
        out = np.empty(len(labels), np.int32)
        for i, label in enumerate(labels):
            found = self.code_of.get(label)
            if found is None:
                found = self.code_of[label] = len(self.labels)
                self.labels.append(label)
            out[i] = found
        return out


class IndexBuilder:
    """Reads the records of an export in chunks into growing columns (one reading thread)."""

    def __init__(self, out: str | Path, worker: bool = False) -> None:
        self.out: Location = location(out)  # a local path, or a URL in a store
        self.folder = ExportFolder(self.out)
        if not self.folder.exists(MANIFEST):
            raise InputError("not an export folder (no manifest.jsonl)", self.out)
        self.rows = 0
        self.complete = False
        self.notes: list[str] = []
        self.worker = worker
        self._cached: ReviewIndex | None = None
        self._columns = {
            "index": Grow(np.int64, -1), "start": Grow(np.int64, 0),
            "length": Grow(np.int64, 0), "source": Grow(np.int8, FROM_MANIFEST),
        }  # fmt: skip
        self._numbers: dict[str, Grow] = {}
        self._codes: dict[str, Grow] = {}
        self._choices: dict[str, Choices] = {}
        self._fields: dict[str, F.Field] = {}
        self._in_params: dict[str, bool] = {}
        self._floats: set[str] = set()  #: number fields with a fractional value seen
        self._phase = FROM_MANIFEST
        self._lines: Iterator[Line] | None = None
        self._consumed = 0  #: rows of the current record read (here or in the worker)
        self._skip = 0  #: rows the worker process skips (read here before it started)
        self._room = 0  #: rows the columns have room for (from the manifest's size)
        self._pool: ProcessPoolExecutor | None = None
        for key in (F.OUTCOME, F.FAILURE):
            self._add_choice(key, in_params=False)

    # ---- reading --------------------------------------------------------------------------------
    def load_cached(self) -> bool:
        """Take the finished index of the same records from the cache."""
        path = cache_path(self.out)
        try:
            cached = None if path is None else read_cache(path, self.out)
        except (OSError, ValueError, KeyError, TypeError):
            cached = None
        if cached is not None:
            self._cached, self.rows, self.complete = cached, len(cached), True
        return cached is not None

    def read(self, max_rows: int = CHUNK_ROWS) -> int:
        """Read up to ``max_rows`` more rows of the records; returns how many lines were
        read (0: the index is complete)."""
        while not self.complete:
            failures = self._phase == FROM_FAILURES
            name = FAILURES if failures else MANIFEST
            found = self._read_in_worker(max_rows) if not failures else None
            if found is None:  # here
                if self._lines is None:
                    notes_to = None if failures else self.notes
                    self._lines = read_rows(self.folder, name, strict=False, notes=notes_to)
                    for _ in itertools.islice(self._lines, self._consumed):
                        pass  # read in the worker process before it stopped
                batch = list(itertools.islice(self._lines, max_rows))
                found = (parse_batch(batch, failures) if batch else None), len(batch)
            chunk, count = found
            self._consumed += count
            if chunk is not None:
                self._merge(chunk)
                if self._room == 0 and not failures:
                    self._reserve(chunk)
                return max(count, 1)
            self._next_phase()
        return 0

    def _reserve(self, first: Chunk) -> None:
        """Room for the rows the manifest's size promises (from its first rows' mean length),
        so that the columns are not copied at every growth."""
        if not len(first):
            return
        entry = self.folder.stat(MANIFEST)
        if entry is None:
            return
        size = entry.size
        mean = float(first.length.mean())
        self._room = int(size / max(1.0, mean) * 1.02) + 64
        for grow in self._grows():
            grow.reserve(self._room)

    def _grows(self) -> list[Grow]:
        return [*self._columns.values(), *self._numbers.values(), *self._codes.values()]

    @property
    def in_worker(self) -> bool:
        """Whether the manifest is being parsed in the worker process."""
        return self._pool is not None

    def _read_in_worker(self, max_rows: int) -> tuple[Chunk | None, int] | None:
        """The manifest's next chunk and the lines it took, parsed in the worker process
        (with ``worker``, for a large manifest, after its first chunk, read here so that the
        first rows come at once); None: read it here (a worker process that cannot start or
        stops is left, and reading goes on here where it was)."""
        if self._pool is None:
            if not self.worker or self._consumed == 0:
                return None
            entry = self.folder.stat(MANIFEST)
            big = entry is not None and entry.size >= WORKER_BYTES
            if not big:
                return None
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self._lines, self._skip = None, self._consumed
        try:
            future = self._pool.submit(
                read_in_worker, str(self.out), MANIFEST, max_rows, self._skip
            )
            chunk, count, notes = future.result()
        except (BrokenProcessPool, OSError, EOFError, RuntimeError):
            self.close()
            return None
        self._skip = 0
        self.notes.extend(notes)
        return chunk, count

    def _next_phase(self) -> None:
        self._lines, self._consumed = None, 0
        self.close()
        if self._phase == FROM_MANIFEST:
            self._phase = FROM_FAILURES
            return
        self.complete = True
        for grow in self._grows():
            grow.trim()
        path = cache_path(self.out)
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                write_cache(path, self.snapshot())

    def close(self) -> None:
        """Stop the worker process (the builder reads no more of the manifest there)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self.worker = False

    # ---- merging --------------------------------------------------------------------------------
    def _merge(self, chunk: Chunk) -> None:
        keep = np.ones(len(chunk), bool)
        if self._phase == FROM_FAILURES:  # a sample written after all is not a failure
            keep = ~np.isin(chunk.index, self._columns["index"].view(self.rows))
        if not keep.any():
            return
        at, n = self.rows, int(keep.sum())
        for name in ("index", "start", "length"):
            self._columns[name].put(at, getattr(chunk, name)[keep])
        self._columns["source"].put(at, np.full(n, self._phase, np.int8))
        failed = self._phase == FROM_FAILURES
        outcome = self._choices[F.OUTCOME].codes([FAILED if failed else WRITTEN])[0]
        self._codes[F.OUTCOME].put(at, np.full(n, outcome, np.int32))
        given = chunk.reasons or [F.MISSING] * len(chunk)
        reasons = [r for r, k in zip(given, keep, strict=True) if k]
        self._codes[F.FAILURE].put(at, self._choices[F.FAILURE].codes(reasons))
        for key, (values, fractional) in chunk.numbers.items():
            self._field(key, "number", chunk.in_params[key])
            if fractional and key not in self._floats:
                self._floats.add(key)
                self._fields[key] = F.describe(key, "number", self._in_params[key])
            if key in self._numbers:
                self._numbers[key].put(at, values[keep])
            else:  # numbers where the field held words: shown as words
                labels = [F.choice_label(None) if np.isnan(v) else f"{v:g}" for v in values]
                self._codes[key].put(at, self._choices[key].codes(labels)[keep])
        for key, (labels, codes) in chunk.choices.items():
            self._field(key, "choice", chunk.in_params[key])
            if key in self._codes:
                self._codes[key].put(at, self._choices[key].codes(labels)[codes][keep])
        self.rows += n

    def _field(self, key: str, kind: str, in_params: bool) -> None:
        if key in self._fields:
            return
        self._in_params[key] = in_params
        if kind == "number":
            self._numbers[key] = Grow(np.float64, np.nan, max(1024, self._room))
            self._fields[key] = F.describe(key, "number", in_params, integral=True)
        else:
            self._add_choice(key, in_params)

    def _add_choice(self, key: str, in_params: bool) -> None:
        choices = self._choices[key] = Choices()
        missing = int(choices.codes([F.MISSING])[0])
        self._codes[key] = Grow(np.int32, missing, max(1024, self._room))
        self._fields[key] = F.describe(key, "choice", in_params)

    # ---- the index ------------------------------------------------------------------------------
    def snapshot(self) -> ReviewIndex:
        """The rows read so far (views: cheap, and safe to read while reading goes on)."""
        if self._cached is not None:
            return self._cached
        n = self.rows
        keys = table_order([k for k in self._fields if k not in (F.OUTCOME, F.FAILURE)])
        columns = {name: grow.view(n) for name, grow in self._columns.items()}
        return ReviewIndex(
            self.out,
            columns["index"],
            columns["start"],
            columns["length"],
            columns["source"],
            {k: g.view(n) for k, g in self._numbers.items()},
            {k: g.view(n) for k, g in self._codes.items()},
            {k: c.labels for k, c in self._choices.items()},
            tuple(self._fields[k] for k in [*keys, F.OUTCOME, F.FAILURE]),
            self.complete,
            tuple(self.notes),
        )


def open_index(out: str | Path, worker: bool = False) -> ReviewIndex:
    """The whole index of an export (from the cache when it is there)."""
    builder = IndexBuilder(out, worker)
    if not builder.load_cached():
        while builder.read(8 * CHUNK_ROWS):
            pass
    return builder.snapshot()
