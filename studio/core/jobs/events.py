"""One typed event for every long job (export, train, evaluate, compare).

A job reports ``start``, ``progress`` and ``done`` events, and may add ``stage`` (a step of a
compare), ``plan`` (the models of a compare), ``epoch``, ``result`` (one model's scores) and
``note`` (a line worth showing) events. A job that cannot run or stops on an error ends with an
``error`` event (``message``: the one line, ``hint`` in data: what the user can change, which each
front end words its own way). The fields every job shares are typed; what only one
job reports (a loss, an epoch number, scores, what a resume repaired) travels in ``data``.

``to_json()`` is one line of ``--progress jsonl`` (``{"event": kind, ...}``: the fields that are
set and the data, NaN and infinities as null); ``Event.from_json`` reads it back, so the studio
sees the same typed events the job emitted.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

EventKind = Literal[
    "start", "progress", "stage", "plan", "epoch", "result", "note", "done", "error"
]
KINDS: tuple[str, ...] = get_args(EventKind)


@dataclass(frozen=True)
class Event:
    """An event of a job; see the module docstring."""

    kind: EventKind
    total: int | None = None  #: units the job will do (None: unknown)
    done: int | None = None  #: units done so far (over all sessions of a resumed job)
    unit: str | None = None  #: what a unit is: "img" (default), "step"
    failed: int | None = None  #: units that failed (recorded, not made)
    written: int | None = None  #: units written by the job
    rate: float | None = None  #: units (images for train) per second in this session
    eta: float | None = None  #: seconds left (None: unknown)
    out: str | None = None  #: the job's output folder
    cancelled: bool | None = None  #: done events: stopped before the end (resumable)
    message: str | None = None  #: note and error events: the line to show
    model: str | None = None  #: compare: the model the event is about
    stage: str | None = None  #: compare: export | train | evaluate
    data: Mapping[str, Any] = field(default_factory=dict)  #: the job's own numbers

    @classmethod
    def make(cls, kind: EventKind, **values: Any) -> Event:
        """An event from keyword values: the typed fields by name, everything else in data."""
        typed = {k: v for k, v in values.items() if k in _FIELDS}
        extra = {k: v for k, v in values.items() if k not in _FIELDS}
        return cls(kind, **typed, data=extra)

    def get(self, key: str, default: Any = None) -> Any:
        """A field or a data value by name (``None`` fields count as missing)."""
        if key in _FIELDS:
            value = getattr(self, key)
            return default if value is None else value
        return self.data.get(key, default)

    def replace(self, **values: Any) -> Event:
        """A copy with some fields or data values changed."""
        typed = {k: v for k, v in values.items() if k in _FIELDS}
        extra = {k: v for k, v in values.items() if k not in _FIELDS}
        return dataclasses.replace(self, **typed, data={**self.data, **extra})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.kind}
        for name in _FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.rate is not None:
            out["rate"] = round(self.rate, 3)
        if self.eta is not None:
            out["eta"] = round(self.eta, 1)
        out.update({k: v for k, v in self.data.items() if k not in out})
        return json_safe(out)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Event:
        """The event of one JSON line (``ValueError`` when it is not one)."""
        kind = obj.get("event")
        if kind not in KINDS:
            raise ValueError(f"not a job event: {kind!r}")
        values = {k: v for k, v in obj.items() if k != "event"}
        for name, kinds in _TYPES.items():
            value = values.get(name)
            if value is not None and not isinstance(value, kinds):
                raise ValueError(f"event field {name} must be {kinds}, got {value!r}")
            if isinstance(value, bool) and bool not in kinds:
                raise ValueError(f"event field {name} must be a number, got {value!r}")
        return cls.make(kind, **values)


_FIELDS = tuple(f.name for f in dataclasses.fields(Event) if f.name not in ("kind", "data"))
_NUMBER = (int, float)
_TYPES: dict[str, tuple[type, ...]] = {
    "total": (int,),
    "done": (int,),
    "unit": (str,),
    "failed": (int,),
    "written": (int,),
    "rate": _NUMBER,
    "eta": _NUMBER,
    "out": (str,),
    "cancelled": (bool,),
    "message": (str,),
    "model": (str,),
    "stage": (str,),
}


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None, tuples as lists (JSON is strict)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
