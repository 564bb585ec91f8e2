"""The row index of an export under review: its records as NumPy columns.

The index keeps, per row, the sample index, where its line lies in its record file (a row is
read back whole only when it is shown: :meth:`ReviewIndex.row`), and one column per field
(:mod:`.fields`): float64 for numbers (NaN where a row has no value), int32 codes into a list
of labels for choices. Failed samples (failures.jsonl) are rows too, without files. It is
built by :class:`~.builder.IndexBuilder` (streamed, cached).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from studio.core.export.folder import ExportFolder
from studio.core.export.records import FAILURES, MANIFEST
from studio.core.export.review import fields as F
from studio.core.io.remote import Location
from studio.core.model.errors import InputError
from studio.core.model.knobs import KNOBS

WRITTEN, FAILED = "written", "failed"
#: which record file a row's line is in (``ReviewIndex.source``)
FROM_MANIFEST, FROM_FAILURES = 0, 1


@dataclass(frozen=True)
class ReviewIndex:
    """The rows of an export read so far (see the module's docstring). Rows are in the order
    they were recorded; a row's *position* addresses it in every array."""

    out: Location  #: a local path, or a URL in a store
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
        the same in every written sample (failed samples have none); the outcome and the
        failure reason when some samples failed."""
        written = self.codes[F.OUTCOME] != self.labels[F.OUTCOME].index(FAILED) if (
            FAILED in self.labels[F.OUTCOME]
        ) else np.ones(len(self), bool)  # fmt: skip
        found = []
        for f in self.fields:
            every = f.key in (F.OUTCOME, F.FAILURE)  # judged on every row
            column = self.values(f.key) if every else self.values(f.key)[written]
            if not len(column):
                continue
            if f.kind == "number":
                known = ~np.isnan(column)
                if known.any() and (not known.all() or np.ptp(column[known]) > 0):
                    found.append(f)
            elif (column != column[0]).any():
                found.append(f)
        return found

    @cached_property
    def folder(self) -> ExportFolder:
        """The export folder its rows are read from (no link followed)."""
        return ExportFolder(self.out)

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
            fh = self.folder.open_read(name)
            if fh is None:
                raise OSError("missing")
            with fh:
                fh.seek(int(self.start[position]))
                raw = fh.read(int(self.length[position]))
            row = json.loads(raw)
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read the row of sample {self.index[position]}", path) from err
        if not isinstance(row, dict):
            raise InputError(f"the row of sample {self.index[position]} is not an object", path)
        return row


def table_order(keys: list[str]) -> list[str]:
    """Params paths in the table's order (a spread list's items at their entry's place), then
    the rest as found."""
    rank = {k.params: i for i, k in enumerate(KNOBS) if k.params is not None}

    def place(key: str) -> int:
        while key not in rank and "." in key:
            key = key.rpartition(".")[0]
        return rank.get(key, len(rank))

    return sorted(keys, key=place)
