"""A chunk of record lines turned into columns, in any process.

:func:`parse_batch` is the expensive part of reading an export (JSON and the walk of every
row); it needs nothing but the lines, so a large manifest is parsed in a worker process
(:func:`read_in_worker`) while the studio's UI thread stays free of the work and of Python's
interpreter lock. The builder merges the columns (:class:`~.builder.IndexBuilder`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.records import read_rows
from studio.core.export.review import fields as F
from studio.core.export.rows import sample_index

Line = tuple[int, int, int, dict[str, Any]]  #: line number, start, end, row (read_rows)


@dataclass
class Chunk:
    """The columns of some rows (picklable): per row its sample index and line, per field
    its numbers (and whether one was fractional) or its choices (local labels and codes)."""

    index: np.ndarray
    start: np.ndarray
    length: np.ndarray
    reasons: list[str] | None = None  #: failures: why each sample was not made
    numbers: dict[str, tuple[np.ndarray, bool]] = field(default_factory=dict)
    choices: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    in_params: dict[str, bool] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index)


def parse_batch(batch: list[Line], failures: bool = False) -> Chunk:
    """The columns of ``batch`` (lines without a sample index are left out: an input
    problem, an odd line). A field whose values in the batch are all missing is left out (the
    builder fills it)."""
    keep = [item for item in batch if sample_index(item[3].get("index")) is not None]
    chunk = Chunk(
        np.array([item[3]["index"] for item in keep], np.int64),
        np.array([item[1] for item in keep], np.int64),
        np.array([item[2] - item[1] for item in keep], np.int64),
    )
    if failures:
        chunk.reasons = [str(item[3].get("reason", "")) for item in keep]
        return chunk
    flats = [F.leaves(item[3]) for item in keep]
    keys: dict[str, None] = {}
    for flat in flats:
        keys.update(dict.fromkeys(flat))
    params = keep[0][3].get("params") if keep else None
    for key in keys:
        values = [flat.get(key) for flat in flats]
        chunk.in_params[key] = isinstance(params, dict) and key.split(".")[0] in params
        if any(F.is_number(v) for v in values) and not any(
            isinstance(v, (str, bool)) for v in values
        ):
            chunk.numbers[key] = _numbers(values)
        elif any(v is not None for v in values):
            labels: dict[str, int] = {}
            codes = [labels.setdefault(F.choice_label(v), len(labels)) for v in values]
            chunk.choices[key] = (list(labels), np.array(codes, np.int32))
    return chunk


def _numbers(values: list[Any]) -> tuple[np.ndarray, bool]:
    try:
        column = np.array(values, np.float64)  # None -> NaN
    except (TypeError, ValueError):
        column = np.array([v if F.is_number(v) else np.nan for v in values], np.float64)
    return column, any(type(v) is float for v in values)


# ---- in a worker process -------------------------------------------------------------------------
#: the records being read by this process: (file, notes), kept between calls
_STREAMS: dict[tuple[str, str], tuple[Iterator[Line], list[str]]] = {}


def read_in_worker(
    out: str, name: str, max_rows: int, skip: int = 0, failures: bool = False
) -> tuple[Chunk | None, int, list[str]]:
    """The next ``max_rows`` rows of the record ``name`` of the export in ``out`` as a chunk
    (after its first ``skip`` rows, read elsewhere; None at its end), the rows it took, and
    the notes of its reading (at its end)."""
    key = (out, name)
    stream = _STREAMS.get(key)
    if stream is None:
        notes: list[str] = []
        lines = read_rows(ExportFolder(out), name, strict=False, notes=notes)
        stream = _STREAMS[key] = (lines, notes)
        for _ in itertools.islice(lines, skip):
            pass
    batch = list(itertools.islice(stream[0], max_rows))
    if not batch:
        del _STREAMS[key]
        return None, 0, stream[1]
    return parse_batch(batch, failures), len(batch), []
