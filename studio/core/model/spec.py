"""What may vary between samples: fixed values, ranges and probabilities (pydantic models).

A number field takes a fixed value (``0.7``), a range (``{min: 0.5, max: 1.0}``) or weighted
choices (``{values: [0.3, 0.6], weights: [1, 3]}``).
These models are the engine part of a preset; :func:`studio.core.engine.sample.sample` draws
:class:`~studio.core.model.params.RenderParams` from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Tag,
    model_validator,
)
from pydantic_core import core_schema

from studio.core.model.vocab import ColorMethod, ColorTarget, MaskMax, Mode, UpSide


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


#: A finite number given as a number (never a bool or a string, never NaN or infinity).
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: A whole number given as one (``true`` is not a count).
StrictInt = Annotated[int, Field(strict=True)]


class Range(_Model):
    """A uniform range ``[min, max]``."""

    min: Finite
    max: Finite

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Choices(_Model):
    """Weighted choices: one of ``values``, with probabilities proportional to ``weights``
    (equal when not given)."""

    values: tuple[Finite, ...] = Field(min_length=1, max_length=1000)
    weights: tuple[Annotated[Finite, Field(ge=0.0, le=1e9)], ...] | None = None

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


#: The tags of the number forms, as they appear in validation error locations.
NUM_TAGS = ("number", "range", "choices")


def _num_form(value: object) -> str:
    """Which form a number field's value has: a mapping is a range, or choices when it has
    ``values``; anything else is a plain number."""
    if isinstance(value, Choices) or (isinstance(value, dict) and "values" in value):
        return "choices"
    if isinstance(value, (Range, dict)):
        return "range"
    return "number"


#: A number parameter: a fixed value, a uniform range or weighted choices (one form checked).
Num = Annotated[
    Annotated[Finite, Tag("number")]
    | Annotated[Range, Tag("range")]
    | Annotated[Choices, Tag("choices")],
    Discriminator(_num_form),
]
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]


@dataclass(frozen=True)
class Bounds:
    """The interval every value of a number parameter must lie in: ``Annotated[Num,
    Bounds(lo, hi)]``. Pydantic checks it, the JSON Schema shows it, the studio reads it."""

    lo: float
    hi: float
    #: the useful part of [lo, hi], where the studio's sliders start (None: all of it)
    ui: tuple[float, float] | None = None

    def check(self, value: Num) -> Num:
        if isinstance(value, Range):
            values: tuple[float, ...] = (value.min, value.max)
        elif isinstance(value, Choices):
            values = value.values
        else:
            values = (value,)
        for v in values:
            if not self.lo <= v <= self.hi:
                raise ValueError(f"must lie in [{self.lo}, {self.hi}], got {v}")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {**handler(schema), "minimum": self.lo, "maximum": self.hi}


def field_bounds(model: type[BaseModel], name: str) -> tuple[float, float] | None:
    """The ``(lo, hi)`` of the :class:`Bounds` of field ``name`` of ``model``, or None."""
    found = _bounds(model, name)
    return (found.lo, found.hi) if found else None


def field_ui_range(model: type[BaseModel], name: str) -> tuple[float, float] | None:
    """Where the studio's slider of field ``name`` starts: its useful range, else its bounds."""
    found = _bounds(model, name)
    if found is None:
        return None
    return found.ui if found.ui is not None else (found.lo, found.hi)


def _bounds(model: type[BaseModel], name: str) -> Bounds | None:
    found = [m for m in model.model_fields[name].metadata if isinstance(m, Bounds)]
    return found[0] if found else None


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


class PlacementSpec(_Model):
    """Where the occluder centre goes, in face-bbox coordinates (0..1; may go outside)."""

    center_x: Annotated[Num, Bounds(-1.0, 2.0, ui=(-0.5, 1.5))] = Range(min=0.0, max=1.0)
    center_y: Annotated[Num, Bounds(-1.0, 2.0, ui=(-0.5, 1.5))] = Range(min=0.0, max=1.0)
    min_coverage: Probability = 0.05
    max_coverage: Probability = 0.6
    max_tries: Annotated[StrictInt, Field(ge=1, le=10_000)] = 100

    @model_validator(mode="after")
    def _check(self) -> PlacementSpec:
        if self.min_coverage > self.max_coverage:
            raise ValueError(
                f"min_coverage ({self.min_coverage}) is greater than max_coverage "
                f"({self.max_coverage})"
            )
        return self


class ScaleSpec(_Model):
    """Occluder bbox area as a fraction of the face bbox area."""

    area_ratio: Annotated[Num, Bounds(1e-4, 16.0, ui=(0.02, 3.0))] = Range(min=0.5, max=1.0)


class RotationSpec(_Model):
    """Free rotation, or point-at-face: the occluder's up side turns to the face centre."""

    point_at_face: bool = False
    angle: Annotated[Num, Bounds(-360.0, 360.0, ui=(-180.0, 180.0))] = 0.0
    jitter: Annotated[Num, Bounds(-180.0, 180.0, ui=(-90.0, 90.0))] = Range(min=-15.0, max=15.0)
    up: UpSide | None = None  #: overrides the occluder's own


class FlipSpec(_Model):
    probability: Probability = 0.5


class BlurSpec(_Model):
    probability: Probability = 0.3
    #: pixels of the occluder
    sigma: Annotated[Num, Bounds(0.0, 20.0, ui=(0.0, 5.0))] = Range(min=0.3, max=1.5)


class JpegSpec(_Model):
    probability: Probability = 0.5
    quality: Annotated[Num, Bounds(1, 100)] = Range(min=70, max=100)


class AffineSpec(_Model):
    probability: Probability = 0.7
    scale: Annotated[Num, Bounds(0.1, 10.0, ui=(0.5, 2.0))] = Range(min=0.8, max=1.2)
    rotation: Annotated[Num, Bounds(-180.0, 180.0, ui=(-90.0, 90.0))] = Range(min=-15.0, max=15.0)
    shear: Annotated[Num, Bounds(-60.0, 60.0, ui=(-30.0, 30.0))] = Range(min=-8.0, max=8.0)


class OccluderAugmentSpec(_Model):
    blur: BlurSpec = BlurSpec()
    jpeg: JpegSpec = JpegSpec()
    affine: AffineSpec = AffineSpec()
    brightness: Annotated[Num, Bounds(-1.0, 1.0, ui=(-0.5, 0.5))] = Range(min=-0.08, max=0.08)
    contrast: Annotated[Num, Bounds(0.0, 4.0, ui=(0.5, 1.5))] = Range(min=0.9, max=1.1)


class ColorSpec(_Model):
    """Colour transfer towards the face's skin colours (or the skin ring around the occluder:
    ``harmonize.color.target``). ``lighting`` matches luminance level/contrast and part of the
    white balance but keeps the occluder's own hues."""

    method: ColorMethod = "sot"
    probability: Probability = 1.0
    strength: Annotated[Num, Bounds(0.0, 1.0)] = 1.0
    steps: Annotated[StrictInt, Field(ge=1, le=200)] = 15
    directions: Annotated[StrictInt, Field(ge=1, le=64)] = 5
    samples: Annotated[StrictInt, Field(ge=64, le=1_000_000)] = 2048
    smooth: Probability = 0.075
    #: ``lighting`` only: 0 keeps the occluder's white balance, 1 takes the target's mean
    #: chromaticity (a red object would turn skin-coloured); in between, part of the cast.
    white_balance: Annotated[Num, Bounds(0.0, 1.0)] = 0.3


class BlendSpec(_Model):
    feather: Annotated[Num, Bounds(0.0, 32.0, ui=(0.0, 8.0))] = 1.0
    edge_blur: Annotated[Num, Bounds(0.0, 32.0, ui=(0.0, 8.0))] = 1.0
    band: Annotated[StrictInt, Field(ge=1, le=64)] = 3
    opacity_probability: Probability = 0.0
    opacity: Annotated[Num, Bounds(0.0, 1.0)] = Range(min=0.4, max=0.7)


class ShapeSpec(_Model):
    """RandOcc shapes."""

    points: Annotated[Num, Bounds(3, 64)] = Range(min=3, max=15)
    roundness: Annotated[Num, Bounds(0.0, 1.0)] = Range(min=0.0, max=1.0)
    edginess: Annotated[Num, Bounds(0.0, 1.0)] = Range(min=0.0, max=1.0)
    canvas: Annotated[StrictInt, Field(ge=32, le=4096)] = 512
    texture_probability: Probability = 1.0


class ImageAugmentSpec(_Model):
    """Whole-image augmentation of the result. Off by default: it changes unoccluded pixels."""

    enabled: bool = False
    flip_probability: Probability = 0.5
    blur_probability: Probability = 0.3
    blur_sigma: Annotated[Num, Bounds(0.0, 20.0, ui=(0.0, 3.0))] = Range(min=0.3, max=1.2)
    brightness: Annotated[Num, Bounds(-1.0, 1.0, ui=(-0.3, 0.3))] = Range(min=-0.05, max=0.05)
    contrast: Annotated[Num, Bounds(0.0, 4.0, ui=(0.5, 1.5))] = Range(min=0.95, max=1.05)


class HarmonizeColorSpec(_Model):
    """Step 1: the colour transfer's target, the whole face's skin or the skin ring."""

    target: ColorTarget = Field(
        "ring",
        description="Colour transfer towards the whole face's skin, or towards the skin ring "
        "around the placed occluder (the light where it sits).",
    )


class ShadingSpec(_Model):
    """Step 2: the face's low-frequency luminance where the occluder sits modulates it."""

    strength: Annotated[Num, Bounds(0.0, 1.0)] = Field(
        Range(min=0.5, max=1.0),
        description="How much the face's light field (bright and dark sides) modulates the "
        "occluder.",
    )
    smooth: Annotated[Num, Bounds(0.02, 1.0)] = Field(
        0.12,
        description="Sigma of the light field's base layer, as a fraction of the face size.",
    )


class FocusSpec(_Model):
    """Step 3: blur (or lightly sharpen) the occluder to the skin ring's sharpness."""

    strength: Annotated[Num, Bounds(0.0, 1.0)] = Field(
        1.0,
        description="Blur (or lightly sharpen) the occluder to the sharpness of the skin "
        "around it.",
    )


class NoiseSpec(_Model):
    """Step 4: seeded noise so the occluder's noise (luminance and chroma) matches the ring's."""

    strength: Annotated[Num, Bounds(0.0, 1.0)] = Field(
        1.0,
        description="Add seeded noise (and smooth excess chroma noise) so the occluder's "
        "luminance and chroma noise match the skin around it.",
    )


class ShadowSpec(_Model):
    """Step 5: a soft shadow of the occluder's shape beside it (never a label)."""

    probability: Probability = Field(
        0.5, description="Chance that the occluder casts a shadow (never a label)."
    )
    angle: Annotated[Num, Bounds(-360.0, 360.0)] = Field(
        Range(min=-180.0, max=180.0),
        description="Direction the shadow falls, degrees counter-clockwise, 0 = to the right.",
    )
    distance: Annotated[Num, Bounds(0.0, 0.5)] = Field(
        Range(min=0.02, max=0.08),
        description="Offset of the shadow, as a fraction of the occluder size.",
    )
    softness: Annotated[Num, Bounds(0.0, 0.5)] = Field(
        Range(min=0.02, max=0.08),
        description="Blur of the shadow's edge, as a fraction of the occluder size.",
    )
    opacity: Annotated[Num, Bounds(0.0, 1.0)] = Field(
        Range(min=0.15, max=0.4),
        description="Darkening at the shadow's core (a see-through occluder casts a lighter one).",
    )


class HarmonizeSpec(_Model):
    """Harmonise the pasted occluder with the face (off by default): statistics of the skin
    ring around the placed occluder (its colour, light, sharpness and noise) carried over."""

    enabled: bool = Field(
        False,
        description="Harmonise the pasted occluder with the face (off: the plain paste, byte "
        "for byte).",
    )
    ring: Annotated[Num, Bounds(0.05, 1.0)] = Field(
        0.15,
        description="Width of the skin ring around the occluder on which the face is "
        "measured, as a fraction of the occluder size.",
    )
    color: HarmonizeColorSpec = HarmonizeColorSpec()
    shading: ShadingSpec = ShadingSpec()
    focus: FocusSpec = FocusSpec()
    noise: NoiseSpec = NoiseSpec()
    shadow: ShadowSpec = ShadowSpec()


class EngineSpec(_Model):
    """All engine parameters of a preset, as fixed values, ranges and probabilities."""

    mode: Mode = "natocc"
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
    mask_max: MaskMax = 255
    occluder_class: Annotated[StrictInt, Field(ge=1, le=255)] = 255
