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
from studio.core.model.params import RenderParams
from studio.core.model.spec import EngineSpec
from studio.core.model.vocab import pool_required


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
    if pool_required(spec.mode) and not isinstance(occluder, Occluder):
        raise InputError("natocc sampling needs an occluder with a mask", face.id)
    cache = cache or RenderCache(32 * 2**20)
    drawn = draws.draw_stage(rng, spec, "sample")
    if spec.mode == "randocc":
        shape, name = new_shape(spec, drawn["shape.seed"])
    else:
        shape, name = None, ""
    ids = identities(spec, occluder, shape, name)
    start = RenderParams(face_id=face.id, shape=shape, **ids)  # type: ignore[arg-type]
    params = draws.settle(start, spec, "sample", drawn)
    # only the shape matters for placement, so the texture is left out here
    base = base_occluder(params, occluder if spec.mode == "natocc" else None, cache)

    pl = spec.placement
    for _ in range(pl.max_tries):
        candidate = draws.settle(params, spec, "place", draws.draw_stage(rng, spec, "place"))
        center = center_pixels(face, candidate.center_rel)
        candidate = aimed(
            candidate.replace(center_px=(center[0] / face.scale, center[1] / face.scale)), face
        )
        placed = place(face, base, candidate, cache=cache)
        if placed is None or not placed.label.any():
            continue
        coverage = coverage_of(face, placed)
        if pl.min_coverage <= coverage <= pl.max_coverage:
            return draws.settle(candidate, spec, "late", draws.draw_stage(rng, spec, "late"))
    raise PlacementError(
        f"no placement with face coverage in [{pl.min_coverage:g}, {pl.max_coverage:g}] "
        f"after {pl.max_tries} tries (occluder {ids['occluder_id']})",
        face.id,
    )
