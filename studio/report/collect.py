"""Read an export folder into :class:`ExportStats`, streaming: manifest.jsonl is read row by
row (twice: ranges, then bins), so memory holds counters and a few arrays, never the rows.

Pure: no plotting, no image decoding (``pick_samples`` re-reads only the chosen rows).
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.records import (
    FAILURES,
    JOB,
    MANIFEST,
    STATS,
    read_record_file,
    read_rows,
)
from studio.core.export.review.decisions import read_decisions
from studio.core.export.rows import index_problem, row_problem
from studio.core.model.errors import InputError
from studio.core.model.knobs import KNOBS
from studio.report.stats import Category, Heat2D, Numeric, Usage, bin_index, uniform_edges

REQUIRED = {"index": int, "stem": str, "coverage": (int, float), "params": dict, "files": dict}
COVERAGE_EDGES = uniform_edges(0.0, 1.0, 50)  #: coverage bins: 2 % wide
#: params leaves left out of the generic histograms: ids (usage tables), the centre (heat map;
#: center_px is the same point in pixels) and per-sample random seeds.
SKIPPED_LEAVES = ("face_id", "occluder_id", "texture_id", "center_rel", "center_px")
#: the params' keys of the knobs drawn as seeds (``harmonize.noise_seed``): a seed's histogram
#: says nothing
SEED_KEYS = frozenset(k.params for k in KNOBS if k.draw == "seed" and k.params)
SHAPE_PREFIX = "shape:"  #: RandOcc occluder ids: one random shape per sample, not an input
FILES_PER_REASON = 20  #: failed files listed per reason


@dataclass
class Failures:
    """failures.jsonl grouped by reason."""

    samples: int = 0  #: rows with an index: samples that could not be made
    inputs: int = 0  #: rows without: unusable inputs (the sample used another one)
    reasons: Counter[str] = field(default_factory=Counter)
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> None:
        reason = str(row["reason"])
        if row.get("index") is None:
            self.inputs += 1
        else:
            self.samples += 1
        self.reasons[reason] += 1
        listed = self.files.setdefault(reason, [])
        if len(listed) < FILES_PER_REASON:
            listed.append({"path": str(row["path"]), "index": row.get("index")})

    def grouped(self) -> list[tuple[str, int, list[dict[str, Any]]]]:
        """(reason, count, first files), most frequent first."""
        items = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(r, n, sorted(self.files[r], key=_failure_key)) for r, n in items]


def _failure_key(row: dict[str, Any]) -> tuple[bool, int, str]:
    return (row["index"] is None, row["index"] or 0, row["path"])


@dataclass
class ExportStats:
    """Everything the report shows, gathered from one export folder."""

    out: Path
    rows: int = 0
    coverage: Numeric = field(default_factory=Numeric)
    coverage_counts: list[int] = field(default_factory=lambda: [0] * (len(COVERAGE_EDGES) - 1))
    numbers: dict[str, Numeric] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    center: Heat2D = field(default_factory=Heat2D)
    faces: Usage = field(default_factory=Usage)
    occluders: Usage = field(default_factory=Usage)
    textures: Usage = field(default_factory=Usage)
    sizes: Counter[str] = field(default_factory=Counter)
    attempts: Counter[int] = field(default_factory=Counter)
    failures: Failures = field(default_factory=Failures)
    job: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    #: samples the review rejected and flagged (review.jsonl; they are in the statistics)
    review: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # one entry per row, in manifest order: for the median and the thumbnails
    _cov: array = field(default_factory=lambda: array("d"))
    _index: array = field(default_factory=lambda: array("q"))
    _offset: array = field(default_factory=lambda: array("q"))
    _end: int = 0  #: bytes of the manifest read (rows appended later are left out)

    def add_position(self, coverage: float, index: int, start: int, end: int) -> None:
        """Remember a manifest row: its coverage and sample index (for the median and the
        order) and its byte offset (read again for the thumbnails); ``end``: the bytes of the
        manifest read so far."""
        self._cov.append(coverage)
        self._index.append(index)
        self._offset.append(start)
        self._end = end

    @property
    def manifest_end(self) -> int:
        """Bytes of the manifest read (rows appended later are left out)."""
        return self._end

    def rows_at(self, positions: list[int]) -> list[dict[str, Any]]:
        """The manifest rows at these positions (in manifest order), read again by offset
        (through the export folder; each row checked again: the file may have changed)."""
        with ExportFolder(self.out) as folder:
            fh = folder.open_read(MANIFEST)
            if fh is None:
                raise InputError(f"no {MANIFEST}: not an export folder", self.out)
            rows = []
            with fh:
                for pos in positions:
                    fh.seek(self._offset[int(pos)])
                    row = json.loads(fh.readline())
                    if not isinstance(row, dict) or row_problem(row) is not None:
                        raise InputError("changed while read", self.out / MANIFEST)
                    rows.append(row)
        return rows

    @property
    def coverage_mean(self) -> float:
        """Exactly rounded (``math.fsum``): the same whatever the row order."""
        return math.fsum(self._cov) / self.rows if self.rows else math.nan

    @property
    def coverage_median(self) -> float:
        return float(np.median(np.frombuffer(self._cov, np.float64))) if self.rows else math.nan

    def order_by_coverage(self) -> np.ndarray:
        """Manifest positions sorted by (coverage, sample index): order-independent."""
        cov = np.frombuffer(self._cov, np.float64)
        index = np.frombuffer(self._index, np.int64)
        return np.lexsort((index, cov))

    def varying_numbers(self) -> dict[str, Numeric]:
        return {k: v for k, v in self.numbers.items() if v.varies}

    def varying_categories(self) -> dict[str, Category]:
        return {k: v for k, v in self.categories.items() if len(v.counts) > 1 or k in self.numbers}

    def fixed(self) -> dict[str, str]:
        """Parameters with a single value over the whole export, as shown text."""
        out: dict[str, str] = {}
        for key, num in self.numbers.items():
            if not num.varies and key not in self.categories:
                out[key] = f"{num.lo:g}"
        for key, cat in self.categories.items():
            if len(cat.counts) == 1 and key not in self.numbers:
                out[key] = next(iter(cat.counts))
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        """The report's numbers (report/summary.json)."""
        cov = self.coverage.to_json()
        cov["median"] = None if not self.rows else self.coverage_median
        cov["mean"] = None if not self.rows else self.coverage_mean
        cov["histogram"] = {"edges": COVERAGE_EDGES, "counts": self.coverage_counts}
        cov.pop("values", None)
        return {
            "out": str(self.out),
            "samples": self.rows,
            "coverage": cov,
            "params": {k: v.to_json() for k, v in sorted(self.numbers.items())},
            "categories": {k: dict(v.ordered()) for k, v in sorted(self.categories.items())},
            "fixed": self.fixed(),
            "center": self.center.to_json(),
            "faces": self.faces.to_json(),
            "occluders": self.occluders.to_json(),
            "textures": self.textures.to_json(),
            "sizes": dict(sorted(self.sizes.items())),
            "attempts": {str(k): n for k, n in sorted(self.attempts.items())},
            "failures": {
                "samples": self.failures.samples,
                "inputs": self.failures.inputs,
                "reasons": [
                    {"reason": r, "count": n, "files": files}
                    for r, n, files in self.failures.grouped()
                ],
            },
            "job": self.job,
            "run": self.run,
            "review": self.review,
            "notes": self.notes,
        }


def leaves(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """Flattened ``(key.path, value)`` pairs of a params dict.

    Short lists of numbers become ``key[i]``; other lists (RandOcc shape points) give their
    length as ``len(key)``.
    """
    out: list[tuple[str, Any]] = []
    _flatten(data, "", out)
    return out


def _flatten(data: dict[str, Any], prefix: str, out: list[tuple[str, Any]]) -> None:
    for name, value in data.items():
        kind = type(value)
        if kind is dict:
            _flatten(value, f"{prefix}{name}.", out)
        elif kind is list or kind is tuple:
            if len(value) <= 4 and all(type(v) in (int, float) for v in value):
                out.extend((f"{prefix}{name}[{i}]", v) for i, v in enumerate(value))
            else:
                out.append((f"len({prefix}{name})", len(value)))
        else:
            out.append((prefix + name, value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _skipped(key: str) -> bool:
    base = key.split("[", 1)[0]
    return (
        base in SKIPPED_LEAVES or base == "seed" or base.endswith(".seed") or base in SEED_KEYS
    )


def _check_row(row: dict[str, Any], number: int, path: Path) -> None:
    for key, kind in REQUIRED.items():
        if key not in row:
            raise InputError(f"line {number}: missing key '{key}'", path)
        if not isinstance(row[key], kind) or isinstance(row[key], bool):
            raise InputError(f"line {number}: '{key}' has the wrong type", path)
    problem = row_problem(row)
    if problem is not None:
        raise InputError(f"line {number} {problem}", path)
    if not 0.0 <= row["coverage"] <= 1.0:
        raise InputError(f"line {number}: coverage {row['coverage']!r} is outside [0, 1]", path)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(record: dict[str, Any], key: str, path: Path, where: str = "") -> Any:
    """A number of a record (None when not there); anything else is one line naming it."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InputError(f"{where}{key} is {value!r}, not a number", path)
    return value


def _job_facts(job: dict[str, Any], path: Path) -> dict[str, Any]:
    preset = job.get("preset") if isinstance(job.get("preset"), dict) else {}
    inputs = job.get("inputs") if isinstance(job.get("inputs"), dict) else {}
    return {
        "preset": _text(preset.get("name")),
        "mode": _text(preset.get("mode")),
        "seed": _number(job, "seed", path),
        "count": _number(job, "count", path),
        "version": _text(job.get("version")),
        "layout": _text(job.get("layout")),
        "backend": _text(job.get("backend")),
        "inputs": {
            str(role): _number(item, "items", path, f"inputs.{role}.")
            for role, item in sorted(inputs.items())
            if isinstance(item, dict)
        },
    }


def _run_facts(stats: dict[str, Any], path: Path) -> dict[str, Any]:
    session = stats.get("last_session") if isinstance(stats.get("last_session"), dict) else {}
    return {
        "finished": bool(stats),
        "planned": _number(stats, "planned", path),
        "written": _number(stats, "written", path),
        "engine": _text(session.get("engine")),
        "workers": _number(session, "workers", path, "last_session."),
        "images_per_s": _number(session, "images_per_s", path, "last_session."),
        "seconds": _number(session, "seconds", path, "last_session."),
        "session_samples": _number(session, "samples", path, "last_session."),
    }


def collect(out: str | Path) -> ExportStats:
    """Gather the statistics of the export in ``out``.

    Raises
    ------
    InputError
        when ``out`` has no manifest.jsonl, or a manifest or failures row is not valid (one
        line naming the file and the row).
    """
    with ExportFolder(out) as folder:
        return _collect(folder)


def _collect(folder: ExportFolder) -> ExportStats:
    out = folder.path
    manifest = out / MANIFEST
    if not folder.exists(MANIFEST):
        raise InputError(f"no {MANIFEST}: not an export folder", out)
    stats = ExportStats(out)
    stats.job = _job_facts(read_record_file(folder, JOB) or {}, out / JOB)
    stats.run = _run_facts(read_record_file(folder, STATS) or {}, out / STATS)
    skip: dict[str, bool] = {}  #: parameter leaves left out, by key
    for number, start, end, row in read_rows(folder, MANIFEST, notes=stats.notes):
        _check_row(row, number, manifest)
        _first_pass(stats, row, skip)
        stats.add_position(float(row["coverage"]), int(row["index"]), start, end)
    if stats.rows:
        _second_pass(stats, folder)
    failures = out / FAILURES
    for number, _, _, row in read_rows(folder, FAILURES, notes=stats.notes):
        for key in ("path", "reason"):
            if key not in row:
                raise InputError(f"line {number}: missing key '{key}'", failures)
        if row.get("index") is not None and index_problem(row["index"]) is not None:
            raise InputError(f"line {number} {index_problem(row['index'])}", failures)
        stats.failures.add(row)
    if not stats.run["finished"]:
        stats.notes.append(f"no {STATS}: the job has not finished (or was stopped)")
    verdicts = read_decisions(folder)
    counts = verdicts.counts()
    stats.review = {"rejected": counts["reject"], "flagged": counts["flag"]}
    stats.notes.extend(verdicts.notes)
    return stats


def _first_pass(stats: ExportStats, row: dict[str, Any], skip: dict[str, bool]) -> None:
    cov = float(row["coverage"])
    params = row["params"]
    stats.rows += 1
    stats.coverage.add(cov)
    stats.coverage_counts[bin_index(COVERAGE_EDGES, min(max(cov, 0.0), 1.0))] += 1
    face = row.get("face_id", params.get("face_id"))
    occluder = row.get("occluder_id", params.get("occluder_id"))
    texture = row.get("texture_id", params.get("texture_id"))
    if face:
        stats.faces.add(str(face), cov)
    if occluder and not str(occluder).startswith(SHAPE_PREFIX):
        stats.occluders.add(str(occluder), cov)
    if texture:
        stats.textures.add(str(texture), cov)
    size = row.get("size")
    if isinstance(size, list) and len(size) == 2:
        stats.sizes[f"{size[0]}x{size[1]}"] += 1
    if isinstance(row.get("attempts"), int):
        stats.attempts[row["attempts"]] += 1
    center = params.get("center_rel")
    if isinstance(center, list) and len(center) == 2 and all(map(_is_number, center)):
        stats.center.add(float(center[0]), float(center[1]))
    numbers, categories = stats.numbers, stats.categories
    for key, value in leaves(params):
        skipped = skip.get(key)
        if skipped is None:
            skipped = skip[key] = _skipped(key)
        if skipped:
            continue
        kind = type(value)
        if kind is float or kind is int:
            if kind is float and not math.isfinite(value):
                continue
            num = numbers.get(key)
            if num is None:
                num = numbers[key] = Numeric()
            num.add(value)
        else:
            cat = categories.get(key)
            if cat is None:
                cat = categories[key] = Category()
            cat.add(value)


def _second_pass(stats: ExportStats, folder: ExportFolder) -> None:
    """Bin the numbers whose range the first pass found, and the centres."""
    streamed = {k: n for k, n in stats.numbers.items() if n.needs_pass}
    for num in stats.numbers.values():
        if num.varies and not num.discrete:
            num.start_bins()
    stats.center.start_bins()
    for _, _, _, row in read_rows(folder, MANIFEST, end=stats.manifest_end):
        params = row["params"]
        center = params.get("center_rel")
        if isinstance(center, list) and len(center) == 2 and all(map(_is_number, center)):
            stats.center.add_binned(float(center[0]), float(center[1]))
        if not streamed:
            continue
        for key, value in leaves(params):
            num = streamed.get(key)
            if num is not None and type(value) in (int, float) and math.isfinite(value):
                num.add_binned(value)


def pick_samples(stats: ExportStats, per_bin: int = 6) -> dict[str, list[dict[str, Any]]]:
    """Manifest rows of the lowest-, median- and highest-coverage samples.

    With fewer than ``3 * per_bin`` rows, the rows sorted by coverage are split in thirds.
    Only the chosen rows are read again (by their byte offset).
    """
    order = stats.order_by_coverage()
    n = len(order)
    if n == 0 or per_bin <= 0:
        return {"lowest": [], "median": [], "highest": []}
    if n <= 3 * per_bin:
        low, mid, high = (list(part) for part in np.array_split(order, 3))
    else:
        start = n // 2 - per_bin // 2
        low = list(order[:per_bin])
        mid = list(order[start : start + per_bin])
        high = list(order[-per_bin:])
    high.reverse()
    parts = {"lowest": low, "median": mid, "highest": high}
    return {name: stats.rows_at(positions) for name, positions in parts.items()}
