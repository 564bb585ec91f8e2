"""Streaming accumulators for the export report: numbers, categories and the centre heat map.

Each accumulator sees a value at a time, holds O(bins) memory and gives the same result
whatever the order of the values (an export's manifest is written in completion order, which
depends on the worker count). Numbers are binned in a second pass, once their range is known.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from typing import Any

MAX_DISTINCT = 64  #: distinct values kept exactly per number (discrete parameters)
MAX_CATEGORIES = 50  #: distinct values counted per category; later ones count as "(other)"
OTHER = "(other)"


def bin_count(n: int) -> int:
    """Bins of a histogram of ``n`` values: about 1.5 sqrt(n), between 8 and 40."""
    return int(min(40, max(8, round(1.5 * math.sqrt(max(n, 1))))))


def uniform_edges(lo: float, hi: float, bins: int) -> list[float]:
    """``bins + 1`` equally spaced edges from ``lo`` to ``hi`` (exactly ``lo`` and ``hi``)."""
    return [lo + (hi - lo) * k / bins for k in range(bins)] + [hi]


def bin_index(edges: list[float], x: float) -> int:
    """The bin of ``x``: half-open bins, the last one closed (``numpy.histogram``'s rule)."""
    k = bisect_right(edges, x) - 1
    return min(max(k, 0), len(edges) - 2)


class Numeric:
    """Count, min, max, mean and std of a number; a histogram once :meth:`start_bins` ran.

    While at most :data:`MAX_DISTINCT` distinct values are seen they are counted exactly
    (integers then get one bar per value); beyond that a second pass bins them.
    """

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.total_sq = 0.0
        self.lo = math.inf
        self.hi = -math.inf
        self.values: dict[float, int] | None = {}
        self.edges: list[float] | None = None
        self.counts: list[int] | None = None

    def add(self, x: float) -> None:
        self.count += 1
        self.total += x
        self.total_sq += x * x
        if x < self.lo:
            self.lo = x
        if x > self.hi:
            self.hi = x
        values = self.values
        if values is not None:
            values[x] = values.get(x, 0) + 1
            if len(values) > MAX_DISTINCT:
                self.values = None

    @property
    def varies(self) -> bool:
        return self.count > 0 and self.lo < self.hi

    @property
    def discrete(self) -> bool:
        """Few distinct values, all integers: shown as one bar per value."""
        return self.values is not None and all(float(v).is_integer() for v in self.values)

    @property
    def needs_pass(self) -> bool:
        """True when the values must be streamed again to be binned."""
        return self.varies and not self.discrete and self.values is None

    def start_bins(self) -> None:
        """Fix the bins from the range seen; values given to :meth:`add_binned` fill them."""
        self.edges = uniform_edges(self.lo, self.hi, bin_count(self.count))
        self.counts = [0] * (len(self.edges) - 1)
        if self.values is not None:  # every value is known: bin them now
            for value, n in self.values.items():
                self.counts[bin_index(self.edges, value)] += n

    def add_binned(self, x: float) -> None:
        assert self.edges is not None and self.counts is not None
        self.counts[bin_index(self.edges, x)] += 1

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    @property
    def std(self) -> float:
        if not self.count:
            return math.nan
        return math.sqrt(max(0.0, self.total_sq / self.count - self.mean**2))

    def bars(self) -> tuple[list[float], list[int]]:
        """Discrete values and their counts, ascending."""
        assert self.values is not None
        keys = sorted(self.values)
        return keys, [self.values[k] for k in keys]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "count": self.count,
            "min": self.lo if self.count else None,  # JSON has no infinity
            "max": self.hi if self.count else None,
            "mean": rounded(self.mean),
            "std": rounded(self.std),
        }
        if self.discrete:
            values, counts = self.bars()
            out["values"] = {"values": values, "counts": counts}
        elif self.edges is not None and self.counts is not None:
            out["histogram"] = {"edges": self.edges, "counts": self.counts}
        return out


class Category:
    """Counts of the non-numeric values of a key (strings, booleans, None)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, value: Any) -> None:
        label = label_of(value)
        if label in self.counts or len(self.counts) < MAX_CATEGORIES:
            self.counts[label] += 1
        else:
            self.counts[OTHER] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def ordered(self) -> list[tuple[str, int]]:
        """Values by count, most frequent first (ties by name: order-independent)."""
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))


def label_of(value: Any) -> str:
    """How a category value is shown: ``true``/``false``/``none`` or the string."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Heat2D:
    """A 2-D histogram of the occluder centres in face-box coordinates ((0, 0)..(1, 1)).

    The range is the face box grown to every centre seen in the first pass; the cells are
    square, about ``sqrt(n) / 2`` of them across the face box (8 to 40).
    """

    def __init__(self) -> None:
        self.lo = [0.0, 0.0]
        self.hi = [1.0, 1.0]
        self.count = 0
        self.edges: list[list[float]] | None = None
        self.counts: list[list[int]] | None = None

    def add(self, x: float, y: float) -> None:
        self.count += 1
        for axis, v in enumerate((x, y)):
            self.lo[axis] = min(self.lo[axis], v)
            self.hi[axis] = max(self.hi[axis], v)

    def start_bins(self) -> None:
        per_face = int(min(40, max(8, round(math.sqrt(max(self.count, 1)) / 2))))
        self.edges = []
        for axis in (0, 1):
            first = math.floor(self.lo[axis] * per_face)
            last = math.ceil(self.hi[axis] * per_face)
            self.edges.append([k / per_face for k in range(first, last + 1)])
        self.counts = [[0] * (len(self.edges[0]) - 1) for _ in range(len(self.edges[1]) - 1)]

    def add_binned(self, x: float, y: float) -> None:
        assert self.edges is not None and self.counts is not None
        self.counts[bin_index(self.edges[1], y)][bin_index(self.edges[0], x)] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "x_edges": self.edges[0] if self.edges else None,
            "y_edges": self.edges[1] if self.edges else None,
            "counts": self.counts,
        }


class Usage:
    """How often each id (face, occluder, texture) was used, and its mean face coverage."""

    def __init__(self) -> None:
        self.uses: Counter[str] = Counter()
        self.coverage: dict[str, float] = {}

    def add(self, item: str, coverage: float) -> None:
        self.uses[item] += 1
        self.coverage[item] = self.coverage.get(item, 0.0) + coverage

    @property
    def distinct(self) -> int:
        return len(self.uses)

    @property
    def total(self) -> int:
        return sum(self.uses.values())

    def ranked(self) -> list[tuple[str, int, float]]:
        """(id, uses, mean coverage), most used first (ties by id)."""
        rows = [(k, n, self.coverage[k] / n) for k, n in self.uses.items()]
        return sorted(rows, key=lambda r: (-r[1], r[0]))

    def top_bottom(self, k: int = 20) -> tuple[list[tuple[str, int, float]], list]:
        """The ``k`` most and the ``k`` least used ids (the second list empty when all fit
        in the first)."""
        ranked = self.ranked()
        if len(ranked) <= k:
            return ranked, []
        bottom = ranked[-k:] if len(ranked) >= 2 * k else ranked[k:]
        return ranked[:k], sorted(bottom, key=lambda r: (r[1], r[0]))

    def to_json(self, k: int = 20) -> dict[str, Any]:
        top, bottom = self.top_bottom(k)

        def rows(items: list[tuple[str, int, float]]) -> list[dict[str, Any]]:
            return [{"id": i, "uses": n, "mean_coverage": rounded(c)} for i, n, c in items]

        counts = sorted(self.uses.values())
        return {
            "distinct": self.distinct,
            "uses": self.total,
            "min_uses": counts[0] if counts else 0,
            "max_uses": counts[-1] if counts else 0,
            "top": rows(top),
            "bottom": rows(bottom),
        }


def rounded(x: float, digits: int = 6) -> float | None:
    """``x`` to ``digits`` significant digits (None for NaN): stable across summation order."""
    if math.isnan(x):
        return None
    return float(f"{x:.{digits}g}")
