"""The draws of a sample, by walking the parameter table (:mod:`studio.core.model.knobs`).

:func:`draw_stage` draws the entries of one stage in table order; every entry consumes a fixed
count of the generator's numbers (also when its gate is off), so pinning one value never shifts
the others. :func:`settle` writes the drawn values into RenderParams: a value whose gate is off
leaves its field's default there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.core.model.errors import PlacementError
from studio.core.model.knobs import Knob, Path, Stage, in_stage, preset_value
from studio.core.model.numbers import draw, draw_int, happens
from studio.core.model.params import ShapeParams, with_values
from studio.core.model.spec import EngineSpec
from studio.core.ops import shapes

SHAPE_TRIES = 20
MIN_SHAPE_FILL = 0.02  # a RandOcc shape must fill at least this fraction of its canvas

#: the values one stage drew, by key
Drawn = dict[str, Any]


def draw_stage(rng: np.random.Generator, spec: EngineSpec, stage: Stage) -> Drawn:
    """The values of ``stage``'s entries, drawn (or copied) in table order; an entry whose
    ``needs`` does not hold is left out and consumes nothing."""
    drawn: Drawn = {}
    for knob in in_stage(stage):
        if knob.needs is None or preset_value(spec, knob.needs[0]) == knob.needs[1]:
            drawn[knob.key] = _value(rng, spec, knob)
    return drawn


def _value(rng: np.random.Generator, spec: EngineSpec, knob: Knob) -> Any:
    if knob.draw == "seed":
        return int(rng.integers(0, knob.seeds))
    if knob.draw == "colour":
        r, g, b = (int(v) for v in rng.integers(0, 256, 3))
        return (r, g, b)
    value = preset_value(spec, knob.key_path)
    if knob.draw == "chance":
        return happens(rng, value)
    if knob.draw == "number":
        return draw(rng, value)
    if knob.draw == "integer":
        return draw_int(rng, value)
    if knob.draw == "points":
        n = draw_int(rng, value)
        return tuple((float(x), float(y)) for x, y in rng.random((n, 2)))
    return value  # copy


def settled(spec: EngineSpec, stage: Stage, drawn: Drawn) -> dict[Path, Any]:
    """The RenderParams paths and values of ``stage``'s drawn entries whose gates are all on."""
    out: dict[Path, Any] = {}
    for knob in in_stage(stage):
        on = knob.key in drawn and all(_on(gate, spec, drawn) for gate in knob.when)
        if knob.params is not None and on:
            out[knob.path] = drawn[knob.key]
    return out


def settle(params: Any, spec: EngineSpec, stage: Stage, drawn: Drawn) -> Any:
    """``params`` (RenderParams) with the values ``stage`` drew, where their gates are on."""
    return with_values(params, settled(spec, stage, drawn))


def _on(gate: str, spec: EngineSpec, drawn: Drawn) -> bool:
    """A gate: a chance drawn in the stage, or a switch of the preset (``not KEY``: off)."""
    key = gate.removeprefix("not ")
    value = drawn[key] if key in drawn else preset_value(spec, key)
    return bool(value) != gate.startswith("not ")


def draw_shape(rng: np.random.Generator, spec: EngineSpec) -> ShapeParams:
    """Draw a RandOcc shape that fills at least a little of its canvas."""
    canvas = spec.shape.canvas
    for _ in range(SHAPE_TRIES):
        values = settled(spec, "shape", draw_stage(rng, spec, "shape"))
        shape = ShapeParams(**{str(path[-1]): value for path, value in values.items()})
        try:
            area = polygon_area(shapes.shape_polygon(shape))
        except ValueError:
            continue
        if area >= MIN_SHAPE_FILL * canvas**2:
            return shape
    raise PlacementError(f"no usable RandOcc shape after {SHAPE_TRIES} tries")


def polygon_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
