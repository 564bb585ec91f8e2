"""Review decisions: ``review.jsonl`` in the export folder, one row per decision.

A row is ``{"index": 12, "decision": "reject", "time": "2026-01-31T12:00:00Z"}``; the latest
row of a sample holds (``clear`` takes a decision back, and an undo is a new row that restores
the one before). The file is only ever appended to: each decision (or batch) is one
``write`` to a file opened with ``O_APPEND`` and synced before the call returns, so a crash
loses at most the decision being written and never mixes two. A last line cut short by a
crash is skipped when read, and the next decision starts on a line of its own, so the file
reads again in full. Rejected samples are left out of training and evaluation; ``studio
verify`` does not read this file.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from studio.core.export.records import MANIFEST, iter_rows, read_rows
from studio.core.io.writers import default_mode, dumps_json, fsync_dir
from studio.core.model.errors import InputError, WriteError

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


def read_decisions(out: str | Path) -> Verdicts:
    """The standing decisions of an export (none when it has no review.jsonl). Lines that
    are not decision rows are skipped; a torn last line is skipped with a note."""
    path = Path(out) / REVIEW
    notes: list[str] = []
    standing: dict[int, str] = {}
    for _, _, _, row in read_rows(path, strict=False, notes=notes):
        index, decision = row.get("index"), row.get("decision")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            continue
        if decision == "clear":
            standing.pop(index, None)
        elif decision in DECISIONS:
            standing[index] = str(decision)
    return Verdicts(standing, tuple(notes))


def rejected(out: str | Path) -> set[int]:
    """The sample indices that stand rejected."""
    return read_decisions(out).rejected


def rejected_files(out: str | Path, key: str = "image") -> set[str]:
    """The ``key`` files (as the manifest names them: ``images/0000003_x.jpg``) of the
    samples that stand rejected."""
    out = Path(out)
    gone = rejected(out)
    found: set[str] = set()
    if not gone:
        return found
    for _, row in iter_rows(out / MANIFEST, strict=False):
        rel = (row.get("files") or {}).get(key)
        if row.get("index") in gone and isinstance(rel, str):
            found.add(rel)
    return found


def rejected_in(folder: str | Path) -> set[str]:
    """The names of the rejected samples' files in ``folder``, a sample folder of an export
    (``out/images``); empty for any other folder."""
    folder = Path(folder)
    if not (folder.parent / MANIFEST).is_file() or not (folder.parent / REVIEW).is_file():
        return set()
    prefix = f"{folder.name}/"
    return {rel[len(prefix) :] for rel in rejected_files(folder.parent) if rel.startswith(prefix)}


def record(out: str | Path, decisions: Iterable[tuple[int, str]]) -> list[dict]:
    """Append ``(index, decision)`` rows to the export's review.jsonl, in one write, synced.

    Raises
    ------
    InputError
        for a decision that is not ``reject``, ``flag`` or ``clear`` or a negative index.
    WriteError
        when the file cannot be written (nothing is half written: a torn line is skipped).
    """
    path = Path(out) / REVIEW
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rows = []
    for index, decision in decisions:
        if decision not in DECISIONS:
            raise InputError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
        if isinstance(index, bool) or int(index) < 0:
            raise InputError(f"a sample index is 0 or more, not {index!r}")
        rows.append({"index": int(index), "decision": decision, "time": stamp})
    if not rows:
        return rows
    data = "".join(dumps_json(r, sort_keys=True) + "\n" for r in rows).encode()
    _append(path, data)
    return rows


def _append(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        raise InputError("not an export folder", path.parent)
    created = not path.exists()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, default_mode())
    except OSError as err:
        raise WriteError.from_os_error(err, path) from err
    try:
        size = os.fstat(fd).st_size
        if size and _last_byte(path, size) != b"\n":
            data = b"\n" + data  # a torn last line stays a line of its own (skipped)
        written = os.write(fd, data)
        if written != len(data):
            raise WriteError(f"only {written} of {len(data)} bytes written", path)
        os.fsync(fd)
    except OSError as err:
        raise WriteError.from_os_error(err, path) from err
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def _last_byte(path: Path, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1)
