"""What may vary between samples: the engine part of a preset (pydantic models).

Each leaf field is typed here and takes its default, bounds and description from its entry of
the parameter table (:mod:`studio.core.model.knobs`, by its dotted key).
:func:`studio.core.engine.sample.sample` draws
:class:`~studio.core.model.params.RenderParams` from them. The number forms (a fixed value, a
range or weighted choices) live in :mod:`studio.core.model.numbers` (imported here too).
"""

from __future__ import annotations

from pydantic import model_validator

from studio.core.model.knobs import spec_field as knob
from studio.core.model.numbers import (
    NUM_TAGS,
    Bounds,
    Choices,
    Finite,
    Num,
    Probability,
    Range,
    StrictInt,
    StrictModel,
    draw,
    draw_int,
    field_bounds,
    field_ui_range,
    happens,
)
from studio.core.model.vocab import ColorMethod, ColorTarget, MaskMax, Mode, UpSide

#: the spec models, and the number forms this module has always offered (from numbers)
__all__ = [
    "NUM_TAGS",
    "AffineSpec",
    "BlendSpec",
    "BlurSpec",
    "Bounds",
    "Choices",
    "ColorSpec",
    "CompressionSpec",
    "EngineSpec",
    "Finite",
    "FlipSpec",
    "FocusSpec",
    "HarmonizeColorSpec",
    "HarmonizeSpec",
    "ImageAugmentSpec",
    "JpegSpec",
    "LookSpec",
    "NoiseSpec",
    "Num",
    "OccluderAugmentSpec",
    "PlacementSpec",
    "Probability",
    "Range",
    "RotationSpec",
    "ScaleSpec",
    "ShadingSpec",
    "ShadowSpec",
    "ShapeSpec",
    "StrictInt",
    "draw",
    "draw_int",
    "field_bounds",
    "field_ui_range",
    "happens",
]


class PlacementSpec(StrictModel):
    """Where the occluder centre goes, in face-bbox coordinates (0..1; may go outside)."""

    center_x: Num = knob("placement.center_x")
    center_y: Num = knob("placement.center_y")
    min_coverage: Probability = knob("placement.min_coverage")
    max_coverage: Probability = knob("placement.max_coverage")
    max_tries: StrictInt = knob("placement.max_tries")

    @model_validator(mode="after")
    def _check(self) -> PlacementSpec:
        if self.min_coverage > self.max_coverage:
            raise ValueError(
                f"min_coverage ({self.min_coverage}) is greater than max_coverage "
                f"({self.max_coverage})"
            )
        return self


class ScaleSpec(StrictModel):
    """Occluder bbox area as a fraction of the face bbox area."""

    area_ratio: Num = knob("scale.area_ratio")


class RotationSpec(StrictModel):
    """Free rotation, or point-at-face: the occluder's up side turns to the face centre."""

    point_at_face: bool = knob("rotation.point_at_face")
    angle: Num = knob("rotation.angle")
    jitter: Num = knob("rotation.jitter")
    up: UpSide | None = knob("rotation.up")  #: overrides the occluder's own


class FlipSpec(StrictModel):
    probability: Probability = knob("flip.probability")


class BlurSpec(StrictModel):
    probability: Probability = knob("occluder_augment.blur.probability")
    sigma: Num = knob("occluder_augment.blur.sigma")  #: pixels of the occluder


class JpegSpec(StrictModel):
    probability: Probability = knob("occluder_augment.jpeg.probability")
    quality: Num = knob("occluder_augment.jpeg.quality")


class AffineSpec(StrictModel):
    probability: Probability = knob("occluder_augment.affine.probability")
    scale: Num = knob("occluder_augment.affine.scale")
    rotation: Num = knob("occluder_augment.affine.rotation")
    shear: Num = knob("occluder_augment.affine.shear")


class OccluderAugmentSpec(StrictModel):
    blur: BlurSpec = BlurSpec()
    jpeg: JpegSpec = JpegSpec()
    affine: AffineSpec = AffineSpec()
    brightness: Num = knob("occluder_augment.brightness")
    contrast: Num = knob("occluder_augment.contrast")
    min_fragment: Finite = knob("occluder_augment.min_fragment")


class ColorSpec(StrictModel):
    """Colour transfer towards the face's skin colours (or the skin ring around the occluder:
    ``harmonize.color.target``). ``lighting`` matches luminance level/contrast and part of the
    white balance but keeps the occluder's own hues."""

    method: ColorMethod = knob("color.method")
    probability: Probability = knob("color.probability")
    strength: Num = knob("color.strength")
    steps: StrictInt = knob("color.steps")
    directions: StrictInt = knob("color.directions")
    samples: StrictInt = knob("color.samples")
    smooth: Probability = knob("color.smooth")
    white_balance: Num = knob("color.white_balance")  #: ``lighting`` only
    highlights: Finite = knob("color.highlights")


class BlendSpec(StrictModel):
    feather: Num = knob("blend.feather")
    edge_blur: Num = knob("blend.edge_blur")
    band: StrictInt = knob("blend.band")
    relative_to: StrictInt = knob("blend.relative_to")
    opacity_probability: Probability = knob("blend.opacity_probability")
    opacity: Num = knob("blend.opacity")


class ShapeSpec(StrictModel):
    """RandOcc shapes."""

    points: Num = knob("shape.points")
    roundness: Num = knob("shape.roundness")
    edginess: Num = knob("shape.edginess")
    canvas: StrictInt = knob("shape.canvas")
    texture_probability: Probability = knob("shape.texture_probability")


class ImageAugmentSpec(StrictModel):
    """Whole-image augmentation of the result. Off by default: it changes unoccluded pixels."""

    enabled: bool = knob("image_augment.enabled")
    flip_probability: Probability = knob("image_augment.flip_probability")
    blur_probability: Probability = knob("image_augment.blur_probability")
    blur_sigma: Num = knob("image_augment.blur_sigma")
    brightness: Num = knob("image_augment.brightness")
    contrast: Num = knob("image_augment.contrast")


class HarmonizeColorSpec(StrictModel):
    """Step 1: the colour transfer's target, the whole face's skin or the skin ring."""

    target: ColorTarget = knob("harmonize.color.target")


class ShadingSpec(StrictModel):
    """Step 2: the face's low-frequency luminance where the occluder sits modulates it."""

    strength: Num = knob("harmonize.shading.strength")
    smooth: Num = knob("harmonize.shading.smooth")
    light: Num = knob("harmonize.shading.light")


class FocusSpec(StrictModel):
    """Step 3: blur (or lightly sharpen) the occluder to the skin ring's sharpness."""

    strength: Num = knob("harmonize.focus.strength")


class NoiseSpec(StrictModel):
    """Step 4: seeded noise so the occluder's noise (luminance and chroma) matches the ring's."""

    strength: Num = knob("harmonize.noise.strength")


class ShadowSpec(StrictModel):
    """Step 5: a soft shadow of the occluder's shape beside it (never a label)."""

    probability: Probability = knob("harmonize.shadow.probability")
    angle: Num = knob("harmonize.shadow.angle")
    distance: Num = knob("harmonize.shadow.distance")
    softness: Num = knob("harmonize.shadow.softness")
    opacity: Num = knob("harmonize.shadow.opacity")


class LookSpec(StrictModel):
    """The photo's colour rendering (estimated once per face) applied to the occluder after
    its colour method: monochrome and toned photos, the colour cast, tone and colourfulness."""

    strength: Num = knob("harmonize.look.strength")
    white_balance: Num = knob("harmonize.look.white_balance")
    tone: Num = knob("harmonize.look.tone")


class CompressionSpec(StrictModel):
    """The photo's JPEG quality and effective resolution carried over to the occluder."""

    strength: Num = knob("harmonize.compression.strength")


class HarmonizeSpec(StrictModel):
    """Harmonise the pasted occluder with the face (off by default): statistics of the skin
    ring around the placed occluder (its colour, light, sharpness and noise) carried over."""

    enabled: bool = knob("harmonize.enabled")
    ring: Num = knob("harmonize.ring")
    color: HarmonizeColorSpec = HarmonizeColorSpec()
    shading: ShadingSpec = ShadingSpec()
    focus: FocusSpec = FocusSpec()
    noise: NoiseSpec = NoiseSpec()
    shadow: ShadowSpec = ShadowSpec()
    look: LookSpec = LookSpec()
    compression: CompressionSpec = CompressionSpec()


class EngineSpec(StrictModel):
    """All engine parameters of a preset, as fixed values, ranges and probabilities."""

    mode: Mode = knob("mode")
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
    mask_max: MaskMax = knob("mask_max")
    occluder_class: StrictInt = knob("occluder_class")
