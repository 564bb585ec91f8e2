"""Job records (an export's job.json, a training run's config): read with one strictness and
one wording, and compared when a job is resumed ("cannot resume a different job: ...")."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from studio.core.io.safe_yaml import read_text
from studio.core.model.errors import InputError

#: explains a differing key in words, or returns None for the plain "KEY is A now, B in ..."
Explain = Callable[[str, dict[str, Any], dict[str, Any]], str | None]


def read_record(path: Path, name: str | None = None) -> dict[str, Any]:
    """The JSON object of a record file (``name`` says what it is: ``job.json``).

    Raises
    ------
    InputError
        naming the file: missing, unreadable, not UTF-8, not JSON, or not an object.
    """
    what = name or Path(path).name
    return parse_record(read_text(path, what), path, what)


def parse_record(text: str, path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object of a record's ``text`` (``what`` names it: ``job.json``).

    Raises
    ------
    InputError
        naming ``path``: not JSON, or not an object.
    """
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{what} is not valid JSON ({err.msg})", path) from err
    if not isinstance(record, dict):
        raise InputError(f"{what} is not a job record (not a JSON object)", path)
    return record


def flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a.b": value}`` for every leaf of nested mappings."""
    if isinstance(record, dict):
        flat: dict[str, Any] = {}
        for key, value in record.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: record}


def first_difference(
    stored: dict[str, Any],
    current: dict[str, Any],
    *,
    order: Sequence[str] = (),
    explain: Explain | None = None,
    holder: str = "job",
) -> str | None:
    """The first difference between two records, in words (None when they match).

    Keys are compared leaf by leaf; those under the top-level keys of ``order`` come first, in
    that order, the rest in the records' own order. ``explain`` may word a key better than
    ``KEY is NEW now, OLD in the <holder>``.
    """
    old, new = flatten(stored), flatten(current)
    position = {k: n for n, k in enumerate([*new, *(k for k in old if k not in new)])}

    def rank(key: str) -> tuple[int, int]:
        top = key.split(".")[0]
        return (order.index(top) if top in order else len(order)), position[key]

    for key in sorted(position, key=rank):
        if old.get(key, "<missing>") == new.get(key, "<missing>"):
            continue
        words = explain(key, old, new) if explain is not None else None
        if words is not None:
            return words
        now, then = new.get(key, "<missing>"), old.get(key, "<missing>")
        return f"{key} is {now!r} now, {then!r} in the {holder}"
    return None


def check_resumable(difference: str | None, where: Path | str, holder: str = "job") -> None:
    """Refuse to resume when the stored record differs from this run's (one wording)."""
    if difference:
        raise InputError(f"cannot resume a different {holder}: {difference}", where)
