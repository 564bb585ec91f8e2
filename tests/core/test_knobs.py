"""The parameter table (studio/core/model/knobs.py): the preset's fields, sample(), the studio's
rows and the report's named plots all follow it, and its draw order is the documented one."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from studio.core import EngineSpec, sample
from studio.core.engine.draws import draw_shape, draw_stage
from studio.core.model import knobs
from studio.core.model.knobs import KNOB, KNOBS, Knob, Path, Stage, in_stage, preset_value
from studio.core.model.numbers import Bounds, Range
from studio.core.model.params import ColorParams, RenderParams, ShapeParams, value_at
from studio.gui import parameters as P
from studio.report import plots

#: what each stage draws, in order (README: "How a sample is made"); a new knob goes at the end
#: of its stage, so every older preset keeps drawing the numbers it drew
DOCUMENTED = {
    "sample": [
        "flip.probability",
        "occluder_augment.blur.probability",
        "occluder_augment.blur.sigma",
        "occluder_augment.jpeg.probability",
        "occluder_augment.jpeg.quality",
        "occluder_augment.affine.probability",
        "occluder_augment.affine.scale",
        "occluder_augment.affine.rotation",
        "occluder_augment.affine.shear",
        "occluder_augment.brightness",
        "occluder_augment.contrast",
        "color.probability",
        "color.strength",
        "color.seed",
        "blend.feather",
        "blend.edge_blur",
        "blend.opacity_probability",
        "blend.opacity",
        "shape.seed",
        "image_augment.flip_probability",
        "image_augment.blur_probability",
        "image_augment.blur_sigma",
        "image_augment.brightness",
        "image_augment.contrast",
    ],
    "place": [
        "placement.center_x",
        "placement.center_y",
        "scale.area_ratio",
        "rotation.angle",
        "rotation.jitter",
    ],
    "late": [
        "color.white_balance",
        "harmonize.ring",
        "harmonize.shading.strength",
        "harmonize.shading.smooth",
        "harmonize.focus.strength",
        "harmonize.noise.strength",
        "harmonize.noise_seed",
        "harmonize.shadow.probability",
        "harmonize.shadow.angle",
        "harmonize.shadow.distance",
        "harmonize.shadow.softness",
        "harmonize.shadow.opacity",
        # added later, after every older number
        "harmonize.look.strength",
        "harmonize.look.white_balance",
        "harmonize.look.tone",
        "harmonize.shading.light",
        "harmonize.compression.strength",
    ],
    "shape": [
        "shape.points",
        "shape.roundness",
        "shape.edginess",
        "shape.texture_probability",
        "shape.fill",
    ],
}
#: RenderParams leaves no knob sets: the ids and aim side (resolve.identities) and the centre
#: in pixels (from center_rel)
IDENTITIES: set[Path] = {
    ("face_id",),
    ("occluder_id",),
    ("texture_id",),
    ("aim_up",),
    ("center_px", 0),
    ("center_px", 1),
}
#: every gate on, every late step drawn, and the first placement always taken
ALL_ON: dict[str, Any] = {
    "placement": {"min_coverage": 0.0, "max_coverage": 1.0},
    "rotation": {"point_at_face": True},
    "occluder_augment": {
        "blur": {"probability": 1.0},
        "jpeg": {"probability": 1.0},
        "affine": {"probability": 1.0},
    },
    "color": {"method": "lighting"},
    "blend": {"opacity_probability": 1.0},
    "image_augment": {"enabled": True, "flip_probability": 1.0, "blur_probability": 1.0},
    "harmonize": {"enabled": True, "shadow": {"probability": 1.0}},
}


def _with(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of the nested mapping ``data`` with dotted ``key`` set."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    node = out
    *parents, name = key.split(".")
    for part in parents:
        node[part] = dict(node.get(part, {}))
        node = node[part]
    node[name] = value
    return out


def test_the_draw_order_is_the_documented_one() -> None:
    for stage, keys in DOCUMENTED.items():
        assert [k.key for k in in_stage(stage) if k.drawn] == keys, stage


def _spec_leaves(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out |= _spec_leaves(kind, f"{prefix}{name}.")
        else:
            out[prefix + name] = info
    return out


def test_every_preset_key_is_one_entry_and_takes_its_default_bounds_and_help_from_it() -> None:
    leaves = _spec_leaves(EngineSpec)
    assert set(leaves) == {k.key for k in KNOBS if k.in_preset}
    for key, info in leaves.items():
        knob = KNOB[key]
        assert info.default == knob.default and info.description == (knob.tip or None), key
        bounds = [m for m in info.metadata if isinstance(m, Bounds)]
        ge = [m.ge for m in info.metadata if hasattr(m, "ge")]
        le = [m.le for m in info.metadata if hasattr(m, "le")]
        if knob.bounds is None:
            assert not bounds, key
        elif knob.drawn:  # a number, a range or choices: each value checked
            assert bounds == [knob.bounds], key
        else:  # a whole number: pydantic's own limits
            assert (ge, le) == ([knob.bounds.lo], [knob.bounds.hi]), key
    # the defaults are valid presets: the spec validates them
    assert preset_value(EngineSpec(), "color.method") == KNOB["color.method"].default


def _params_leaves(cls: type, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        inner = args[0] if isinstance(kind, types.UnionType) and len(args) == 1 else kind
        if dataclasses.is_dataclass(inner):
            out |= _params_leaves(inner, (*prefix, f.name))  # type: ignore[arg-type]
        elif typing.get_origin(kind) is tuple and typing.get_args(kind) == (float, float):
            out |= {(*prefix, f.name, 0), (*prefix, f.name, 1)}
        else:
            out.add((*prefix, f.name))
    return out


def test_every_render_params_leaf_is_set_by_exactly_one_entry_or_is_an_identity() -> None:
    paths = [k.path for k in KNOBS if k.path]
    assert len(paths) == len(set(paths))
    assert set(paths) | IDENTITIES == _params_leaves(RenderParams)
    assert not set(paths) & IDENTITIES


def test_an_ungated_copy_holds_the_preset_default_as_render_params_default() -> None:
    """RenderParams' defaults are what a sample holds when a step is off; a value no gate
    turns off must then default to the preset's own default (no second default)."""
    base = {"shape": ShapeParams(points=((0.0, 0.0),))}
    defaults = RenderParams(**base)  # type: ignore[arg-type]
    for knob in KNOBS:
        if knob.draw == "copy" and not knob.when and knob.needs is None:
            assert value_at(defaults, knob.path) == knob.default, knob.key
    # the colour method: SOT for a preset, "none" for a sample whose transfer is off
    assert EngineSpec().color.method == "sot" and ColorParams().method == "none"
    assert KNOB["color.method"].when == ("color.probability",)


def test_a_step_that_is_off_leaves_its_fields_default(face, occluder) -> None:
    gates = {g.removeprefix("not ") for k in KNOBS for g in k.when}
    off = dict(ALL_ON)
    for gate in gates - {"shape.texture_probability"}:
        off = _with(off, gate, 0.0 if KNOB[gate].draw == "chance" else False)
    params = sample(EngineSpec.model_validate(off), np.random.default_rng(4), face, occluder)
    defaults = RenderParams()
    gated = [k for k in KNOBS if k.when and k.stage != "shape"]
    assert len(gated) >= 10
    for knob in gated:
        assert value_at(params, knob.path) == value_at(defaults, knob.path), knob.key
    flat = draw_shape(np.random.default_rng(1), EngineSpec(shape={"texture_probability": 0.0}))
    textured = draw_shape(np.random.default_rng(1), EngineSpec())
    assert flat.fill_rgb is not None and textured.fill_rgb is None


def _state_after(stage: Stage, spec: EngineSpec) -> int:
    rng = np.random.default_rng(9)
    draw_stage(rng, spec, stage)
    return rng.bit_generator.state["state"]["state"]


def test_gates_and_fixed_values_never_change_how_many_numbers_a_stage_draws() -> None:
    pinned = EngineSpec(blend={"opacity": 0.5}, occluder_augment={"contrast": 1.0})
    for stage in ("sample", "place"):
        states = {_state_after(stage, s) for s in (EngineSpec.model_validate(ALL_ON), pinned)}
        assert states == {_state_after(stage, EngineSpec())}, stage
    # a shape draws two numbers a control point, whatever its fill
    shapes = {_state_after("shape", EngineSpec(shape={"points": 5, "texture_probability": p}))
              for p in (0.0, 1.0)}  # fmt: skip
    assert len(shapes) == 1


def _pin_value(knob: Knob) -> float:
    assert knob.bounds is not None
    lo, hi = knob.bounds.ui or (knob.bounds.lo, knob.bounds.hi)
    value = lo + 0.37 * (hi - lo)
    return float(round(value)) if knob.draw == "integer" else value


PINNABLE = [k for k in KNOBS if k.draw in ("number", "integer") and k.stage != "shape"]


@pytest.mark.parametrize("knob", PINNABLE, ids=[k.key for k in PINNABLE])
def test_each_entry_reaches_sample_and_pinning_it_moves_nothing_else(
    knob: Knob, face, occluder
) -> None:
    base = ALL_ON
    if knob.key == "rotation.angle":  # point-at-face sets the rotation: free it for this one
        base = _with(ALL_ON, "rotation.point_at_face", False)
    free = sample(EngineSpec.model_validate(base), np.random.default_rng(6), face, occluder)
    value = _pin_value(knob)
    spec = EngineSpec.model_validate(_with(base, knob.key, value))
    pinned = sample(spec, np.random.default_rng(6), face, occluder)
    assert value_at(pinned, knob.path) == pytest.approx(value), knob.key
    moved = {path for path in _params_leaves(RenderParams) - IDENTITIES
             if value_at(pinned, path) != value_at(free, path)}  # fmt: skip
    assert moved <= {knob.path, ("rotation",)}, knob.key


def test_a_table_with_an_entry_less_or_more_changes_sample_rows_and_plots(
    monkeypatch: pytest.MonkeyPatch, face, occluder
) -> None:
    spec = EngineSpec.model_validate(ALL_ON)
    full = sample(spec, np.random.default_rng(2), face, occluder)
    assert full.blend.opacity < 1.0

    without = tuple(k for k in KNOBS if k.key != "blend.opacity")
    monkeypatch.setattr(knobs, "KNOBS", without)
    less = sample(spec, np.random.default_rng(2), face, occluder)
    assert less.blend.opacity == 1.0  # not drawn: the field's default
    assert less.augment == full.augment and less.blend.feather == full.blend.feather
    assert less.center_rel != full.center_rel  # one number fewer: the later draws moved
    assert "blend.opacity" not in {r.key for r in P.knob_rows(without)}
    assert "blend.opacity" in plots.NAMED and "blend.opacity" not in plots.named_plots(without)

    extra = Knob("color.extra_seed", knobs.COLOR, "", "seed", seeds=1000, stage="late")
    monkeypatch.setattr(knobs, "KNOBS", (*KNOBS, extra))
    more = sample(spec, np.random.default_rng(2), face, occluder)
    assert more == full  # drawn last: nothing before it moves

    feather = dataclasses.replace(KNOB["blend.feather"], label="Softness", plot="Feather")
    renamed = tuple(feather if k.key == "blend.feather" else k for k in KNOBS)
    assert {r.key: r.label for r in P.knob_rows(renamed)}["blend.feather"] == "Softness"
    assert plots.named_plots(renamed)["blend.feather"] == "Feather"


def test_every_entry_has_a_row_and_a_plot_or_an_explicit_none() -> None:
    rows = {r.key: r for r in P.PARAMS}
    for knob in KNOBS:
        if not knob.in_preset:
            assert knob.key not in rows and knob.plot is None, knob.key
            continue
        row = rows[knob.key]
        assert (row.label, row.tooltip, row.group) == (knob.label, knob.tip, knob.group.title)
        assert row.pinned == (knob.path if knob.preview else None), knob.key
    # a named plot is one knob's value, shown in every report; the other values are titled
    # after their group (``Colour transfer: steps``)
    named = {".".join(map(str, k.path)): k.plot for k in KNOBS if k.plot is not None}
    assert named == plots.NAMED and tuple(named) == plots.ALWAYS
    for knob in KNOBS:
        if len(knob.path) > 1 and isinstance(knob.path[1], str):
            assert plots.GROUPS[f"{knob.path[0]}."] == knob.group, knob.key
    assert isinstance(KNOB["scale.area_ratio"].default, Range)
