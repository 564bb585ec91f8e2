"""One sample of a job: its generator, its occluder or texture, its parameters.

Every client that makes samples from sources (the exporter, the studio's sample grid, the
torch transform, ``studio demo``) draws them here, so the same seed and index give the same
sample everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.core.engine.cache import RenderCache
from studio.core.engine.pool import ItemPool
from studio.core.engine.sample import sample
from studio.core.model.errors import InputError, PlacementError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams
from studio.core.model.spec import EngineSpec
from studio.core.model.vocab import pool_required

MAX_ATTEMPTS = 3  #: occluders tried per sample when no placement meets the coverage bounds


def sample_rng(seed: int, index: int, epoch: int | None = None) -> np.random.Generator:
    """The generator of sample ``index`` of a job seeded ``seed`` (and of ``epoch``, for
    training-time occlusion): independent of every other sample."""
    key = (int(index),) if epoch is None else (int(epoch), int(index))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=key))


def face_index(index: int, faces: int, per_face: int = 1) -> int:
    """Which face sample ``index`` uses: faces in sorted order, ``per_face`` samples each,
    cycling."""
    return (index // per_face) % faces


@dataclass
class Drawn:
    """A drawn sample: its parameters and the occluder or texture they were drawn for."""

    params: RenderParams
    item: Occluder | Texture | None
    item_id: str
    attempts: int
    #: load errors of unusable occluders/textures met while drawing (each reported once)
    unusable: list[InputError] = field(default_factory=list)


def draw_sample(
    spec: EngineSpec,
    rng: np.random.Generator,
    face: Face,
    pool: ItemPool | None,
    cache: RenderCache | None = None,
    attempts: int = MAX_ATTEMPTS,
) -> Drawn:
    """Choose an occluder (NatOcc) or texture (RandOcc; none without a pool) and sample the
    parameters; another item is tried when no placement meets the coverage bounds.

    Raises
    ------
    PlacementError
        after ``attempts`` items without a placement (the error carries ``unusable``).
    InputError
        when the pool has no usable item.
    """
    unusable: list[InputError] = []
    last: PlacementError | None = None
    for attempt in range(1, attempts + 1):
        item_id, item = "", None
        if pool is not None and len(pool):
            try:
                item_id, item, met = pool.draw(rng)
            except InputError as err:
                unusable.extend(getattr(err, "met", []))
                err.unusable = unusable  # type: ignore[attr-defined]
                raise
            unusable.extend(met)
        elif pool_required(spec.mode):
            raise InputError("natocc needs occluders, and none were given")
        try:
            params = sample(spec, rng, face, item, cache)
        except PlacementError as err:
            last = err
            continue
        return Drawn(params, item, item_id, attempt, unusable)
    assert last is not None
    error = PlacementError(f"sample failed after {attempts} occluders: {last.reason}", last.path)
    error.unusable = unusable  # type: ignore[attr-defined]
    raise error
