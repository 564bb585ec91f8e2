"""The realism suite's inputs are degraded as it says, and its statistics see a mismatch."""

from __future__ import annotations

import numpy as np
import pytest

from studio.bench import SUITES, realism
from studio.core.ops import estimate as est
from studio.core.ops.backend import get_backend

CPU = get_backend("cpu")


@pytest.fixture(scope="module")
def photo():
    faces, _ = realism._inputs()
    return next(f for f in faces if f.id.startswith("grace_hopper"))


def _skin_stats(face):
    return est.measure(CPU, face.image, face.mask)


def test_degraded_copies_are_blurred_noisy_or_lit_from_one_side(photo):
    assert "realism" in SUITES
    plain = _skin_stats(realism.degraded(photo, "original"))
    blurred = _skin_stats(realism.degraded(photo, "blurred"))
    noisy = _skin_stats(realism.degraded(photo, "noisy"))
    assert blurred.blur > plain.blur + 1.0
    assert noisy.luma == pytest.approx(realism.NOISE_SIGMA, rel=0.25)
    lit = realism.degraded(photo, "gradient")
    x0, _, x1, _ = (int(v) for v in photo.bbox)
    left = lit.image[:, x0 : x0 + 10].mean() / photo.image[:, x0 : x0 + 10].mean()
    right = lit.image[:, x1 - 10 : x1].mean() / photo.image[:, x1 - 10 : x1].mean()
    assert left < 0.6 and right > 1.1
    assert np.array_equal(lit.mask, photo.mask)


def test_mismatch_of_a_step_drops_when_it_is_on(photo):
    face = realism.degraded(photo, "noisy")
    _, occluders = realism._inputs()
    occ = next(o for o in occluders if o.id == "cup.png")
    spec = realism.EngineSpec.model_validate(realism.SPEC)
    params = realism.sample(spec, np.random.default_rng(0), face, occ)
    regions = realism.regions(face, occ, params)
    on = realism.render(face, occ, params).image
    off = realism.render(face, occ, realism._without(params, "noise")).image
    m_on = realism.mismatches(face, on, regions, params)
    m_off = realism.mismatches(face, off, regions, params)
    assert m_off["noise luma"] > 0.5 and m_on["noise luma"] < 0.5 * m_off["noise luma"]


def test_the_ring_is_untouched_by_the_render_so_the_suite_reads_it_on_the_face(photo):
    face = realism.degraded(photo, "blurred")
    _, occluders = realism._inputs()
    spec = realism.EngineSpec.model_validate(realism.SPEC)
    for occ in occluders[:3]:
        params = realism.sample(spec, np.random.default_rng(1), face, occ)
        regions = realism.regions(face, occ, params)
        image = realism.render(face, occ, params).image
        ring = realism._crop(image, regions.work)[regions.ring]
        assert ring.size and np.array_equal(
            ring, realism._crop(face.image, regions.work)[regions.ring]
        )


def test_the_follow_share_is_0_for_an_occluder_degraded_with_the_photo_1_for_one_left_alone(
    photo,
):
    from studio.bench import follow

    _, occluders = realism._inputs()
    occ = next(o for o in occluders if o.id == "cup.png")
    spec = follow.shipped("natocc-objects")
    params = realism.sample(spec, np.random.default_rng(2), photo, occ)
    where = follow.where(photo, occ, params)
    r0 = realism.render(photo, occ, params).image
    for how in follow.CONDITIONS:
        followed = follow.degrade(r0, how)
        assert follow.fail_share(r0, followed, where, how) == pytest.approx(0.0, abs=1e-9), how
        assert follow.fail_share(r0, r0, where, how) == pytest.approx(1.0), how
    # each copy changes what it says it changes
    grey = follow.degrade(photo.image, "grey")
    assert np.ptp(grey.astype(int), axis=2).max() == 0
    warm = follow.degrade(photo.image, "warm").astype(float).mean(axis=(0, 1))
    plain = photo.image.astype(float).mean(axis=(0, 1))
    assert warm[0] > plain[0] and warm[2] < 0.85 * plain[2]
    side = follow.degrade(photo.image, "side light").astype(float)
    w = side.shape[1]
    assert side[:, : w // 10].mean() < 0.5 * photo.image[:, : w // 10].mean()
