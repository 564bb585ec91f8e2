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


def outside_rows(preset: Preset, params: RenderParams) -> list[P.Param]:
    """The rows whose pinned value the export never draws."""
    return [p for p in P.PARAMS if row_state(preset, params, p).state == "outside"]
