"""The parameter panel's rows (no Qt here), one per knob of the parameter table
(:mod:`studio.core.model.knobs`, in its order) and one per output setting.

A ``num`` row has a pinned value (a field of :class:`RenderParams`, what the preview shows) and a
random range (the preset's ``Num``, what the export draws from). A ``value`` row is a fixed preset
value (probability, integer, choice, switch); when it has a ``pinned`` path the preview follows
it.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from studio.core.engine.resolve import new_shape
from studio.core.model import knobs
from studio.core.model.knobs import KNOBS, Knob, preset_value
from studio.core.model.numbers import Range, field_bounds, field_ui_range
from studio.core.model.params import HarmonizeParams, RenderParams, value_at, with_values
from studio.core.model.preset import Preset, preset_from_dict

Kind = Literal["num", "prob", "int", "float", "bool", "choice"]
Path = knobs.Path


@dataclass(frozen=True)
class Param:
    """One row of the parameter panel."""

    key: str  #: dotted path in the preset, e.g. ``scale.area_ratio``
    group: str
    label: str
    tooltip: str
    kind: Kind
    lo: float = 0.0
    hi: float = 1.0
    decimals: int = 2
    choices: tuple[Any, ...] = ()
    pinned: Path | None = None  #: path in RenderParams the preview uses
    #: the values the spec accepts; ``lo``..``hi`` is the slider's useful part of them
    limits: tuple[float, float] | None = None

    @property
    def spec_path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))


HARMONIZE, OUTPUTS = knobs.HARMONIZE.title, knobs.OUTPUTS.title
#: the sections expanded when the studio starts
OPEN_GROUPS = tuple(dict.fromkeys(k.group.title for k in KNOBS if k.group.open))


def _spec_field(key: str) -> tuple[type[BaseModel], str]:
    """The model class and field name of a dotted preset key."""
    model: type[BaseModel] = Preset
    *parents, name = key.split(".")
    for part in parents:
        model = model.model_fields[part].annotation
    return model, name


def _literal_choices(annotation: Any) -> tuple[Any, ...] | None:
    """The values of a Literal annotation (None first for an optional one), or None."""
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    args = typing.get_args(annotation)
    literals = [a for a in args if typing.get_origin(a) is Literal]
    if literals and type(None) in args:
        return (None, *typing.get_args(literals[0]))
    return None


def _int_bounds(info: Any) -> tuple[float, float]:
    lo, hi = 0.0, 1.0
    for meta in info.metadata:
        lo = float(getattr(meta, "ge", lo))
        hi = float(getattr(meta, "le", hi))
    return lo, hi


def row(
    key: str,
    group: str,
    label: str,
    tooltip: str | None = None,
    pinned: Path | None = None,
    decimals: int = 2,
    choices: tuple[Any, ...] | None = None,
) -> Param:
    """A row built from the preset's field: its kind from the field's type, its bounds from
    its :class:`~studio.core.model.spec.Bounds` (or integer limits), its choices from its Literal,
    its tooltip from its description unless one is given."""
    model, name = _spec_field(key)
    info = model.model_fields[name]
    tooltip = tooltip or info.description or label
    annotation = info.annotation
    literal = _literal_choices(annotation)
    if annotation is bool:
        return Param(key, group, label, tooltip, "bool", pinned=pinned)
    if literal is not None:
        ordered = choices if choices is not None else literal
        assert set(ordered) == set(literal), key  # an order, never another vocabulary
        return Param(key, group, label, tooltip, "choice", choices=ordered, pinned=pinned)
    limits = field_bounds(model, name)
    if limits is not None:
        lo, hi = field_ui_range(model, name) or limits
        return Param(
            key, group, label, tooltip, "num", lo, hi, decimals, pinned=pinned, limits=limits
        )
    if annotation is int:
        lo, hi = _int_bounds(info)
        return Param(key, group, label, tooltip, "int", lo, hi, 0, pinned=pinned)
    lo, hi = _int_bounds(info)
    if (lo, hi) == (0.0, 1.0) and decimals == 2:
        return Param(key, group, label, tooltip, "prob", pinned=pinned)
    return Param(key, group, label, tooltip, "float", lo, hi, decimals, pinned=pinned)


def knob_row(knob: Knob) -> Param:
    """The row of a knob of the parameter table: its label, help and group; pinned when the
    preview holds one value of it."""
    pinned = knob.path if knob.preview else None
    group = knob.group.title
    return row(knob.key, group, knob.label, knob.tip, pinned, knob.decimals, knob.choices)


def knob_rows(table: Sequence[Knob] = KNOBS) -> tuple[Param, ...]:
    """A row for each knob of the preset in ``table``, in its order."""
    return tuple(knob_row(k) for k in table if k.in_preset)


PARAMS: tuple[Param, ...] = (
    *knob_rows(),
    row("output.image_format", OUTPUTS, "Image format", "Format of the written images."),
    row("output.jpeg_quality", OUTPUTS, "JPEG quality", "Quality of written JPEG images."),
    row("output.occlusion_mask", OUTPUTS, "Occlusion mask", "Write the occlusion mask."),
    row("output.labels", OUTPUTS, "Label maps", "Write multi-class label maps."),
    row("output.layout", OUTPUTS, "Layout", "Output folder layout."),
    row("output.count_per_face", OUTPUTS, "Per face", "Samples written per face."),
)


def groups() -> list[tuple[str, list[Param]]]:
    """The rows grouped in the preset's order."""
    out: dict[str, list[Param]] = {}
    for p in PARAMS:
        out.setdefault(p.group, []).append(p)
    return list(out.items())


# ---- reading and writing values ------------------------------------------------------------


def spec_value(preset: Preset, param: Param) -> Any:
    """The preset's value of ``param`` (a Range, a number, a bool or a choice)."""
    return preset_value(preset, param.key)


def spec_bounds(preset: Preset, param: Param) -> tuple[float, float]:
    """The random range of a ``num`` row as (min, max); a fixed value gives (v, v)."""
    value = spec_value(preset, param)
    if isinstance(value, Range):
        return value.min, value.max
    return float(value), float(value)


def with_spec_value(preset: Preset, param: Param, value: Any) -> Preset:
    """A new preset with ``param`` set; validated (raises InputError with the key and reason).

    For ``num`` rows a (min, max) tuple with min == max becomes a fixed value.
    """
    if param.kind == "num" and isinstance(value, tuple):
        lo, hi = float(value[0]), float(value[1])
        value = lo if lo == hi else {"min": lo, "max": hi}
    value = value.model_dump() if isinstance(value, Range) else value
    name, *inner = param.spec_path
    section = getattr(preset, name)
    if inner and isinstance(section, BaseModel):
        # only the part that changed is validated again (the preset's checks are its
        # parts' own); when it fails, the whole preset is, for the error's key path
        data = section.model_dump(mode="python")
        _set_at(data, inner, value)
        try:
            made = type(section).model_validate(data)
        except ValidationError:
            pass
        else:
            return preset.model_copy(update={name: made})
    data = preset.model_dump(mode="python")
    _set_at(data, param.spec_path, value)
    return preset_from_dict(data, "preset")


def _set_at(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``value`` at ``path`` of the nested mapping ``data``."""
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def pinned_value(params: RenderParams, param: Param) -> Any:
    """The preview's value of ``param`` (None when the row has no pinned value)."""
    if param.pinned is None:
        return None
    value = value_at(params, param.pinned)
    if param.pinned == ("augment", "jpeg_quality") and value is None:
        return 100
    return value


def with_pinned_value(params: RenderParams, param: Param, value: Any) -> RenderParams:
    """New RenderParams with the preview's value of ``param`` set."""
    if param.pinned is None:
        return params
    if param.pinned == ("augment", "jpeg_quality"):
        value = None if round(value) >= 100 else round(value)
    elif param.kind in ("int",) or (param.kind == "num" and param.decimals == 0):
        value = round(value)
    return with_values(params, {param.pinned: value})


def with_new_shape(preset: Preset, params: RenderParams, seed: int) -> RenderParams:
    """``params`` with the RandOcc shape the preset's shape ranges give for ``seed``."""
    shape, name = new_shape(preset, seed)
    return params.replace(shape=shape, occluder_id=name)


NEUTRAL_PREFIXES = ("occluder_augment.", "image_augment.", "blend.opacity")


def initial_params(preset: Preset, base: RenderParams | None = None) -> RenderParams:
    """Pinned values to start from: fixed preset values as they are, the middle of ranges,
    and no augmentation (its ranges are for the export; the preview starts clean)."""
    params = base or RenderParams()
    params = params.replace(mode=preset.mode)
    for param in PARAMS:
        if param.pinned is None or param.key == "mode":
            continue
        if param.key.startswith(NEUTRAL_PREFIXES) and param.kind == "num":
            continue
        if param.kind == "num":
            lo, hi = spec_bounds(preset, param)
            params = with_pinned_value(params, param, (lo + hi) / 2.0)
        else:
            params = with_pinned_value(params, param, spec_value(preset, param))
    if preset.mode == "randocc" and params.shape is None:
        params = with_new_shape(preset, params, 0)
    return params


def raw_params(params: RenderParams) -> RenderParams:
    """The same sample pasted without harmonisation (what the "Raw paste" view shows)."""
    return params.replace(harmonize=HarmonizeParams())
