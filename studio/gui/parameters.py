"""The parameter table behind the parameter panel (no Qt here).

Every engine parameter of a preset appears once, grouped as in the preset. A ``num`` row has a
pinned value (a field of :class:`RenderParams`, what the preview shows) and a random range (the
preset's ``Num``, what the export draws from). A ``value`` row is a fixed preset value
(probability, integer, choice, switch); when it has a ``pinned`` path the preview follows it.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from studio.core.engine.resolve import new_shape
from studio.core.model.params import HarmonizeParams, RenderParams
from studio.core.model.preset import Preset, preset_from_dict
from studio.core.model.spec import Range, field_bounds, field_ui_range

Kind = Literal["num", "prob", "int", "float", "bool", "choice"]
Path = tuple[str | int, ...]


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


PLACEMENT, SCALE, ROTATION = "Placement", "Scale", "Rotation"
AUGMENT, COLOR, BLEND = "Occluder augmentation", "Colour transfer", "Blend"
SHAPE, IMAGE, OUTPUTS = "RandOcc shape", "Whole-image augmentation", "Outputs"
HARMONIZE = "Harmonize"


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


PARAMS: tuple[Param, ...] = (
    row("mode", "Mode", "Mode",
        "NatOcc pastes real hands and objects; RandOcc pastes random textured Bezier shapes.",
        pinned=("mode",)),
    row("placement.center_x", PLACEMENT, "Centre x",
        "Occluder centre across the face box: 0 = left edge, 1 = right edge.",
        pinned=("center_rel", 0), decimals=3),
    row("placement.center_y", PLACEMENT, "Centre y",
        "Occluder centre down the face box: 0 = top edge, 1 = bottom edge.",
        pinned=("center_rel", 1), decimals=3),
    row("placement.min_coverage", PLACEMENT, "Min coverage",
        "Export rejects placements hiding less than this fraction of the face mask."),
    row("placement.max_coverage", PLACEMENT, "Max coverage",
        "Export rejects placements hiding more than this fraction of the face mask."),
    row("placement.max_tries", PLACEMENT, "Max tries",
        "Placements tried per sample before giving up on the coverage bounds."),
    row("scale.area_ratio", SCALE, "Area ratio",
        "Occluder box area as a fraction of the face box area (before augmentation scale).",
        pinned=("area_ratio",), decimals=3),
    row("rotation.point_at_face", ROTATION, "Point at face",
        "Turn the occluder's up side (fingers of a hand) towards the face centre; the rotation "
        "then follows the position, plus the jitter."),
    row("rotation.angle", ROTATION, "Angle",
        "Free rotation in degrees, counter-clockwise (ignored with point-at-face).",
        pinned=("rotation",), decimals=1),
    row("rotation.jitter", ROTATION, "Aim jitter",
        "Degrees added to the point-at-face angle.", pinned=("aim_jitter",), decimals=1),
    row("rotation.up", ROTATION, "Up side",
        "Which side of the occluder is its up side (overrides the source's setting)."),
    row("flip.probability", ROTATION, "Flip probability",
        "Chance of a horizontal flip of the occluder (the preview uses the Flip button)."),
    row("occluder_augment.blur.probability", AUGMENT, "Blur probability",
        "Chance that the occluder is blurred."),
    row("occluder_augment.blur.sigma", AUGMENT, "Blur sigma",
        "Gaussian blur of the occluder, in occluder pixels.", pinned=("augment", "blur_sigma")),
    row("occluder_augment.jpeg.probability", AUGMENT, "JPEG probability",
        "Chance that the occluder is JPEG re-compressed."),
    row("occluder_augment.jpeg.quality", AUGMENT, "JPEG quality",
        "JPEG re-compression quality (the preview treats 100 as no re-compression).",
        pinned=("augment", "jpeg_quality"), decimals=0),
    row("occluder_augment.affine.probability", AUGMENT, "Affine probability",
        "Chance of the extra scale / rotation / shear below."),
    row("occluder_augment.affine.scale", AUGMENT, "Affine scale",
        "Extra scale of the occluder.", pinned=("augment", "affine_scale")),
    row("occluder_augment.affine.rotation", AUGMENT, "Affine rotation",
        "Extra rotation in degrees.", pinned=("augment", "affine_rotation"), decimals=1),
    row("occluder_augment.affine.shear", AUGMENT, "Affine shear",
        "Horizontal shear in degrees.", pinned=("augment", "affine_shear"), decimals=1),
    row("occluder_augment.brightness", AUGMENT, "Brightness",
        "Added to the occluder's colours, as a fraction of 255.",
        pinned=("augment", "brightness")),
    row("occluder_augment.contrast", AUGMENT, "Contrast",
        "Occluder colours scaled about mid-grey.", pinned=("augment", "contrast")),
    row("color.method", COLOR, "Method",
        "Colour transfer towards the face's skin: sliced optimal transport (SOT), Reinhard, "
        "lighting (the skin's light and part of its white balance; the object keeps its "
        "colours), or none.", pinned=("color", "method"),
        choices=("sot", "reinhard", "lighting", "none")),
    row("color.probability", COLOR, "Probability",
        "Chance that the colour transfer is applied."),
    row("color.strength", COLOR, "Strength",
        "0 keeps the occluder's colours, 1 transfers them fully.", pinned=("color", "strength")),
    row("color.steps", COLOR, "SOT steps", "SOT iterations.", pinned=("color", "steps")),
    row("color.directions", COLOR, "Directions", "Random projections per SOT iteration.",
        pinned=("color", "directions")),
    row("color.samples", COLOR, "Samples", "Pixels sorted per projection.",
        pinned=("color", "samples")),
    row("color.smooth", COLOR, "Smoothing",
        "Smoothing of the colour change, as a fraction of the occluder size.",
        pinned=("color", "smooth"), decimals=3),
    row("color.white_balance", COLOR, "White balance",
        "Lighting only: share of the target's colour cast the occluder takes on (0 keeps its "
        "own white balance, 1 takes the skin's mean colour).", pinned=("color", "white_balance")),
    row("blend.feather", BLEND, "Feather",
        "Sigma of the alpha feather inside the edge band (native pixels).",
        pinned=("blend", "feather")),
    row("blend.edge_blur", BLEND, "Edge blur",
        "Sigma of the blur of the composite inside the edge band (native pixels).",
        pinned=("blend", "edge_blur")),
    row("blend.band", BLEND, "Edge band", "Half-width of the edge band, in native pixels.",
        pinned=("blend", "band")),
    row("blend.opacity_probability", BLEND, "See-through prob.",
        "Chance of a see-through occluder (labels are unaffected)."),
    row("blend.opacity", BLEND, "Opacity", "Opacity of a see-through occluder.",
        pinned=("blend", "opacity")),
    row("harmonize.enabled", HARMONIZE, "Enabled", pinned=("harmonize", "enabled")),
    row("harmonize.ring", HARMONIZE, "Ring width", pinned=("harmonize", "ring")),
    row("harmonize.color.target", HARMONIZE, "Colour target",
        pinned=("harmonize", "color_target")),
    row("harmonize.shading.strength", HARMONIZE, "Shading", pinned=("harmonize", "shading")),
    row("harmonize.shading.smooth", HARMONIZE, "Shading smooth",
        pinned=("harmonize", "shading_smooth")),
    row("harmonize.focus.strength", HARMONIZE, "Focus", pinned=("harmonize", "focus")),
    row("harmonize.noise.strength", HARMONIZE, "Noise", pinned=("harmonize", "noise")),
    row("harmonize.shadow.probability", HARMONIZE, "Shadow prob."),
    row("harmonize.shadow.angle", HARMONIZE, "Shadow angle",
        pinned=("harmonize", "shadow", "angle"), decimals=1),
    row("harmonize.shadow.distance", HARMONIZE, "Shadow distance",
        pinned=("harmonize", "shadow", "distance")),
    row("harmonize.shadow.softness", HARMONIZE, "Shadow softness",
        pinned=("harmonize", "shadow", "softness")),
    row("harmonize.shadow.opacity", HARMONIZE, "Shadow opacity",
        pinned=("harmonize", "shadow", "opacity")),
    row("shape.points", SHAPE, "Points", "Control points of a RandOcc Bezier shape.",
        decimals=0),
    row("shape.roundness", SHAPE, "Roundness", "0 = straight segments, 1 = round.",
        pinned=("shape", "roundness")),
    row("shape.edginess", SHAPE, "Edginess", "0 = smooth tangents, 1 = sharp corners.",
        pinned=("shape", "edginess")),
    row("shape.canvas", SHAPE, "Canvas", "Side in pixels of the canvas a shape is drawn on."),
    row("shape.texture_probability", SHAPE, "Texture prob.",
        "Chance that a shape is filled with a texture (else a flat colour)."),
    row("image_augment.enabled", IMAGE, "Enabled",
        "Augment the whole result image (changes unoccluded pixels; masks follow geometry).",
        pinned=("image_augment", "enabled")),
    row("image_augment.flip_probability", IMAGE, "Flip probability",
        "Chance of a horizontal flip of the whole image."),
    row("image_augment.blur_probability", IMAGE, "Blur probability",
        "Chance of a blur of the whole image."),
    row("image_augment.blur_sigma", IMAGE, "Blur sigma", "Blur of the whole image.",
        pinned=("image_augment", "blur_sigma")),
    row("image_augment.brightness", IMAGE, "Brightness", "Brightness change of the image.",
        pinned=("image_augment", "brightness")),
    row("image_augment.contrast", IMAGE, "Contrast", "Contrast change of the image.",
        pinned=("image_augment", "contrast")),
    row("mask_max", OUTPUTS, "Mask value", "Value of 'on' in the written masks.",
        pinned=("mask_max",), choices=(255, 1)),
    row("occluder_class", OUTPUTS, "Occluder class", "Class id of the occluder in label maps.",
        pinned=("occluder_class",)),
    row("output.image_format", OUTPUTS, "Image format", "Format of the written images."),
    row("output.jpeg_quality", OUTPUTS, "JPEG quality", "Quality of written JPEG images."),
    row("output.occlusion_mask", OUTPUTS, "Occlusion mask", "Write the occlusion mask."),
    row("output.labels", OUTPUTS, "Label maps", "Write multi-class label maps."),
    row("output.layout", OUTPUTS, "Layout", "Output folder layout."),
    row("output.count_per_face", OUTPUTS, "Per face", "Samples written per face."),
)  # fmt: skip



def groups() -> list[tuple[str, list[Param]]]:
    """The rows grouped in the preset's order."""
    out: dict[str, list[Param]] = {}
    for p in PARAMS:
        out.setdefault(p.group, []).append(p)
    return list(out.items())


# ---- reading and writing values ------------------------------------------------------------


def spec_value(preset: Preset, param: Param) -> Any:
    """The preset's value of ``param`` (a Range, a number, a bool or a choice)."""
    value: Any = preset
    for part in param.spec_path:
        value = getattr(value, part)
    return value


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
    data = preset.model_dump(mode="python")
    node = data
    for part in param.spec_path[:-1]:
        node = node[part]
    node[param.spec_path[-1]] = value.model_dump() if isinstance(value, Range) else value
    return preset_from_dict(data, "preset")


def pinned_value(params: RenderParams, param: Param) -> Any:
    """The preview's value of ``param`` (None when the row has no pinned value)."""
    if param.pinned is None:
        return None
    value: Any = params
    for part in param.pinned:
        if value is None:
            return None
        value = value[part] if isinstance(part, int) else getattr(value, part)
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
    return _replace_path(params, param.pinned, value)


def _replace_path(obj: Any, path: Path, value: Any) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(obj)
        items[head] = _replace_path(items[head], rest, value) if rest else value
        return tuple(items)
    current = getattr(obj, head)
    if rest and current is None:
        return obj  # e.g. shape values when there is no shape
    new = _replace_path(current, rest, value) if rest else value
    return dataclasses.replace(obj, **{head: new})


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
