"""The row index of an export under review: the manifest read once, as NumPy columns.

The manifest is streamed in chunks (:meth:`IndexBuilder.read`): after each chunk
:meth:`IndexBuilder.snapshot` gives a :class:`ReviewIndex` of the rows read so far, at no copy
(views of growing buffers), so a viewer shows the first rows while the rest is read. The index
keeps, per row, the sample index, where its line lies in the manifest (a row is read back
whole only when it is shown: :meth:`ReviewIndex.row`), and one column per field
(:mod:`.fields`): float64 for numbers (NaN where a row has no value), int32 codes into a list
of labels for choices. Failed samples (failures.jsonl) are rows too, without files.

A finished index is kept in the user cache folder, keyed by the identity of the record files
(path, size, modification time): opening the same export again reads the columns back.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.export.records import FAILURES, MANIFEST, read_rows
from studio.core.export.review import fields as F
from studio.core.io.paths import cache_root, file_key
from studio.core.io.writers import write_bytes_atomic
from studio.core.model.errors import InputError
from studio.core.model.knobs import KNOBS

INDEX_VERSION = "review-index-v1"  #: changes whenever the cached columns change meaning
CHUNK_ROWS = 2048  #: rows read per chunk
WRITTEN, FAILED = "written", "failed"
#: which record file a row's line is in (``ReviewIndex.source``)
FROM_MANIFEST, FROM_FAILURES = 0, 1


class _Grow:
    """An array that grows by doubling; ``view()`` is the filled part (no copy)."""

    def __init__(self, dtype: Any, fill: Any) -> None:
        self.data = np.empty(1024, dtype)
        self.size = 0
        self.fill = fill

    def extend(self, values: np.ndarray, at: int | None = None) -> None:
        """Append ``values`` at row ``at`` (rows before it that were never set: ``fill``)."""
        start = self.size if at is None else at
        end = start + len(values)
        if end > len(self.data):
            bigger = np.empty(max(end, 2 * len(self.data)), self.data.dtype)
            bigger[: self.size] = self.data[: self.size]
            self.data = bigger
        if start > self.size:
            self.data[self.size : start] = self.fill
        self.data[start:end] = values
        self.size = end

    def view(self, n: int) -> np.ndarray:
        if n > self.size:
            self.extend(np.empty(0, self.data.dtype), at=n)
        return self.data[:n]


@dataclass
class Choices:
    """A choice column's labels (code ``i`` is ``labels[i]``; append-only)."""

    labels: list[str] = field(default_factory=list)
    code_of: dict[str, int] = field(default_factory=dict)

    def code(self, label: str) -> int:
        found = self.code_of.get(label)
        if found is None:
            found = self.code_of[label] = len(self.labels)
            self.labels.append(label)
        return found


@dataclass(frozen=True)
class ReviewIndex:
    """The rows of an export read so far (see the module's docstring). Rows are in the order
    they were recorded; a row's *position* addresses it in every array."""

    out: Path
    index: np.ndarray  #: the sample index of each row (int64)
    start: np.ndarray  #: byte offset of each row's line in its record file (int64)
    length: np.ndarray  #: its length in bytes (int64)
    source: np.ndarray  #: FROM_MANIFEST or FROM_FAILURES (int8)
    numbers: dict[str, np.ndarray]  #: float64 per number field
    codes: dict[str, np.ndarray]  #: int32 codes per choice field
    labels: dict[str, list[str]]  #: the labels of each choice field's codes
    fields: tuple[F.Field, ...]  #: every field, in the table's order
    complete: bool = False  #: every record has been read
    notes: tuple[str, ...] = ()  #: what was skipped while reading (a torn last line)

    def __len__(self) -> int:
        return len(self.index)

    def field(self, key: str) -> F.Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def values(self, key: str) -> np.ndarray:
        """A field's column: numbers (float64) or choice codes (int32)."""
        return self.numbers[key] if key in self.numbers else self.codes[key]

    def label(self, key: str, position: int) -> str:
        """A choice field's value at ``position``, as shown."""
        return self.labels[key][int(self.codes[key][position])]

    def varying(self) -> list[F.Field]:
        """The fields worth filtering by: those whose value (or whether there is one) is not
        the same in every written sample (failed samples have none)."""
        written = self.codes[F.OUTCOME] != self.labels[F.OUTCOME].index(FAILED) if (
            FAILED in self.labels[F.OUTCOME]
        ) else np.ones(len(self), bool)  # fmt: skip
        found = []
        for f in self.fields:
            column = self.values(f.key)[written]
            if not len(column):
                continue
            if f.kind == "number":
                known = ~np.isnan(column)
                if known.any() and (not known.all() or np.ptp(column[known]) > 0):
                    found.append(f)
            elif f.key == F.OUTCOME:
                if len(column) < len(self):  # some samples failed
                    found.append(f)
            elif (column != column[0]).any():
                found.append(f)
        return found

    @cached_property
    def _by_sample(self) -> np.ndarray:
        return np.argsort(self.index, kind="stable")

    def position_of(self, sample: int) -> int | None:
        """The row of sample index ``sample`` (its first, when recorded twice)."""
        order = self._by_sample
        at = int(np.searchsorted(self.index, sample, sorter=order))
        if at < len(order) and self.index[order[at]] == sample:
            return int(order[at])
        return None

    def row(self, position: int) -> dict[str, Any]:
        """The whole record of the row at ``position`` (read from its file).

        Raises
        ------
        InputError
            naming the file when the line can no longer be read (the file changed).
        """
        name = MANIFEST if self.source[position] == FROM_MANIFEST else FAILURES
        path = self.out / name
        try:
            with path.open("rb") as fh:
                fh.seek(int(self.start[position]))
                raw = fh.read(int(self.length[position]))
            row = json.loads(raw)
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the row of sample {self.index[position]}", path) from err
        if not isinstance(row, dict):
            raise InputError(f"the row of sample {self.index[position]} is not an object", path)
        return row


def _order(keys: list[str]) -> list[str]:
    """Params paths in the table's order (a spread list's items at their entry's place), then
    the rest as found."""
    rank = {k.params: i for i, k in enumerate(KNOBS) if k.params is not None}

    def place(key: str) -> int:
        while key not in rank and "." in key:
            key = key.rpartition(".")[0]
        return rank.get(key, len(rank))

    return sorted(keys, key=place)


class IndexBuilder:
    """Reads the records of an export in chunks, into growing columns (one reader thread)."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        if not (self.out / MANIFEST).is_file():
            raise InputError("not an export folder (no manifest.jsonl)", self.out)
        self.rows = 0
        self.complete = False
        self.notes: list[str] = []
        self._index = _Grow(np.int64, -1)
        self._start = _Grow(np.int64, 0)
        self._length = _Grow(np.int64, 0)
        self._source = _Grow(np.int8, FROM_MANIFEST)
        self._numbers: dict[str, _Grow] = {}
        self._codes: dict[str, _Grow] = {}
        self._choices: dict[str, Choices] = {}
        self._fields: dict[str, F.Field] = {}
        self._floats: set[str] = set()  #: number fields with a non-integral value seen
        self._in_params: dict[str, bool] = {}
        self._seen: set[int] = set()
        self._lines: Iterator[tuple[int, int, int, dict[str, Any]]] | None = None
        self._phase = FROM_MANIFEST
        self._cache_key = _cache_key(self.out)
        for key in (F.OUTCOME, F.FAILURE):
            self._add_choice(key, in_params=False)

    # ---- reading --------------------------------------------------------------------------------
    def load_cached(self) -> bool:
        """Take the columns of a finished index of the same records from the cache."""
        if self._cache_key is None:
            return False
        try:
            cached = _read_cache(_cache_path(self._cache_key), self.out)
        except (OSError, ValueError, KeyError):
            return False
        if cached is None:
            return False
        self._cached = cached
        self.rows = len(cached)
        self.complete = True
        return True

    def read(self, max_rows: int = CHUNK_ROWS) -> int:
        """Read up to ``max_rows`` more lines of the records; returns how many (0: the index
        is complete). The manifest comes first, then the failed samples."""
        while not self.complete:
            if self._lines is None:
                name = MANIFEST if self._phase == FROM_MANIFEST else FAILURES
                notes = self.notes if self._phase == FROM_MANIFEST else None
                self._lines = read_rows(self.out / name, strict=False, notes=notes)
            batch = list(itertools.islice(self._lines, max_rows))
            if batch:
                self._add(batch)
                return len(batch)
            if self._phase == FROM_MANIFEST:
                self._phase, self._lines = FROM_FAILURES, None
                continue
            self.complete = True
            if self._cache_key is not None:
                with contextlib.suppress(OSError, ValueError):
                    _write_cache(_cache_path(self._cache_key), self.snapshot())
        return 0

    def _add(self, batch: list[tuple[int, int, int, dict[str, Any]]]) -> None:
        failures = self._phase == FROM_FAILURES
        keep = []
        for item in batch:
            index = item[3].get("index")
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                continue  # an input problem (no index), or an odd line: no sample
            if failures and index in self._seen:
                continue
            self._seen.add(index)
            keep.append(item)
        if not keep:
            return
        at, n = self.rows, len(keep)
        self._index.extend(np.array([item[3]["index"] for item in keep], np.int64))
        self._start.extend(np.array([item[1] for item in keep], np.int64))
        self._length.extend(np.array([item[2] - item[1] for item in keep], np.int64))
        self._source.extend(np.full(n, self._phase, np.int8))
        flats = [{} if failures else F.leaves(item[3]) for item in keep]
        outcome = self._choices[F.OUTCOME].code(FAILED if failures else WRITTEN)
        self._codes[F.OUTCOME].extend(np.full(n, outcome, np.int32), at)
        reasons = self._choices[F.FAILURE]
        self._codes[F.FAILURE].extend(
            np.array(
                [reasons.code(str(item[3].get("reason", "")) if failures else F.MISSING)
                 for item in keep], np.int32,
            ), at,
        )  # fmt: skip
        params = keep[0][3].get("params") or {}
        keys: dict[str, None] = {}
        for flat in flats:
            keys.update(dict.fromkeys(flat))
        for key in keys:
            values = [flat.get(key) for flat in flats]
            self._add_column(key, values, at, in_params=key.split(".")[0] in params)
        self.rows += n

    def _add_column(self, key: str, values: list[Any], at: int, in_params: bool) -> None:
        if key not in self._fields:
            self._in_params[key] = in_params
            first = next((v for v in values if v is not None), None)
            if F.is_number(first):
                self._numbers[key] = _Grow(np.float64, np.nan)
                self._fields[key] = F.describe(key, "number", in_params, integral=True)
            else:
                self._add_choice(key, in_params)
        if key in self._numbers:
            try:
                column = np.array(values, np.float64)
            except (TypeError, ValueError):
                column = np.array([v if F.is_number(v) else np.nan for v in values], np.float64)
            if key not in self._floats and any(type(v) is float for v in values):
                self._floats.add(key)
                self._fields[key] = F.describe(key, "number", self._in_params[key])
            self._numbers[key].extend(column, at)
        else:
            choices = self._choices[key]
            codes = [choices.code(F.choice_label(v)) for v in values]
            self._codes[key].extend(np.array(codes, np.int32), at)

    def _add_choice(self, key: str, in_params: bool) -> None:
        choices = self._choices[key] = Choices()
        missing = choices.code(F.MISSING)
        self._codes[key] = _Grow(np.int32, missing)
        self._fields[key] = F.describe(key, "choice", in_params)

    # ---- the index ------------------------------------------------------------------------------
    def snapshot(self) -> ReviewIndex:
        """The rows read so far (views: cheap, and safe to read while reading goes on)."""
        cached = getattr(self, "_cached", None)
        if cached is not None:
            return cached
        n = self.rows
        keys = _order([k for k in self._fields if k not in (F.OUTCOME, F.FAILURE)])
        fields = tuple(self._fields[k] for k in [*keys, F.OUTCOME, F.FAILURE])
        return ReviewIndex(
            self.out,
            self._index.view(n),
            self._start.view(n),
            self._length.view(n),
            self._source.view(n),
            {k: g.view(n) for k, g in self._numbers.items()},
            {k: g.view(n) for k, g in self._codes.items()},
            {k: c.labels for k, c in self._choices.items()},
            fields,
            self.complete,
            tuple(self.notes),
        )


def open_index(out: str | Path) -> ReviewIndex:
    """The whole index of an export (from the cache when it is there)."""
    builder = IndexBuilder(out)
    if not builder.load_cached():
        while builder.read(8 * CHUNK_ROWS):
            pass
    return builder.snapshot()


# ---- the cache ----------------------------------------------------------------------------------
def _cache_key(out: Path) -> str | None:
    files = [out / MANIFEST] + ([out / FAILURES] if (out / FAILURES).exists() else [])
    try:
        key = file_key(*files, INDEX_VERSION)
    except OSError:
        return None
    return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()


def _cache_path(key: str) -> Path:
    return cache_root() / "review" / f"{key}.npz"


def _write_cache(path: Path, index: ReviewIndex) -> None:
    arrays: dict[str, np.ndarray] = {
        "index": index.index, "start": index.start, "length": index.length,
        "source": index.source,
    }  # fmt: skip
    meta = {
        "fields": [f.__dict__ for f in index.fields],
        "numbers": list(index.numbers),
        "codes": list(index.codes),
        "labels": index.labels,
        "notes": list(index.notes),
    }
    for i, key in enumerate(index.numbers):
        arrays[f"n{i}"] = index.numbers[key]
    for i, key in enumerate(index.codes):
        arrays[f"c{i}"] = index.codes[key]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    write_bytes_atomic(path, buffer.getvalue(), durable=False)


def _read_cache(path: Path, out: Path) -> ReviewIndex | None:
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
        numbers = {k: data[f"n{i}"] for i, k in enumerate(meta["numbers"])}
        codes = {k: data[f"c{i}"] for i, k in enumerate(meta["codes"])}
        return ReviewIndex(
            out,
            data["index"],
            data["start"],
            data["length"],
            data["source"],
            numbers,
            codes,
            {k: list(v) for k, v in meta["labels"].items()},
            tuple(F.Field(**f) for f in meta["fields"]),
            True,
            tuple(meta["notes"]),
        )
