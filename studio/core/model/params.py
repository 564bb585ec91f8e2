"""RenderParams: everything one rendered sample needs, and nothing random.

``sample()`` draws them; ``render()`` consumes them. They are frozen, hashable and round-trip
through JSON (``to_dict`` / ``from_dict``), so a sample can be recorded and re-rendered exactly.

A field's default is what a sample holds when the step that sets it is off or not drawn (a
colour transfer that did not happen: ``method="none"``, no blur: ``blur_sigma=0``); the preset's
defaults (what a new preset draws from, e.g. SOT) are those of the parameter table,
:mod:`studio.core.model.knobs`, which also says which knob sets which field.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, TypeAdapter

from studio.core.model.vocab import ColorMethod, ColorTarget, MaskMax, Mode, UpSide

#: Field metadata of a parameter added after the first records: :meth:`RenderParams.to_dict`
#: leaves it out while it holds its default, so what a sample that does not use it records
#: (params.json, the manifest's rows) stays byte for byte what it was; a missing key reads back
#: as the default.
LATER = {"recorded": "when set"}


def _recorded(value: Any) -> Any:
    """:func:`dataclasses.asdict`, leaving out the :data:`LATER` fields at their default."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.metadata == LATER and v == f.default:
                continue
            out[f.name] = _recorded(v)
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(_recorded(v) for v in value)
    return value


@dataclass(frozen=True)
class OccluderAugment:
    """Augmentation of the occluder alone (the face is never touched by it)."""

    blur_sigma: float = 0.0  #: Gaussian blur of the occluder's colours, in occluder pixels.
    jpeg_quality: int | None = None  #: JPEG re-compression quality, or None for none.
    brightness: float = 0.0  #: added to colours, as a fraction of 255.
    contrast: float = 1.0  #: colours scaled about mid-grey.
    affine_scale: float = 1.0  #: extra scale of the occluder's geometry.
    affine_rotation: float = 0.0  #: extra rotation, degrees counter-clockwise.
    affine_shear: float = 0.0  #: horizontal shear, degrees.
    #: cut-out parts below this share of its largest part are dropped (0: none)
    min_fragment: float = field(default=0.0, metadata=LATER)

    @property
    def photometric(self) -> tuple[float, int | None, float, float]:
        return (self.blur_sigma, self.jpeg_quality, self.brightness, self.contrast)


@dataclass(frozen=True)
class ShapeParams:
    """A RandOcc shape: a smooth closed Bezier curve through ``points``."""

    points: tuple[tuple[float, float], ...]  #: control points in [0, 1]^2.
    roundness: float = 0.5  #: 0 = straight segments, 1 = round.
    edginess: float = 0.5  #: 0 = smooth tangents, 1 = sharp corners.
    canvas: int = 512  #: side in pixels of the square the shape is drawn on.
    fill_rgb: tuple[int, int, int] | None = None  #: flat colour when no texture is used.


@dataclass(frozen=True)
class ColorParams:
    """Colour transfer of the occluder towards the face's skin colours."""

    method: ColorMethod = "none"
    strength: float = 1.0  #: 0 = original colours, 1 = fully transferred.
    steps: int = 15  #: SOT iterations.
    directions: int = 5  #: random projection directions averaged per SOT iteration.
    samples: int = 2048  #: pixels sorted per projection (subsample of both sides).
    smooth: float = 0.075  #: sigma of the colour-change smoothing, fraction of occluder size.
    seed: int = 0  #: seed of the SOT directions and subsamples.
    white_balance: float = 0.3  #: ``lighting``: share of the target's colour cast taken on.
    #: roll bright colours off below white (SOT, Reinhard, lighting); 0 clips
    highlights: float = field(default=0.0, metadata=LATER)


@dataclass(frozen=True)
class BlendParams:
    """How the occluder is composited. Pixel sizes are at the face's native resolution."""

    opacity: float = 1.0  #: < 1 gives a see-through occluder (labels are unaffected).
    feather: float = 1.0  #: sigma of the alpha feather inside the edge band.
    edge_blur: float = 1.0  #: sigma of the blur of the composite inside the edge band.
    band: int = 3  #: half-width of the edge band around the label boundary.
    #: occluder size at which band, feather and edge blur are as given (0: native pixels)
    relative_to: int = field(default=0, metadata=LATER)


@dataclass(frozen=True)
class ImageAugment:
    """Whole-image augmentation of the result (off by default; masks follow geometry)."""

    enabled: bool = False
    flip: bool = False
    blur_sigma: float = 0.0
    brightness: float = 0.0
    contrast: float = 1.0


@dataclass(frozen=True)
class ShadowParams:
    """A soft cast shadow of the occluder's shape; sizes are fractions of the occluder size."""

    opacity: float = 0.0  #: darkening at the core; 0 = no shadow.
    angle: float = -60.0  #: direction of the offset, degrees counter-clockwise, 0 = right.
    distance: float = 0.05  #: offset of the shadow from the occluder.
    softness: float = 0.04  #: sigma of the shadow's blur.


@dataclass(frozen=True)
class HarmonizeParams:
    """Harmonisation of the placed occluder with the face (off by default; every strength 0
    or ``enabled`` False renders exactly what no harmonisation renders)."""

    enabled: bool = False
    ring: float = 0.15  #: width of the skin ring around the occluder, fraction of its size.
    color_target: ColorTarget = "face"  #: colour transfer towards the face's or ring's skin.
    shading: float = 0.0  #: strength of the face's shading field on the occluder.
    shading_smooth: float = 0.12  #: sigma of the shading base layer, fraction of face size.
    focus: float = 0.0  #: strength of the sharpness match.
    noise: float = 0.0  #: strength of the noise match.
    noise_seed: int = 0  #: seed of the added noise.
    shadow: ShadowParams = field(default_factory=ShadowParams)
    look: float = field(default=0.0, metadata=LATER)  #: strength of the photo's colour look
    white_balance: float = field(default=1.0, metadata=LATER)  #: share of its cast applied
    tone: float = field(default=0.0, metadata=LATER)  #: tone curve and colourfulness match
    light: float = field(default=0.0, metadata=LATER)  #: brightness follows the ring's light
    compression: float = field(default=0.0, metadata=LATER)  #: JPEG quality and resolution


@dataclass(frozen=True)
class RenderParams:
    """All parameters of one rendered sample."""

    mode: Mode = "natocc"
    face_id: str = ""
    occluder_id: str = ""
    texture_id: str | None = None
    shape: ShapeParams | None = None
    #: occluder centre in face-bbox coordinates: (0, 0) top-left, (1, 1) bottom-right.
    center_rel: tuple[float, float] = (0.5, 0.5)
    #: the same centre in pixels at the face's native resolution (informational).
    center_px: tuple[float, float] = (0.0, 0.0)
    #: occluder bbox area / face bbox area, before the augmentation's affine scale.
    area_ratio: float = 0.5
    rotation: float = 0.0  #: degrees counter-clockwise (on screen).
    #: point-at-face: the occluder's up side, or None when the rotation is free.
    aim_up: UpSide | None = None
    aim_jitter: float = 0.0  #: degrees added to the aimed angle (part of ``rotation``).
    flip: bool = False  #: horizontal flip of the occluder.
    augment: OccluderAugment = field(default_factory=OccluderAugment)
    color: ColorParams = field(default_factory=ColorParams)
    blend: BlendParams = field(default_factory=BlendParams)
    image_augment: ImageAugment = field(default_factory=ImageAugment)
    harmonize: HarmonizeParams = field(default_factory=HarmonizeParams)
    mask_max: MaskMax = 255  #: value of "on" in the written masks.
    occluder_class: int = 255  #: class id of the occluder in multi-class label maps.

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict (fields added later only where they are not at their
        default: see :data:`LATER`)."""
        return _recorded(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderParams:
        """Inverse of :meth:`to_dict`, validated by the same schema system as presets
        (pydantic): lists become tuples, nested dicts dataclasses; unknown keys, wrong types
        and words outside the vocabulary are refused (``pydantic.ValidationError``)."""
        return _ADAPTER().validate_python(data)

    def replace(self, **changes: Any) -> RenderParams:
        return dataclasses.replace(self, **changes)


#: every parameter dataclass refuses keys it does not know
for _cls in (
    OccluderAugment,
    ShapeParams,
    ColorParams,
    BlendParams,
    ImageAugment,
    ShadowParams,
    HarmonizeParams,
    RenderParams,
):
    setattr(_cls, "__pydantic_config__", ConfigDict(extra="forbid"))  # noqa: B010


@functools.cache
def _ADAPTER() -> TypeAdapter[RenderParams]:
    return TypeAdapter(RenderParams)


def value_at(obj: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` (attribute names, tuple indices) of RenderParams or a part of
    them; None when a part on the way is None (e.g. the shape of a NatOcc sample)."""
    value = obj
    for part in path:
        if value is None:
            return None
        value = value[part] if isinstance(part, int) else getattr(value, part)
    return value


def with_values(obj: Any, values: dict[tuple[str | int, ...], Any]) -> Any:
    """A copy of ``obj`` (RenderParams or a part of them) with each ``path: value`` set; a path
    through a part that is None (no shape) is left out."""
    new: dict[str | int, Any] = {}
    below: dict[str | int, dict[tuple[str | int, ...], Any]] = {}
    for path, value in values.items():
        if len(path) == 1:
            new[path[0]] = value
        else:
            below.setdefault(path[0], {})[path[1:]] = value
    for head, rest in below.items():
        current = obj[head] if isinstance(head, int) else getattr(obj, head)
        if current is not None:
            new[head] = with_values(current, rest)
    if isinstance(obj, tuple):
        return tuple(new.get(i, v) for i, v in enumerate(obj))
    return dataclasses.replace(obj, **{str(k): v for k, v in new.items()}) if new else obj
