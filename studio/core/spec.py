"""What may vary between samples: fixed values, ranges and probabilities (pydantic models).

A number field takes a fixed value (``0.7``), a range (``{min: 0.5, max: 1.0}``) or weighted
choices (``{values: [0.3, 0.6], weights: [1, 3]}``).
These models are the engine part of a preset; :func:`studio.core.sample.sample` draws
:class:`~studio.core.params.RenderParams` from them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Range(_Model):
    """A uniform range ``[min, max]``."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Choices(_Model):
    """Weighted choices: one of ``values``, with probabilities proportional to ``weights``
    (equal when not given)."""

    values: tuple[float, ...] = Field(min_length=1)
    weights: tuple[Annotated[float, Field(ge=0.0)], ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> Choices:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries, values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be 0")
        return self

    def pick(self, u: float) -> float:
        """The value for a uniform number ``u`` in [0, 1)."""
        weights = self.weights or (1.0,) * len(self.values)
        target = u * sum(weights)
        acc = 0.0
        for value, weight in zip(self.values, weights, strict=True):
            acc += weight
            if target < acc:
                return float(value)
        return float(self.values[max(i for i, w in enumerate(weights) if w > 0)])


Num = float | Range | Choices
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def draw(rng: np.random.Generator, value: Num) -> float:
    """Draw from ``value``. Always consumes exactly one number from ``rng``, so pinning a
    parameter never shifts the draws of the others."""
    u = float(rng.random())
    if isinstance(value, Range):
        return value.min + u * (value.max - value.min)
    if isinstance(value, Choices):
        return value.pick(u)
    return float(value)


def draw_int(rng: np.random.Generator, value: Num) -> int:
    """Draw an integer from ``value`` (inclusive range); one number consumed."""
    u = float(rng.random())
    if isinstance(value, Range):
        lo, hi = round(value.min), round(value.max)
        return min(hi, lo + int(u * (hi - lo + 1)))
    if isinstance(value, Choices):
        return round(value.pick(u))
    return round(value)


def happens(rng: np.random.Generator, probability: float) -> bool:
    """A Bernoulli draw; one number consumed."""
    return float(rng.random()) < probability


def _bounded(value: Num, lo: float, hi: float, name: str) -> Num:
    if isinstance(value, Range):
        vals: tuple[float, ...] = (value.min, value.max)
    elif isinstance(value, Choices):
        vals = value.values
    else:
        vals = (value,)
    for v in vals:
        if not lo <= v <= hi:
            raise ValueError(f"{name} must lie in [{lo}, {hi}], got {v}")
    return value


class PlacementSpec(_Model):
    """Where the occluder centre goes, in face-bbox coordinates (0..1; may go outside)."""

    center_x: Num = Range(min=0.0, max=1.0)
    center_y: Num = Range(min=0.0, max=1.0)
    min_coverage: Probability = 0.05
    max_coverage: Probability = 0.6
    max_tries: Annotated[int, Field(ge=1, le=10_000)] = 100

    @model_validator(mode="after")
    def _check(self) -> PlacementSpec:
        if self.min_coverage > self.max_coverage:
            raise ValueError(
                f"min_coverage ({self.min_coverage}) is greater than max_coverage "
                f"({self.max_coverage})"
            )
        _bounded(self.center_x, -1.0, 2.0, "center_x")
        _bounded(self.center_y, -1.0, 2.0, "center_y")
        return self


class ScaleSpec(_Model):
    """Occluder bbox area as a fraction of the face bbox area."""

    area_ratio: Num = Range(min=0.5, max=1.0)

    @model_validator(mode="after")
    def _check(self) -> ScaleSpec:
        _bounded(self.area_ratio, 1e-4, 16.0, "area_ratio")
        return self


class RotationSpec(_Model):
    """Free rotation, or point-at-face: the occluder's up side turns to the face centre."""

    point_at_face: bool = False
    angle: Num = 0.0
    jitter: Num = Range(min=-15.0, max=15.0)
    up: Literal["up", "down", "left", "right"] | None = None  #: overrides the occluder's own


class FlipSpec(_Model):
    probability: Probability = 0.5


class BlurSpec(_Model):
    probability: Probability = 0.3
    sigma: Num = Range(min=0.3, max=1.5)


class JpegSpec(_Model):
    probability: Probability = 0.5
    quality: Num = Range(min=70, max=100)

    @model_validator(mode="after")
    def _check(self) -> JpegSpec:
        _bounded(self.quality, 1, 100, "quality")
        return self


class AffineSpec(_Model):
    probability: Probability = 0.7
    scale: Num = Range(min=0.8, max=1.2)
    rotation: Num = Range(min=-15.0, max=15.0)
    shear: Num = Range(min=-8.0, max=8.0)


class OccluderAugmentSpec(_Model):
    blur: BlurSpec = BlurSpec()
    jpeg: JpegSpec = JpegSpec()
    affine: AffineSpec = AffineSpec()
    brightness: Num = Range(min=-0.08, max=0.08)
    contrast: Num = Range(min=0.9, max=1.1)


class ColorSpec(_Model):
    """Colour transfer towards the face's skin colours (or the skin ring around the occluder:
    ``harmonize.color.target``). ``lighting`` matches luminance level/contrast and part of the
    white balance but keeps the occluder's own hues."""

    method: Literal["none", "sot", "reinhard", "lighting"] = "sot"
    probability: Probability = 1.0
    strength: Num = 1.0
    steps: Annotated[int, Field(ge=1, le=200)] = 15
    directions: Annotated[int, Field(ge=1, le=64)] = 5
    samples: Annotated[int, Field(ge=64, le=1_000_000)] = 2048
    smooth: Annotated[float, Field(ge=0.0, le=1.0)] = 0.075
    #: ``lighting`` only: 0 keeps the occluder's white balance, 1 takes the target's mean
    #: chromaticity (a red object would turn skin-coloured); in between, part of the cast.
    white_balance: Num = 0.3

    @model_validator(mode="after")
    def _check(self) -> ColorSpec:
        _bounded(self.strength, 0.0, 1.0, "strength")
        _bounded(self.white_balance, 0.0, 1.0, "white_balance")
        return self


class BlendSpec(_Model):
    feather: Num = 1.0
    edge_blur: Num = 1.0
    band: Annotated[int, Field(ge=1, le=64)] = 3
    opacity_probability: Probability = 0.0
    opacity: Num = Range(min=0.4, max=0.7)

    @model_validator(mode="after")
    def _check(self) -> BlendSpec:
        _bounded(self.opacity, 0.0, 1.0, "opacity")
        _bounded(self.feather, 0.0, 32.0, "feather")
        _bounded(self.edge_blur, 0.0, 32.0, "edge_blur")
        return self


class ShapeSpec(_Model):
    """RandOcc shapes."""

    points: Num = Range(min=3, max=15)
    roundness: Num = Range(min=0.0, max=1.0)
    edginess: Num = Range(min=0.0, max=1.0)
    canvas: Annotated[int, Field(ge=32, le=4096)] = 512
    texture_probability: Probability = 1.0

    @model_validator(mode="after")
    def _check(self) -> ShapeSpec:
        _bounded(self.points, 3, 64, "points")
        _bounded(self.roundness, 0.0, 1.0, "roundness")
        _bounded(self.edginess, 0.0, 1.0, "edginess")
        return self


class ImageAugmentSpec(_Model):
    """Whole-image augmentation of the result. Off by default: it changes unoccluded pixels."""

    enabled: bool = False
    flip_probability: Probability = 0.5
    blur_probability: Probability = 0.3
    blur_sigma: Num = Range(min=0.3, max=1.2)
    brightness: Num = Range(min=-0.05, max=0.05)
    contrast: Num = Range(min=0.95, max=1.05)


def bounded(default: Num, lo: float, hi: float, doc: str) -> Any:
    """A number field (fixed, range or choices) whose every value must lie in [lo, hi]; the
    bounds and ``doc`` are kept on the field (the studio builds its rows from them)."""
    return Field(default, description=doc, json_schema_extra={"bounds": [lo, hi]})


def field_bounds(model: type[BaseModel], name: str) -> tuple[float, float] | None:
    """The [lo, hi] of a :func:`bounded` field, or None."""
    extra = model.model_fields[name].json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("bounds"), list):
        lo, hi = extra["bounds"]
        return float(lo), float(hi)
    return None


class _Bounded(_Model):
    """Checks every :func:`bounded` field against its bounds."""

    @model_validator(mode="after")
    def _check_bounds(self) -> _Bounded:
        for name in type(self).model_fields:
            limits = field_bounds(type(self), name)
            if limits is not None:
                _bounded(getattr(self, name), *limits, name)
        return self


class HarmonizeColorSpec(_Bounded):
    """Step 1: the colour transfer's target, the whole face's skin or the skin ring."""

    target: Literal["face", "ring"] = Field(
        "ring",
        description="Colour transfer towards the whole face's skin, or towards the skin ring "
        "around the placed occluder (the light where it sits).",
    )


class ShadingSpec(_Bounded):
    """Step 2: the face's low-frequency luminance where the occluder sits modulates it."""

    strength: Num = bounded(
        Range(min=0.5, max=1.0), 0.0, 1.0,
        "How much the face's light field (bright and dark sides) modulates the occluder.",
    )  # fmt: skip
    smooth: Num = bounded(
        0.12, 0.02, 1.0,
        "Sigma of the light field's base layer, as a fraction of the face size.",
    )  # fmt: skip


class FocusSpec(_Bounded):
    """Step 3: blur (or lightly sharpen) the occluder to the skin ring's sharpness."""

    strength: Num = bounded(
        1.0, 0.0, 1.0,
        "Blur (or lightly sharpen) the occluder to the sharpness of the skin around it.",
    )  # fmt: skip


class NoiseSpec(_Bounded):
    """Step 4: seeded noise so the occluder's noise (luminance and chroma) matches the ring's."""

    strength: Num = bounded(
        1.0, 0.0, 1.0,
        "Add seeded noise (and smooth excess chroma noise) so the occluder's luminance and "
        "chroma noise match the skin around it.",
    )  # fmt: skip


class ShadowSpec(_Bounded):
    """Step 5: a soft shadow of the occluder's shape beside it (never a label)."""

    probability: Probability = Field(
        0.5, description="Chance that the occluder casts a shadow (never a label)."
    )
    angle: Num = bounded(
        Range(min=-180.0, max=180.0), -360.0, 360.0,
        "Direction the shadow falls, degrees counter-clockwise, 0 = to the right.",
    )  # fmt: skip
    distance: Num = bounded(
        Range(min=0.02, max=0.08), 0.0, 0.5,
        "Offset of the shadow, as a fraction of the occluder size.",
    )  # fmt: skip
    softness: Num = bounded(
        Range(min=0.02, max=0.08), 0.0, 0.5,
        "Blur of the shadow's edge, as a fraction of the occluder size.",
    )  # fmt: skip
    opacity: Num = bounded(
        Range(min=0.15, max=0.4), 0.0, 1.0,
        "Darkening at the shadow's core (a see-through occluder casts a lighter one).",
    )  # fmt: skip


class HarmonizeSpec(_Bounded):
    """Harmonise the pasted occluder with the face (off by default): statistics of the skin
    ring around the placed occluder (its colour, light, sharpness and noise) carried over."""

    enabled: bool = Field(
        False,
        description="Harmonise the pasted occluder with the face (off: the plain paste, byte "
        "for byte).",
    )
    ring: Num = bounded(
        0.15, 0.05, 1.0,
        "Width of the skin ring around the occluder on which the face is measured, as a "
        "fraction of the occluder size.",
    )  # fmt: skip
    color: HarmonizeColorSpec = HarmonizeColorSpec()
    shading: ShadingSpec = ShadingSpec()
    focus: FocusSpec = FocusSpec()
    noise: NoiseSpec = NoiseSpec()
    shadow: ShadowSpec = ShadowSpec()


class EngineSpec(_Model):
    """All engine parameters of a preset, as fixed values, ranges and probabilities."""

    mode: Literal["natocc", "randocc"] = "natocc"
    placement: PlacementSpec = PlacementSpec()
    scale: ScaleSpec = ScaleSpec()
    rotation: RotationSpec = RotationSpec()
    flip: FlipSpec = FlipSpec()
    occluder_augment: OccluderAugmentSpec = OccluderAugmentSpec()
    color: ColorSpec = ColorSpec()
    blend: BlendSpec = BlendSpec()
    shape: ShapeSpec = ShapeSpec()
    image_augment: ImageAugmentSpec = ImageAugmentSpec()
    harmonize: HarmonizeSpec = HarmonizeSpec()
    mask_max: Literal[1, 255] = 255
    occluder_class: Annotated[int, Field(ge=1, le=255)] = 255
