"""The tuning model of a number row, and what the row says about it (no Qt here).

A number row has a *pinned* value (what the preview shows: one sample) and the preset's value
(what the export draws from): a fixed value or a range. Every edit of a pinned value, from the
canvas or the panel, goes through :func:`follow`: the changed values are kept at their row's
precision, and a fixed preset value follows its pinned value, so the Samples tab and the export
draw what the panel shows. A range is left alone: when the pinned value falls outside it the row
says so (:func:`row_state`) and one action widens the range to include it (:func:`widened`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from studio.core.model.knobs import KNOBS
from studio.core.model.params import RenderParams
from studio.core.model.preset import Preset
from studio.gui import parameters as P

State = Literal["fixed", "inside", "outside", "off", "derived", "none"]

#: rows whose pinned value is computed, not set, while the preset says so
DERIVED = {"rotation.angle": "point at face turns the occluder"}
#: the chances and switches that gate each knob (a closed gate: the sample holds the default)
GATES = {k.key: k.when for k in KNOBS if k.when}


@dataclass(frozen=True)
class RowState:
    """How a row's pinned value relates to what the export draws, and what the row says."""

    state: State
    text: str = ""  #: shown under the row (empty: nothing to say)
    widen_to: tuple[float, float] | None = None  #: the range that would include the value


def fmt(param: P.Param, value: float) -> str:
    return f"{value:.{param.decimals}f}"


def span(param: P.Param, lo: float, hi: float) -> str:
    return fmt(param, lo) if lo == hi else f"{fmt(param, lo)}–{fmt(param, hi)}"


def neutral(param: P.Param) -> object:
    """The value a sample holds when a gate of ``param`` (a chance, a switch) is closed: a
    pinned value equal to it is "off", not outside the range (None: the row has no gate)."""
    if param.key not in GATES:
        return None
    return P.pinned_value(RenderParams(), param)


def derived(preset: Preset, param: P.Param) -> bool:
    return param.key == "rotation.angle" and preset.rotation.point_at_face


def precise(param: P.Param, value: float) -> float:
    """``value`` at the row's precision, inside the values the preset accepts."""
    value = round(float(value), param.decimals)
    if param.limits is not None:
        value = min(max(value, param.limits[0]), param.limits[1])
    return value


def row_state(preset: Preset, params: RenderParams, param: P.Param) -> RowState:
    """What the ``param`` row (a number row with a pinned value) says."""
    pinned = P.pinned_value(params, param)
    if param.kind != "num" or pinned is None:
        return RowState("none")
    lo, hi = P.spec_bounds(preset, param)
    value = float(pinned)
    if derived(preset, param):
        return RowState("derived", f"{DERIVED[param.key]}: the preview shows {fmt(param, value)}")
    if lo - 0.5 * 10**-param.decimals <= value <= hi + 0.5 * 10**-param.decimals:
        return RowState("fixed" if lo == hi else "inside")
    if value == neutral(param):
        gate = GATES[param.key][-1].removeprefix("not ")
        return RowState("off", f"off in this preview (as in a sample where {gate} is off)")
    kind = "the fixed value" if lo == hi else "the exported range"
    text = f"{fmt(param, value)} is outside {kind} {span(param, lo, hi)}: the export never draws it"
    return RowState("outside", text, (min(lo, value), max(hi, value)))


def widened(preset: Preset, params: RenderParams, param: P.Param) -> Preset:
    """``preset`` with ``param``'s range widened to include its pinned value."""
    state = row_state(preset, params, param)
    if state.widen_to is None:
        return preset
    lo, hi = (precise(param, v) for v in state.widen_to)
    return P.with_spec_value(preset, param, (lo, hi))


def follow(
    preset: Preset, old: RenderParams, new: RenderParams
) -> tuple[Preset, RenderParams]:
    """The one rule of a pinned edit: each number row whose pinned value changed from ``old``
    to ``new`` is kept at its row's precision, and where the preset's value is fixed it
    becomes the new value (a derived value, such as the aimed rotation, is left alone)."""
    for param in P.PARAMS:
        if param.kind != "num" or param.pinned is None:
            continue
        value = P.pinned_value(new, param)
        if value is None or value == P.pinned_value(old, param):
            continue
        value = precise(param, value)
        new = P.with_pinned_value(new, param, value)
        if derived(preset, param):
            continue
        lo, hi = P.spec_bounds(preset, param)
        if lo == hi and value != lo:
            preset = P.with_spec_value(preset, param, (value, value))
    return preset, new


#: the rows :func:`row_state` has something to say about: numbers with a pinned value
TUNED_ROWS = tuple(p for p in P.PARAMS if p.kind == "num" and p.pinned is not None)

Tuning = tuple[Preset, RenderParams]


def changed_rows(
    before: Tuning | None, after: Tuning, rows: tuple[P.Param, ...] = P.PARAMS
) -> list[P.Param]:
    """The ``rows`` whose part of the preset (its first key) or of the params (the first
    field of its pinned path) differs between the states ``before`` and ``after`` (every row
    when ``before`` is None): the rows a refresh must look at again. A slider drag changes
    one part, so the other rows are skipped."""
    if before is None:
        return list(rows)
    differs: dict[tuple[int, str], bool] = {}

    def changed(side: int, name: str) -> bool:
        if (side, name) not in differs:
            old, new = getattr(before[side], name), getattr(after[side], name)
            differs[(side, name)] = old is not new and old != new
        return differs[(side, name)]

    return [
        p
        for p in rows
        if changed(0, p.spec_path[0]) or (p.pinned is not None and changed(1, str(p.pinned[0])))
    ]


class RowStates:
    """What every tuned row says (:func:`row_state`) about the newest state, made again
    only for the rows :func:`changed_rows` names."""

    def __init__(self) -> None:
        self._seen: Tuning | None = None
        self._states: dict[str, RowState] = {}

    def of(self, preset: Preset, params: RenderParams) -> dict[str, RowState]:
        """Each tuned row's state (by key) for (``preset``, ``params``)."""
        seen = self._seen
        if seen is None or seen[0] is not preset or seen[1] is not params:
            for param in changed_rows(seen, (preset, params), TUNED_ROWS):
                self._states[param.key] = row_state(preset, params, param)
            self._seen = (preset, params)
        return self._states

    def outside(self, preset: Preset, params: RenderParams) -> list[P.Param]:
        """The rows whose pinned value the export never draws."""
        states = self.of(preset, params)
        return [p for p in TUNED_ROWS if states[p.key].state == "outside"]
