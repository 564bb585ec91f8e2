"""One export under review in the studio: its index read in the background, the query
(filters, sort), the order it gives, and the decisions (undoable).

The index is read in chunks on a worker (:class:`~studio.gui.jobs.Jobs`): the first chunk is
small, so the grid shows tiles at once, and each later one adds rows (``grew``). Filters and
sort are NumPy over the columns (a few milliseconds for 100,000 rows) on the UI thread.
A decision changes the grid at once and is appended to review.jsonl on the worker (in order);
an undo appends the decision it takes back.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.export.review import decisions as D
from studio.core.export.review.builder import IndexBuilder
from studio.core.export.review.fields import DECISION, Field
from studio.core.export.review.index import ReviewIndex
from studio.core.export.review.query import Column, Filter, select
from studio.core.io.remote import location
from studio.gui.jobs import Jobs
from studio.gui.wording import error_text

FIRST_ROWS = 512  #: rows of the first chunk (the first screen of tiles)
CHUNK_ROWS = 16_384  #: rows of each later chunk
SHOW_EVERY_S = 2.0  #: while reading, the rows read are shown this often (and at the end)
DECISION_LABELS = ["undecided", D.SHOWN["reject"], D.SHOWN["flag"]]
DECISION_CODE = {"reject": 1, "flag": 2}


def release_free_memory() -> None:
    """Give back to the system the memory freed while the manifest was read (glibc keeps
    freed pages of its heaps otherwise; elsewhere nothing happens)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


#: the rows read so far, and the fields worth filtering by (judged on the worker)
Read = tuple[ReviewIndex, list[Field]]


def _read(builder: IndexBuilder) -> Read:
    index = builder.snapshot()
    return index, index.varying()


class DecisionCommand(QUndoCommand):
    """Set one decision on some samples; undo restores what each had."""

    def __init__(self, session: ReviewSession, samples: list[int], decision: str) -> None:
        word = {"reject": "Reject", "flag": "Flag", "clear": "Clear"}[decision]
        super().__init__(f"{word} {len(samples)} sample{'s' if len(samples) != 1 else ''}")
        self.session = session
        self.new = dict.fromkeys(samples, decision)
        self.old = {s: session.decisions.get(s, "clear") for s in samples}

    def redo(self) -> None:
        self.session.apply(self.new)

    def undo(self) -> None:
        self.session.apply(self.old)


class ReviewSession(QObject):
    """An export folder under review (see the module's docstring)."""

    grew = Signal()  #: more rows were read (or the index is complete)
    orderChanged = Signal()  #: the rows the query keeps, or their order, changed
    decisionsChanged = Signal()
    problem = Signal(str)  #: one line for the user

    def __init__(
        self, out: str | Path, jobs: Jobs, undo: QUndoStack | None = None, worker: bool = True
    ) -> None:
        super().__init__()
        self.out = location(out)  # a local path, or a URL in a store
        self.worker = worker  #: a large manifest is parsed in a worker process
        self.jobs = jobs
        self.undo = undo if undo is not None else QUndoStack(self)
        self.index: ReviewIndex | None = None
        self.varying: list[Field] = []  #: the fields whose value varies in the rows read
        self.decisions: dict[int, str] = {}
        self.filters: dict[str, Filter] = {}
        self.sort: str | None = None
        self.descending = False
        self.order = np.empty(0, np.int64)
        self.kept = np.empty(0, bool)  #: rows the filters keep (bool per row)
        self._builder: IndexBuilder | None = None
        self._writes = 0
        self._shown_at = 0.0
        self._decision_column: Column | None = None

    # ---- reading --------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the export and read its rows in the background."""

        def opened() -> tuple[IndexBuilder, D.Verdicts, Read]:
            builder = IndexBuilder(self.out, worker=self.worker)
            if not builder.load_cached():
                builder.read(FIRST_ROWS)
            return builder, D.read_decisions(self.out), _read(builder)

        def done(found: tuple[IndexBuilder, D.Verdicts, Read]) -> None:
            self._builder, verdicts, read = found
            self.decisions = dict(verdicts.by_index)
            for note in verdicts.notes:
                self.problem.emit(f"{self.out}: {note}")
            self._grew(read)

        self.jobs.submit(("open", str(self.out)), opened, done, self._failed)

    def _failed(self, err: BaseException) -> None:
        self.problem.emit(error_text(err))

    def _grew(self, read: Read) -> None:
        index, varying = read
        now = time.monotonic()
        if self.index is None or index.complete or now - self._shown_at >= SHOW_EVERY_S:
            self.index, self.varying, self._shown_at = index, varying, now
            self._decision_column = None
            self.refresh()
            self.grew.emit()
        if not index.complete:
            builder = self._builder
            assert builder is not None

            def more() -> Read:
                builder.read(CHUNK_ROWS)
                return _read(builder)

            self.jobs.submit(("read", str(self.out)), more, self._grew, self._failed)
        else:
            release_free_memory()
            for note in index.notes:
                self.problem.emit(f"{self.out}: {note}")

    @property
    def complete(self) -> bool:
        return self.index is not None and self.index.complete

    # ---- the query ------------------------------------------------------------------------------
    def set_filter(self, key: str, flt: Filter | None) -> None:
        if flt is None:
            self.filters.pop(key, None)
        else:
            self.filters[key] = flt
        self.refresh()

    def clear_filters(self) -> None:
        self.filters.clear()
        self.refresh()

    def set_sort(self, key: str | None, descending: bool = False) -> None:
        self.sort, self.descending = key, descending
        self.refresh()

    def extra(self) -> dict[str, Column]:
        """The decision column (codes per row), made again after each decision."""
        if self._decision_column is None:
            index = self.index
            codes = np.zeros(0 if index is None else len(index), np.int32)
            if index is not None:
                for decision, code in DECISION_CODE.items():
                    samples = [s for s, d in self.decisions.items() if d == decision]
                    codes[np.isin(index.index, samples)] = code
            self._decision_column = Column(codes, DECISION_LABELS)
        return {DECISION: self._decision_column}

    def refresh(self) -> None:
        """Apply the query to the rows read so far."""
        if self.index is None:
            return
        extra = self.extra()
        self.order = select(self.index, self.filters.values(), self.sort, self.descending, extra)
        self.kept = np.zeros(len(self.index), bool)
        self.kept[self.order] = True
        self.orderChanged.emit()

    # ---- decisions ------------------------------------------------------------------------------
    def decide(self, samples: list[int], decision: str) -> None:
        """Reject, flag or clear ``samples`` (one undoable step)."""
        if samples:
            self.undo.push(DecisionCommand(self, samples, decision))

    def apply(self, decisions: dict[int, str]) -> None:
        """Take ``decisions`` (sample -> reject/flag/clear) and append them to review.jsonl."""
        for sample, decision in decisions.items():
            if decision == "clear":
                self.decisions.pop(sample, None)
            else:
                self.decisions[sample] = decision
        self._writes += 1
        items = list(decisions.items())
        self.jobs.submit(
            ("decide", self._writes), lambda: D.record(self.out, items), lambda _rows: None,
            lambda err: self.problem.emit(f"not saved: {error_text(err)}"),
        )  # fmt: skip
        self._decision_column = None
        if DECISION in self.filters or self.sort == DECISION:
            self.refresh()
        self.decisionsChanged.emit()

    def close(self) -> None:
        """Stop reading (the worker process ends)."""
        if self._builder is not None:
            self._builder.close()

    def counts(self) -> dict[str, int]:
        """Samples rejected and flagged."""
        values = list(self.decisions.values())
        return {d: values.count(d) for d in DECISION_CODE}

    def pending_writes(self) -> int:
        return self.jobs.pending()
