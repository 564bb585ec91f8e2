"""sample(): the only place that draws random numbers. It returns plain RenderParams."""

from __future__ import annotations

import numpy as np

from studio.core.engine import draws
from studio.core.engine.cache import RenderCache
from studio.core.engine.coords import center_pixels
from studio.core.engine.placement import coverage_of, place
from studio.core.engine.prepare import base_occluder
from studio.core.engine.resolve import aimed, identities, new_shape
from studio.core.model.errors import InputError, PlacementError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import (
    RenderParams,
)
from studio.core.model.spec import EngineSpec, draw, happens


def sample(
    spec: EngineSpec,
    rng: np.random.Generator,
    face: Face,
    occluder: Occluder | Texture | None,
    cache: RenderCache | None = None,
) -> RenderParams:
    """Draw the parameters of one sample.

    Parameters
    ----------
    spec : what may vary, and how.
    rng : the only source of randomness.
    face : the face; placement and coverage are computed on it.
    occluder : an :class:`Occluder` (natocc) or a :class:`Texture` / None (randocc).
    cache : optional cache for the RandOcc shape (shared with ``render``).

    Raises
    ------
    PlacementError
        when no placement meets the coverage bounds within ``spec.placement.max_tries``.
    """
    if spec.mode == "natocc" and not isinstance(occluder, Occluder):
        raise InputError("natocc sampling needs an occluder with a mask", face.id)
    cache = cache or RenderCache(32 * 2**20)
    flip = happens(rng, spec.flip.probability)
    augment = draws.draw_occluder_augment(rng, spec)
    color = draws.draw_color(rng, spec)
    blend = draws.draw_blend(rng, spec)
    shape_seed = int(rng.integers(0, 2**63 - 1))
    image_aug = draws.draw_image_augment(rng, spec)

    shape, name = new_shape(spec, shape_seed) if spec.mode == "randocc" else (None, "")
    ids = identities(spec, occluder, shape, name)
    occluder_id, aim_up = ids["occluder_id"], ids["aim_up"]

    params = RenderParams(
        face_id=face.id,
        shape=shape,
        **ids,  # type: ignore[arg-type]
        flip=flip,
        augment=augment,
        color=color,
        blend=blend,
        image_augment=image_aug,
        mask_max=spec.mask_max,
        occluder_class=spec.occluder_class,
    )
    # only the shape matters for placement, so the texture is left out here
    base = base_occluder(params, occluder if spec.mode == "natocc" else None, cache)

    pl, rot = spec.placement, spec.rotation
    for _ in range(pl.max_tries):
        cx, cy = draw(rng, pl.center_x), draw(rng, pl.center_y)
        area = draw(rng, spec.scale.area_ratio)
        angle, jitter = draw(rng, rot.angle), draw(rng, rot.jitter)
        center = center_pixels(face, (cx, cy))
        candidate = aimed(
            params.replace(
                center_rel=(cx, cy),
                center_px=(center[0] / face.scale, center[1] / face.scale),
                area_ratio=area,
                rotation=angle,
                aim_jitter=jitter if aim_up is not None else 0.0,
            ),
            face,
        )
        placed = place(face, base, candidate, cache=cache)
        if placed is None or not placed.label.any():
            continue
        coverage = coverage_of(face, placed)
        if pl.min_coverage <= coverage <= pl.max_coverage:
            return draws.draw_late(rng, spec, candidate)
    raise PlacementError(
        f"no placement with face coverage in [{pl.min_coverage:g}, {pl.max_coverage:g}] "
        f"after {pl.max_tries} tries (occluder {occluder_id})",
        face.id,
    )
