"""Pinned values made consistent with a preset: the one place that turns what a user (or the
sampler) set into the RenderParams a render takes, in the manner of a pure ``resolve()``.

Sampling, the studio's preview, its canvas and its sample grid all go through here, so the
ids of a RandOcc shape, the occluder's up side and the point-at-face rotation are computed one
way. Nothing here draws a random number (a new shape is drawn from the seed it is given).
"""

from __future__ import annotations

import numpy as np

from studio.core.engine import draws
from studio.core.engine.coords import center_pixels
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams, ShapeParams
from studio.core.model.spec import EngineSpec
from studio.core.model.vocab import UpSide
from studio.core.ops import geometry


def shape_id(seed: int) -> str:
    """The occluder id of the RandOcc shape drawn from ``seed``."""
    return f"shape:{seed}"


def new_shape(spec: EngineSpec, seed: int) -> tuple[ShapeParams, str]:
    """A RandOcc shape drawn from the spec's shape ranges with its own ``seed``, and its id."""
    return draws.draw_shape(np.random.default_rng(seed), spec), shape_id(seed)


def aim_side(spec: EngineSpec, occluder: Occluder | Texture | None) -> UpSide | None:
    """The occluder side that point-at-face turns to the face (None: free rotation)."""
    if not spec.rotation.point_at_face:
        return None
    own: UpSide = occluder.up if isinstance(occluder, Occluder) else "up"  # type: ignore[assignment]
    return spec.rotation.up or own


def aimed(params: RenderParams, face: Face) -> RenderParams:
    """``params`` with the point-at-face rotation of its centre (the aimed angle plus the
    jitter); unchanged when the rotation is free."""
    if params.aim_up is None:
        return params
    center = center_pixels(face, params.center_rel)
    angle = geometry.aim_angle(center, face.center, params.aim_up, params.flip)
    return params.replace(rotation=angle + params.aim_jitter)


def identities(
    spec: EngineSpec,
    occluder: Occluder | Texture | None,
    shape: ShapeParams | None = None,
    shape_name: str = "",
) -> dict[str, object]:
    """Mode, occluder and texture ids and the aim side of a sample of ``spec``: a RandOcc
    sample's occluder is its shape (``shape_name``), filled with the texture unless flat."""
    if spec.mode == "randocc":
        texture = occluder if isinstance(occluder, Texture) else None
        uses_texture = texture is not None and shape is not None and shape.fill_rgb is None
        texture_id = texture.id if uses_texture and texture is not None else None
        ids = {"occluder_id": shape_name, "texture_id": texture_id}
    else:
        ids = {"occluder_id": getattr(occluder, "id", ""), "texture_id": None}
    return {"mode": spec.mode, **ids, "aim_up": aim_side(spec, occluder)}


def resolve(
    spec: EngineSpec, params: RenderParams, face: Face, occluder: Occluder | Texture | None
) -> RenderParams:
    """The parameters to render for pinned ``params``: mode, face and occluder ids, a RandOcc
    shape (seed 0 when there is none yet), the aim side and the aimed rotation, all consistent
    with ``spec``; a shadow the spec never casts is off."""
    changes: dict[str, object] = {"face_id": face.id}
    shape, name = params.shape, params.occluder_id
    if spec.mode == "randocc" and shape is None:
        shape, name = new_shape(spec, 0)
        changes["shape"] = shape
    changes.update(identities(spec, occluder, shape, name))
    if spec.harmonize.shadow.probability <= 0:
        from dataclasses import replace

        shadow = replace(params.harmonize.shadow, opacity=0.0)
        changes["harmonize"] = replace(params.harmonize, shadow=shadow)
    return aimed(params.replace(**changes), face)
