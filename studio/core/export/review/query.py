"""Filters, sort and histograms over a :class:`~.index.ReviewIndex`, vectorised (NumPy).

A number field is filtered by an inclusive range (rows without a value fall outside any
range); a choice field by the codes it keeps. The result of :func:`select` is the positions
of the rows kept, in the order asked for: by sample index, or by a field (numbers by value,
choices by their label; rows without a value last), ties in the order the rows were recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from studio.core.export.review.index import ReviewIndex

BINS = 32  #: bars of a number field's histogram


@dataclass(frozen=True)
class Filter:
    """What one field keeps: ``low <= value <= high`` (numbers) or ``codes`` (choices)."""

    key: str
    low: float = -np.inf
    high: float = np.inf
    codes: frozenset[int] | None = None


@dataclass(frozen=True)
class Column:
    """A field's values: numbers, or choice codes and their labels."""

    values: np.ndarray
    labels: list[str] | None = None


def column(index: ReviewIndex, key: str, extra: Mapping[str, Column] | None = None) -> Column:
    """The column of ``key``: one of the index's, or one of ``extra`` (the decisions)."""
    if extra is not None and key in extra:
        return extra[key]
    if key in index.numbers:
        return Column(index.numbers[key])
    return Column(index.codes[key], index.labels[key])


def keeps(col: Column, flt: Filter) -> np.ndarray:
    """The rows ``flt`` keeps (bool per row)."""
    if flt.codes is not None:
        wanted = np.zeros(max(len(col.labels or ()), 1) + 1, bool)
        wanted[[c for c in flt.codes if 0 <= c < len(wanted)]] = True
        return wanted[col.values]
    with np.errstate(invalid="ignore"):
        return (col.values >= flt.low) & (col.values <= flt.high)


def mask(
    index: ReviewIndex, filters: Iterable[Filter], extra: Mapping[str, Column] | None = None
) -> np.ndarray:
    """The rows every filter keeps (bool per row)."""
    kept = np.ones(len(index), bool)
    for flt in filters:
        kept &= keeps(column(index, flt.key, extra), flt)
    return kept


def sort_key(col: Column) -> np.ndarray:
    """What rows are sorted by: a number, or the rank of a choice's label."""
    if col.labels is None:
        return col.values
    rank = np.empty(len(col.labels), np.int64)
    rank[np.argsort(np.array(col.labels, dtype=object))] = np.arange(len(col.labels))
    return rank[col.values]


def select(
    index: ReviewIndex,
    filters: Iterable[Filter] = (),
    sort: str | None = None,
    descending: bool = False,
    extra: Mapping[str, Column] | None = None,
) -> np.ndarray:
    """Positions of the rows every filter keeps, sorted by ``sort`` (None: by sample index)."""
    kept = np.flatnonzero(mask(index, filters, extra))
    if sort is None:
        by_index = kept[np.argsort(index.index[kept], kind="stable")]
        return by_index[::-1] if descending else by_index
    key = sort_key(column(index, sort, extra))[kept]
    if key.dtype.kind == "f":
        missing = np.isnan(key)
        key = np.where(missing, 0.0, -key if descending else key)
        order = np.lexsort((key, missing))  # rows without a value last, either way
    else:
        order = np.argsort(-key if descending else key, kind="stable")
    return kept[order]


def edges(col: Column, bins: int = BINS) -> np.ndarray:
    """The bin edges of a number column's histogram (its whole range)."""
    values = col.values[~np.isnan(col.values)]
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, bins + 1)


def bin_ids(col: Column, bin_edges: np.ndarray) -> np.ndarray:
    """The bar of each row (choices: their code; numbers without a value: one past the
    last bar)."""
    if col.labels is not None:
        return col.values.astype(np.int32)
    bins = len(bin_edges) - 1
    with np.errstate(invalid="ignore"):
        ids = np.searchsorted(bin_edges, col.values, side="right").astype(np.int32) - 1
    np.clip(ids, 0, bins - 1, out=ids)
    ids[np.isnan(col.values)] = bins
    return ids


def counts(ids: np.ndarray, bars: int, kept: np.ndarray | None = None) -> np.ndarray:
    """Rows per bar (of the ``kept`` rows only, when given)."""
    chosen = ids if kept is None else ids[kept]
    return np.bincount(chosen, minlength=bars + 1)[:bars]
