"""The parameter table: every knob of the engine in one entry, in the studio's order.

An entry says where the knob sits in a preset (its key, default, bounds and help), how a sample
gets its value (its draw, stage and gates) and where that value goes (its path in
:class:`~studio.core.model.params.RenderParams`, its studio row, its report plot). The preset's
fields (:mod:`~studio.core.model.spec`) take their defaults, bounds and descriptions from here,
``sample()`` draws by walking it (:func:`studio.core.engine.draws.draw_stage`), the studio builds
its rows from it and the report names its plots after it.

The draw order. Each stage draws its entries in table order; every draw consumes a fixed count
of the generator's numbers, also when its gate is off, so pinning one value never shifts another:

- ``sample``: once per sample, before the placement (flip, occluder augmentation, colour,
  blend, the RandOcc shape's seed, whole-image augmentation);
- ``place``: once per placement try (centre, area ratio, angle, aim jitter);
- ``late``: once a placement is accepted, only where ``needs`` holds (the lighting white
  balance, harmonisation), so presets without them draw what they always drew;
- ``shape``: once per RandOcc shape try, from the shape's own seed.

A new knob is one entry here (in its group, and at the end of its stage when it draws, so the
numbers of every older preset stay where they were), one typed field in the spec and, when a
sample carries it, one field of RenderParams.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, Field

from studio.core.model.numbers import Bounds, Range

#: How a sample gets the value: ``chance`` a Bernoulli draw of the preset's probability,
#: ``number`` / ``integer`` a draw of its number (a range or choices), ``seed`` a fresh seed in
#: ``[0, seeds)`` (all one generator number); ``points`` a RandOcc shape's control
#: points (a count, then two numbers a point), ``colour`` a flat RGB colour (three numbers);
#: ``copy`` the preset's value as it is, ``setting`` steers the sampler (no number, no
#: RenderParams field: coverage bounds, tries, aiming).
Draw = Literal["chance", "number", "integer", "seed", "points", "colour", "copy", "setting"]
Stage = Literal["sample", "place", "late", "shape"]
STAGES: tuple[Stage, ...] = ("sample", "place", "late", "shape")
#: a path in RenderParams: attribute names, and indices into tuples
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Group:
    """A group of knobs: a section of the studio's panel and a title prefix in the report."""

    title: str  #: the studio's section
    report: str = ""  #: the report's title of its values (``Colour transfer: steps``); "" = title
    named: bool = False  #: the report shows its values' plots first, with the named plots
    open: bool = False  #: the studio's section starts expanded

    @property
    def report_title(self) -> str:
        return self.report or self.title


@dataclass(frozen=True)
class Knob:
    """One entry of the table (see the module's docstring)."""

    key: str  #: dotted key in the preset (a seed's or colour's name: not a preset key)
    group: Group
    label: str  #: the studio's row label
    draw: Draw
    default: Any = None  #: the preset's default
    bounds: Bounds | None = None  #: every value a number must lie in (an integer's limits)
    params: str | None = None  #: dotted path in RenderParams (``center_rel.0``)
    stage: Stage = "sample"
    #: chances and switches that must all be on, else the sample holds the RenderParams
    #: field's default (``not KEY``: must be off); a gated value is still drawn
    when: tuple[str, ...] = ()
    #: drawn only where the preset's ``needs[0]`` equals ``needs[1]`` (nothing consumed else)
    needs: tuple[str, object] | None = None
    #: the report's named plot of the value (always shown, even when constant); None: the value
    #: is plotted under its group's title when it varies (or never: no ``params``)
    plot: str | None = None
    tip: str = ""  #: help: the studio's tooltip and the preset schema's description
    decimals: int = 2  #: decimals the studio shows
    choices: tuple[Any, ...] | None = None  #: the studio's order of a choice's values
    seeds: int = 0  #: a seed: how many there are to draw from

    @cached_property
    def path(self) -> Path:
        """The RenderParams path of the value (empty: none)."""
        if self.params is None:
            return ()
        return tuple(int(p) if p.isdigit() else p for p in self.params.split("."))

    @cached_property
    def key_path(self) -> tuple[str, ...]:
        """The preset key as its parts."""
        return tuple(self.key.split("."))

    @property
    def drawn(self) -> bool:
        """True when the knob consumes numbers of the generator."""
        return self.draw not in ("copy", "setting")

    @property
    def in_preset(self) -> bool:
        """True for a key of the preset (seeds and the shapes' flat colour are not)."""
        return self.draw not in ("seed", "colour")

    @property
    def preview(self) -> bool:
        """True when the studio pins the value for its preview (a chance's outcome, a seed and
        a shape's points are drawn for each sample, never pinned)."""
        return self.params is not None and self.draw in ("number", "integer", "copy")


MODE = Group("Mode", open=True)
PLACEMENT = Group("Placement", open=True)
SCALE = Group("Scale", open=True)
ROTATION = Group("Rotation", open=True)
AUGMENT = Group("Occluder augmentation")
COLOR = Group("Colour transfer", named=True, open=True)
BLEND = Group("Blend", report="Blending", open=True)
HARMONIZE = Group("Harmonize", report="Harmonisation", named=True, open=True)
SHAPE = Group("RandOcc shape")
IMAGE = Group("Whole-image augmentation", report="Image augmentation")
OUTPUTS = Group("Outputs")

_LIGHTING = ("color.method", "lighting")
_HARMONIZED = ("harmonize.enabled", True)
_SEEDS = 2**31 - 1  #: the colour transfer's and the noise's seeds: [0, 2**31 - 1)

KNOBS: tuple[Knob, ...] = (
    Knob("mode", MODE, "Mode", "copy", "natocc", params="mode",
         tip="NatOcc pastes real hands and objects; RandOcc pastes random textured Bezier "
         "shapes."),
    Knob("placement.center_x", PLACEMENT, "Centre x", "number", Range(min=0.0, max=1.0),
         Bounds(-1.0, 2.0, ui=(-0.5, 1.5)), params="center_rel.0", stage="place", decimals=3,
         tip="Occluder centre across the face box: 0 = left edge, 1 = right edge."),
    Knob("placement.center_y", PLACEMENT, "Centre y", "number", Range(min=0.0, max=1.0),
         Bounds(-1.0, 2.0, ui=(-0.5, 1.5)), params="center_rel.1", stage="place", decimals=3,
         tip="Occluder centre down the face box: 0 = top edge, 1 = bottom edge."),
    Knob("placement.min_coverage", PLACEMENT, "Min coverage", "setting", 0.05,
         tip="Export rejects placements hiding less than this fraction of the face mask."),
    Knob("placement.max_coverage", PLACEMENT, "Max coverage", "setting", 0.6,
         tip="Export rejects placements hiding more than this fraction of the face mask."),
    Knob("placement.max_tries", PLACEMENT, "Max tries", "setting", 100, Bounds(1, 10_000),
         tip="Placements tried per sample before giving up on the coverage bounds."),
    Knob("scale.area_ratio", SCALE, "Area ratio", "number", Range(min=0.5, max=1.0),
         Bounds(1e-4, 16.0, ui=(0.02, 3.0)), params="area_ratio", stage="place", decimals=3,
         plot="Occluder scale (bbox area / face bbox area)",
         tip="Occluder box area as a fraction of the face box area (before augmentation "
         "scale)."),
    Knob("rotation.point_at_face", ROTATION, "Point at face", "setting", False,
         tip="Turn the occluder's up side (fingers of a hand) towards the face centre; the "
         "rotation then follows the position, plus the jitter."),
    Knob("rotation.angle", ROTATION, "Angle", "number", 0.0,
         Bounds(-360.0, 360.0, ui=(-180.0, 180.0)), params="rotation", stage="place",
         plot="Rotation (degrees)", decimals=1,
         tip="Free rotation in degrees, counter-clockwise (ignored with point-at-face)."),
    Knob("rotation.jitter", ROTATION, "Aim jitter", "number", Range(min=-15.0, max=15.0),
         Bounds(-180.0, 180.0, ui=(-90.0, 90.0)), params="aim_jitter", stage="place",
         when=("rotation.point_at_face",), decimals=1,
         tip="Degrees added to the point-at-face angle."),
    Knob("rotation.up", ROTATION, "Up side", "setting", None,
         tip="Which side of the occluder is its up side (overrides the source's setting)."),
    Knob("flip.probability", ROTATION, "Flip probability", "chance", 0.5, params="flip",
         tip="Chance of a horizontal flip of the occluder (the preview uses the Flip button)."),
    Knob("occluder_augment.blur.probability", AUGMENT, "Blur probability", "chance", 0.3,
         tip="Chance that the occluder is blurred."),
    Knob("occluder_augment.blur.sigma", AUGMENT, "Blur sigma", "number",
         Range(min=0.3, max=1.5), Bounds(0.0, 20.0, ui=(0.0, 5.0)),
         params="augment.blur_sigma", when=("occluder_augment.blur.probability",),
         tip="Gaussian blur of the occluder, in occluder pixels."),
    Knob("occluder_augment.jpeg.probability", AUGMENT, "JPEG probability", "chance", 0.5,
         tip="Chance that the occluder is JPEG re-compressed."),
    Knob("occluder_augment.jpeg.quality", AUGMENT, "JPEG quality", "integer",
         Range(min=70, max=100), Bounds(1, 100), params="augment.jpeg_quality",
         when=("occluder_augment.jpeg.probability",), decimals=0,
         tip="JPEG re-compression quality (the preview treats 100 as no re-compression)."),
    Knob("occluder_augment.affine.probability", AUGMENT, "Affine probability", "chance", 0.7,
         tip="Chance of the extra scale / rotation / shear below."),
    Knob("occluder_augment.affine.scale", AUGMENT, "Affine scale", "number",
         Range(min=0.8, max=1.2), Bounds(0.1, 10.0, ui=(0.5, 2.0)),
         params="augment.affine_scale", when=("occluder_augment.affine.probability",),
         tip="Extra scale of the occluder."),
    Knob("occluder_augment.affine.rotation", AUGMENT, "Affine rotation", "number",
         Range(min=-15.0, max=15.0), Bounds(-180.0, 180.0, ui=(-90.0, 90.0)),
         params="augment.affine_rotation", when=("occluder_augment.affine.probability",),
         decimals=1, tip="Extra rotation in degrees."),
    Knob("occluder_augment.affine.shear", AUGMENT, "Affine shear", "number",
         Range(min=-8.0, max=8.0), Bounds(-60.0, 60.0, ui=(-30.0, 30.0)),
         params="augment.affine_shear", when=("occluder_augment.affine.probability",),
         decimals=1, tip="Horizontal shear in degrees."),
    Knob("occluder_augment.brightness", AUGMENT, "Brightness", "number",
         Range(min=-0.08, max=0.08), Bounds(-1.0, 1.0, ui=(-0.5, 0.5)),
         params="augment.brightness",
         tip="Added to the occluder's colours, as a fraction of 255."),
    Knob("occluder_augment.contrast", AUGMENT, "Contrast", "number", Range(min=0.9, max=1.1),
         Bounds(0.0, 4.0, ui=(0.5, 1.5)), params="augment.contrast",
         tip="Occluder colours scaled about mid-grey."),
    Knob("occluder_augment.min_fragment", AUGMENT, "Drop fragments", "copy", 0.0,
         Bounds(0.0, 1.0), params="augment.min_fragment", decimals=3,
         tip="Parts of a cut-out's shape smaller than this share of its largest part are "
         "dropped before placement (stray alpha, never pasted or labelled); 0 keeps all."),
    # the preset's method is SOT; a sample whose transfer is off (``probability``) holds
    # ColorParams' default, "none"
    Knob("color.method", COLOR, "Method", "copy", "sot", params="color.method",
         when=("color.probability",), plot="Colour transfer: method",
         choices=("sot", "reinhard", "lighting", "none"),
         tip="Colour transfer towards the face's skin: sliced optimal transport (SOT), "
         "Reinhard, lighting (the skin's light and part of its white balance; the object keeps "
         "its colours), or none."),
    Knob("color.probability", COLOR, "Probability", "chance", 1.0,
         tip="Chance that the colour transfer is applied."),
    Knob("color.strength", COLOR, "Strength", "number", 1.0, Bounds(0.0, 1.0),
         params="color.strength", plot="Colour transfer: strength",
         tip="0 keeps the occluder's colours, 1 transfers them fully."),
    Knob("color.seed", COLOR, "", "seed", seeds=_SEEDS, params="color.seed"),
    Knob("color.steps", COLOR, "SOT steps", "copy", 15, Bounds(1, 200), params="color.steps",
         tip="SOT iterations."),
    Knob("color.directions", COLOR, "Directions", "copy", 5, Bounds(1, 64),
         params="color.directions", tip="Random projections per SOT iteration."),
    Knob("color.samples", COLOR, "Samples", "copy", 2048, Bounds(64, 1_000_000),
         params="color.samples", tip="Pixels sorted per projection."),
    Knob("color.smooth", COLOR, "Smoothing", "copy", 0.075, params="color.smooth", decimals=3,
         tip="Smoothing of the colour change, as a fraction of the occluder size."),
    Knob("color.white_balance", COLOR, "White balance", "number", 0.3, Bounds(0.0, 1.0),
         params="color.white_balance", stage="late", needs=_LIGHTING,
         tip="Lighting only: share of the target's colour cast the occluder takes on (0 keeps "
         "its own white balance, 1 takes the skin's mean colour)."),
    Knob("color.highlights", COLOR, "Protect highlights", "copy", 0.0, Bounds(0.0, 1.0),
         params="color.highlights",
         tip="SOT, Reinhard and lighting roll bright colours off below white instead of "
         "clipping them (1: from about 190 of 255 up); a pixel white in the cut-out stays "
         "white. 0 clips as before."),
    Knob("blend.feather", BLEND, "Feather", "number", 1.0, Bounds(0.0, 32.0, ui=(0.0, 8.0)),
         params="blend.feather",
         tip="Sigma of the alpha feather inside the edge band (native pixels)."),
    Knob("blend.edge_blur", BLEND, "Edge blur", "number", 1.0,
         Bounds(0.0, 32.0, ui=(0.0, 8.0)), params="blend.edge_blur",
         tip="Sigma of the blur of the composite inside the edge band (native pixels)."),
    Knob("blend.band", BLEND, "Edge band", "copy", 3, Bounds(1, 64), params="blend.band",
         tip="Half-width of the edge band, in native pixels."),
    Knob("blend.relative_to", BLEND, "Relative to size", "copy", 0, Bounds(0, 4096),
         params="blend.relative_to", decimals=0,
         tip="Occluder size (pixels) at which the edge band, feather and edge blur are as "
         "given: they scale with the placed occluder's size (the band at least 1 pixel). 0: "
         "they are native pixels, whatever the occluder's size."),
    Knob("blend.opacity_probability", BLEND, "See-through prob.", "chance", 0.0,
         tip="Chance of a see-through occluder (labels are unaffected)."),
    Knob("blend.opacity", BLEND, "Opacity", "number", Range(min=0.4, max=0.7),
         Bounds(0.0, 1.0), params="blend.opacity", when=("blend.opacity_probability",),
         plot="Opacity", tip="Opacity of a see-through occluder."),
    Knob("harmonize.enabled", HARMONIZE, "Enabled", "copy", False, params="harmonize.enabled",
         stage="late", needs=_HARMONIZED,
         tip="Harmonise the pasted occluder with the face (off: the plain paste, byte for "
         "byte)."),
    Knob("harmonize.ring", HARMONIZE, "Ring width", "number", 0.15, Bounds(0.05, 1.0),
         params="harmonize.ring", stage="late", needs=_HARMONIZED,
         tip="Width of the skin ring around the occluder on which the face is measured, as a "
         "fraction of the occluder size."),
    Knob("harmonize.color.target", HARMONIZE, "Colour target", "copy", "ring",
         params="harmonize.color_target", stage="late", needs=_HARMONIZED,
         tip="Colour transfer towards the whole face's skin, or towards the skin ring around "
         "the placed occluder (the light where it sits)."),
    Knob("harmonize.shading.strength", HARMONIZE, "Shading", "number",
         Range(min=0.5, max=1.0), Bounds(0.0, 1.0), params="harmonize.shading", stage="late",
         needs=_HARMONIZED,
         tip="How much the face's light field (bright and dark sides) modulates the occluder."),
    Knob("harmonize.shading.smooth", HARMONIZE, "Shading smooth", "number", 0.12,
         Bounds(0.02, 1.0), params="harmonize.shading_smooth", stage="late",
         needs=_HARMONIZED,
         tip="Sigma of the light field's base layer, as a fraction of the face size."),
    Knob("harmonize.focus.strength", HARMONIZE, "Focus", "number", 1.0, Bounds(0.0, 1.0),
         params="harmonize.focus", stage="late", needs=_HARMONIZED,
         tip="Blur (or lightly sharpen) the occluder to the sharpness of the skin around it."),
    Knob("harmonize.noise.strength", HARMONIZE, "Noise", "number", 1.0, Bounds(0.0, 1.0),
         params="harmonize.noise", stage="late", needs=_HARMONIZED,
         tip="Add seeded noise (and smooth excess chroma noise) so the occluder's luminance and "
         "chroma noise match the skin around it."),
    Knob("harmonize.noise_seed", HARMONIZE, "", "seed", seeds=_SEEDS,
         params="harmonize.noise_seed", stage="late", needs=_HARMONIZED),
    Knob("harmonize.shadow.probability", HARMONIZE, "Shadow prob.", "chance", 0.5,
         stage="late", needs=_HARMONIZED,
         tip="Chance that the occluder casts a shadow (never a label)."),
    Knob("harmonize.shadow.angle", HARMONIZE, "Shadow angle", "number",
         Range(min=-180.0, max=180.0), Bounds(-360.0, 360.0), params="harmonize.shadow.angle",
         stage="late", needs=_HARMONIZED, decimals=1,
         tip="Direction the shadow falls, degrees counter-clockwise, 0 = to the right."),
    Knob("harmonize.shadow.distance", HARMONIZE, "Shadow distance", "number",
         Range(min=0.02, max=0.08), Bounds(0.0, 0.5), params="harmonize.shadow.distance",
         stage="late", needs=_HARMONIZED,
         tip="Offset of the shadow, as a fraction of the occluder size."),
    Knob("harmonize.shadow.softness", HARMONIZE, "Shadow softness", "number",
         Range(min=0.02, max=0.08), Bounds(0.0, 0.5), params="harmonize.shadow.softness",
         stage="late", needs=_HARMONIZED,
         tip="Blur of the shadow's edge, as a fraction of the occluder size."),
    Knob("harmonize.shadow.opacity", HARMONIZE, "Shadow opacity", "number",
         Range(min=0.15, max=0.4), Bounds(0.0, 1.0), params="harmonize.shadow.opacity",
         stage="late", needs=_HARMONIZED, when=("harmonize.shadow.probability",),
         tip="Darkening at the shadow's core (a see-through occluder casts a lighter one)."),
    # added later: drawn after every older number (presets without them draw what they drew)
    Knob("harmonize.look.strength", HARMONIZE, "Photo look", "number", 0.0, Bounds(0.0, 1.0),
         params="harmonize.look", stage="late", needs=_HARMONIZED,
         tip="Render the occluder the way the photo renders colour, estimated once per face: "
         "grey or toned (sepia, duotone) on a monochrome photo, the photo's colour cast (see "
         "White balance), after the colour method."),
    Knob("harmonize.look.white_balance", HARMONIZE, "White balance", "number", 1.0,
         Bounds(0.0, 1.0), params="harmonize.white_balance", stage="late", needs=_HARMONIZED,
         tip="Share of the photo's estimated colour cast (skin against a skin-colour prior, "
         "and a robust grey world of the scene) that the occluder takes on: it keeps its hue "
         "relative to the scene. With the photo look on, it replaces the lighting method's "
         "own white balance."),
    Knob("harmonize.look.tone", HARMONIZE, "Tone & saturation", "number", 0.0,
         Bounds(0.0, 1.0), params="harmonize.tone", stage="late", needs=_HARMONIZED,
         tip="Match the photo's tone curve (black level, contrast) and colourfulness, "
         "estimated from the scene around the face (a faded print gives a faded occluder)."),
    Knob("harmonize.shading.light", HARMONIZE, "Follow light", "number", 0.0,
         Bounds(0.0, 1.0), params="harmonize.light", stage="late", needs=_HARMONIZED,
         tip="The occluder's brightness follows the direction and strength of the light "
         "across the skin ring (a plane fitted to its log luminance), across its whole "
         "extent."),
    Knob("harmonize.compression.strength", HARMONIZE, "JPEG & resolution", "number", 0.0,
         Bounds(0.0, 1.0), params="harmonize.compression", stage="late", needs=_HARMONIZED,
         tip="Re-encode the occluder's region at the photo's estimated JPEG quality (on its "
         "8-pixel grid) and bring it to the photo's effective resolution."),
    # the shape's own seed is drawn with the sample; the shape draws from it (stage "shape")
    Knob("shape.seed", SHAPE, "", "seed", seeds=2**63 - 1),
    Knob("shape.points", SHAPE, "Points", "points", Range(min=3, max=15), Bounds(3, 64),
         params="shape.points", stage="shape", decimals=0,
         tip="Control points of a RandOcc Bezier shape."),
    Knob("shape.roundness", SHAPE, "Roundness", "number", Range(min=0.0, max=1.0),
         Bounds(0.0, 1.0), params="shape.roundness", stage="shape",
         tip="0 = straight segments, 1 = round."),
    Knob("shape.edginess", SHAPE, "Edginess", "number", Range(min=0.0, max=1.0),
         Bounds(0.0, 1.0), params="shape.edginess", stage="shape",
         tip="0 = smooth tangents, 1 = sharp corners."),
    Knob("shape.canvas", SHAPE, "Canvas", "copy", 512, Bounds(32, 4096),
         params="shape.canvas", stage="shape",
         tip="Side in pixels of the canvas a shape is drawn on."),
    Knob("shape.texture_probability", SHAPE, "Texture prob.", "chance", 1.0, stage="shape",
         tip="Chance that a shape is filled with a texture (else a flat colour)."),
    Knob("shape.fill", SHAPE, "", "colour", params="shape.fill_rgb", stage="shape",
         when=("not shape.texture_probability",)),
    Knob("image_augment.enabled", IMAGE, "Enabled", "copy", False,
         params="image_augment.enabled",
         tip="Augment the whole result image (changes unoccluded pixels; masks follow "
         "geometry)."),
    Knob("image_augment.flip_probability", IMAGE, "Flip probability", "chance", 0.5,
         params="image_augment.flip", when=("image_augment.enabled",),
         tip="Chance of a horizontal flip of the whole image."),
    Knob("image_augment.blur_probability", IMAGE, "Blur probability", "chance", 0.3,
         tip="Chance of a blur of the whole image."),
    Knob("image_augment.blur_sigma", IMAGE, "Blur sigma", "number", Range(min=0.3, max=1.2),
         Bounds(0.0, 20.0, ui=(0.0, 3.0)), params="image_augment.blur_sigma",
         when=("image_augment.enabled", "image_augment.blur_probability"),
         tip="Blur of the whole image."),
    Knob("image_augment.brightness", IMAGE, "Brightness", "number",
         Range(min=-0.05, max=0.05), Bounds(-1.0, 1.0, ui=(-0.3, 0.3)),
         params="image_augment.brightness", when=("image_augment.enabled",),
         tip="Brightness change of the image."),
    Knob("image_augment.contrast", IMAGE, "Contrast", "number", Range(min=0.95, max=1.05),
         Bounds(0.0, 4.0, ui=(0.5, 1.5)), params="image_augment.contrast",
         when=("image_augment.enabled",), tip="Contrast change of the image."),
    Knob("mask_max", OUTPUTS, "Mask value", "copy", 255, params="mask_max", choices=(255, 1),
         tip="Value of 'on' in the written masks."),
    Knob("occluder_class", OUTPUTS, "Occluder class", "copy", 255, Bounds(1, 255),
         params="occluder_class", tip="Class id of the occluder in label maps."),
)  # fmt: skip

#: the entries by key
KNOB: dict[str, Knob] = {k.key: k for k in KNOBS}
assert len(KNOB) == len(KNOBS), "two entries with one key"


def in_stage(stage: Stage) -> tuple[Knob, ...]:
    """The entries of ``stage`` in draw order (settings belong to none)."""
    table, entries = _STAGES.get(stage, ((), ()))
    if table is not KNOBS:  # first call, or another table (tests)
        entries = tuple(k for k in KNOBS if k.stage == stage and k.draw != "setting")
        _STAGES[stage] = (KNOBS, entries)
    return entries


#: stage -> (the table, its entries of the stage)
_STAGES: dict[Stage, tuple[tuple[Knob, ...], tuple[Knob, ...]]] = {}


def preset_value(preset: BaseModel, key: str | tuple[str, ...]) -> Any:
    """The value at ``key`` (dotted, or its parts) of a preset (or a model laid out like one)."""
    value: Any = preset
    for part in key.split(".") if isinstance(key, str) else key:
        value = getattr(value, part)
    return value


def spec_field(key: str) -> Any:
    """The pydantic field of the preset's ``key``: its default, bounds and description from
    the table (an integer's bounds are pydantic's own ``ge``/``le``)."""
    knob = KNOB[key]
    description = knob.tip or None
    bounds = knob.bounds
    if bounds is None:
        return Field(knob.default, description=description)
    if knob.drawn:
        info = Field(knob.default, description=description)
        info.metadata.append(bounds)  # a number's form is checked first, then its bounds
        return info
    return Field(knob.default, description=description, ge=bounds.lo, le=bounds.hi)
