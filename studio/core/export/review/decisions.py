"""Review decisions: ``review.jsonl`` in the export folder, one row per decision.

A row is ``{"index": 12, "decision": "reject", "time": "2026-01-31T12:00:00Z"}``; the latest
row of a sample holds (``clear`` takes a decision back, and an undo is a new row that restores
the one before). The file is only ever appended to, through the export folder
(:class:`~studio.core.export.folder.ExportFolder`: no link followed): each decision (or batch)
is one ``write`` to a file opened with ``O_APPEND`` and synced before the call returns, so a
crash loses at most the decision being written and never mixes two. A last line cut short by a
crash is skipped when read, and the next decision starts on a line of its own, so the file
reads again in full. Rejected samples are left out of training and evaluation; ``studio
verify`` does not read this file.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from studio.core.export.folder import ExportFolder
from studio.core.export.records import has_torn_line, read_rows
from studio.core.export.rows import sample_index
from studio.core.io.writers import dumps_json
from studio.core.model.errors import InputError

REVIEW = "review.jsonl"
Decision = Literal["reject", "flag", "clear"]
DECISIONS: tuple[str, ...] = get_args(Decision)
#: how each standing decision is shown (``clear`` leaves none)
SHOWN = {"reject": "rejected", "flag": "flagged"}


@dataclass(frozen=True)
class Verdicts:
    """The standing decision of each reviewed sample, and what reading the file noted."""

    by_index: dict[int, str]
    notes: tuple[str, ...] = ()

    def with_decision(self, decision: str) -> set[int]:
        return {i for i, d in self.by_index.items() if d == decision}

    @property
    def rejected(self) -> set[int]:
        return self.with_decision("reject")

    @property
    def flagged(self) -> set[int]:
        return self.with_decision("flag")

    def counts(self) -> Counter[str]:
        """How many samples stand rejected and flagged."""
        return Counter(self.by_index.values())


def _folder(out: str | Path | ExportFolder) -> ExportFolder:
    return out if isinstance(out, ExportFolder) else ExportFolder(out)


def read_decisions(out: str | Path | ExportFolder) -> Verdicts:
    """The standing decisions of an export (none when it has no review.jsonl). Lines that
    are not decision rows are skipped; a torn last line is skipped with a note."""
    notes: list[str] = []
    standing: dict[int, str] = {}
    for _, _, _, row in read_rows(_folder(out), REVIEW, strict=False, notes=notes):
        index, decision = sample_index(row.get("index")), row.get("decision")
        if index is None:
            continue
        if decision == "clear":
            standing.pop(index, None)
        elif decision in DECISIONS:
            standing[index] = str(decision)
    return Verdicts(standing, tuple(notes))


def record(out: str | Path | ExportFolder, decisions: Iterable[tuple[int, str]]) -> list[dict]:
    """Append ``(index, decision)`` rows to the export's review.jsonl, in one write, synced.

    Raises
    ------
    InputError
        for a decision that is not ``reject``, ``flag`` or ``clear``, an index that is not a
        sample index, or a review.jsonl that is a link or special file.
    WriteError
        when the file cannot be written (nothing is half written: a torn line is skipped).
    """
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rows = []
    for index, decision in decisions:
        if decision not in DECISIONS:
            raise InputError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
        if sample_index(index) is None:
            raise InputError(f"{index!r} is not a sample index")
        rows.append({"index": int(index), "decision": decision, "time": stamp})
    if not rows:
        return rows
    folder = _folder(out)
    created = not folder.exists(REVIEW)
    lines = [dumps_json(r, sort_keys=True) for r in rows]
    if has_torn_line(folder, REVIEW):
        lines.insert(0, "")  # a torn last line stays a line of its own (skipped when read)
    appender = folder.append(REVIEW)
    try:
        appender.write_line("\n".join(lines))  # one write: the rows land whole or not at all
        appender.sync()
    finally:
        appender.close()
    if created:
        folder.sync()
    return rows
