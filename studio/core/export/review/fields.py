"""The fields of a reviewed export: every number and choice a manifest row records.

Nothing here lists fields by hand. A field is a leaf of a manifest row: every leaf of its
``params`` (named by its path in :class:`~studio.core.model.params.RenderParams`) and every
statistic of the row beside them (``coverage``, ``attempts``, ``occluder_bbox.0``, ...). Its
label, group, decimals and help come from the parameter table (:mod:`studio.core.model.knobs`)
when an entry records that path, else from the path itself. Numbers (ints and floats) are
filtered by a range, everything else (words, ids, switches) by its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from studio.core.model.knobs import KNOBS, Knob

Kind = Literal["number", "choice"]

#: the parts of a manifest row that are not fields: the sample's address, its files and
#: their checks, and the params (walked on their own)
NOT_FIELDS = frozenset({"index", "stem", "seed", "files", "checks", "params"})
#: groups of the fields no entry of the table records
SAMPLE_GROUP = "Sample"
STATS_GROUP = "Statistics"
REVIEW_GROUP = "Review"
#: fields the review adds to the rows' own: what happened to the sample, and the decision
OUTCOME = "outcome"
FAILURE = "failure"
DECISION = "decision"
MISSING = "—"  #: the label of a choice's missing value (a field a row does not record)


@dataclass(frozen=True)
class Field:
    """One filterable, sortable field of the rows."""

    key: str  #: the field's path: ``area_ratio``, ``color.method``, ``coverage``
    kind: Kind
    label: str
    group: str
    decimals: int = 2
    tip: str = ""


@cache
def _knob_of_path() -> dict[str, Knob]:
    """The table's entries by their RenderParams path."""
    return {k.params: k for k in KNOBS if k.params is not None}


def outcome_label(knob: Knob) -> str:
    """A knob's label for the value a sample holds: a chance's outcome drops "probability"
    (``Flip probability`` -> ``Flip``)."""
    if knob.draw != "chance":
        return knob.label
    for suffix in (" probability", " prob."):
        if knob.label.endswith(suffix):
            return knob.label[: -len(suffix)]
    return knob.label


def humanize(path: str) -> str:
    """``occluder_bbox.0`` -> ``Occluder bbox [0]``: a label for a path no entry names."""
    head, *rest = path.split(".")
    words = " ".join(part if not part.isdigit() else f"[{part}]" for part in rest)
    text = head.replace("_", " ")
    text = text[:1].upper() + text[1:]
    return f"{text} {words.replace('_', ' ')}".strip()


def describe(key: str, kind: Kind, in_params: bool, integral: bool = False) -> Field:
    """The field of a row leaf ``key`` (its path in ``params`` when ``in_params``)."""
    if key in (OUTCOME, FAILURE, DECISION):
        labels = {OUTCOME: "Outcome", FAILURE: "Failure", DECISION: "Decision"}
        tips = {
            OUTCOME: "written: the sample's files are in the export; failed: failures.jsonl "
            "names why it was not made",
            FAILURE: "why a failed sample was not made (failures.jsonl)",
            DECISION: "your review: rejected samples are left out of training and evaluation",
        }
        return Field(key, "choice", labels[key], REVIEW_GROUP, 0, tips[key])
    knob = _knob_of_path().get(key) if in_params else None
    if knob is not None and knob.label:
        decimals = 0 if integral else knob.decimals
        return Field(key, kind, outcome_label(knob), knob.group.title, decimals, knob.tip)
    group = SAMPLE_GROUP if in_params else STATS_GROUP
    if knob is not None:  # an entry without a row label (a seed): its group, its path
        group = knob.group.title
    return Field(key, kind, humanize(key), group, 0 if integral else 3)


def is_number(value: Any) -> bool:
    """True for an int or float (a bool is a switch: a choice)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def choice_label(value: Any) -> str:
    """How a choice's value is shown and stored (``None`` -> ``—``)."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def leaves(row: dict[str, Any]) -> dict[str, Any]:
    """The field values of a manifest row, by key: every leaf of its ``params`` (lists of
    numbers spread as ``path.0``, ``path.1``; a list of lists counted: a shape's points) and
    every statistic beside them (a key also in ``params`` is the same value: left out)."""
    out: dict[str, Any] = {}
    params = row.get("params")
    if isinstance(params, dict):
        _walk(params, "", out)
    for key, value in row.items():
        if key not in NOT_FIELDS and key not in out:
            _leaf(key, value, out)
    return out


def _walk(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        kind = type(value)
        if kind is dict:
            _walk(value, f"{prefix}{key}.", out)
        elif kind is list:
            _leaf(prefix + key, value, out)
        else:  # inline: most leaves are plain values, and rows are many
            out[prefix + key] = value


def _leaf(key: str, value: Any, out: dict[str, Any]) -> None:
    if type(value) is list:
        if value and all(type(v) is list for v in value):
            out[key] = len(value)  # a shape's control points: how many
        elif all(is_number(v) for v in value):
            for i, v in enumerate(value):
                out[f"{key}.{i}"] = v
        return
    if type(value) is not dict:
        out[key] = value
