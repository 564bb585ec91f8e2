"""sample(): determinism, placement bounds, point-at-face rotation, RandOcc."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from engine_helpers import plain_face, two_tone_occluder

from studio.core import EngineSpec, Texture, render, sample
from studio.core.model.errors import InputError, PlacementError
from studio.core.model.params import ShapeParams
from studio.core.ops.geometry import aim_angle


def test_same_seed_same_params_and_global_rng_untouched(face, occluder):
    state = np.random.get_state()[1].copy()
    a = sample(EngineSpec(), np.random.default_rng(11), face, occluder)
    b = sample(EngineSpec(), np.random.default_rng(11), face, occluder)
    c = sample(EngineSpec(), np.random.default_rng(12), face, occluder)
    assert a == b and a != c
    assert np.array_equal(np.random.get_state()[1], state)


def test_pinning_one_parameter_does_not_shift_the_others(face, occluder):
    free = sample(EngineSpec(), np.random.default_rng(5), face, occluder)
    pinned = sample(EngineSpec(flip={"probability": 1.0}), np.random.default_rng(5), face, occluder)
    assert pinned.flip is True
    assert pinned.augment == free.augment and pinned.color == free.color


@pytest.mark.parametrize(("lo", "hi"), [(0.05, 0.2), (0.2, 0.4), (0.4, 0.6)])
def test_rendered_coverage_lies_within_the_bounds(face, occluder, lo, hi):
    spec = EngineSpec(
        placement={"min_coverage": lo, "max_coverage": hi, "max_tries": 400},
        color={"method": "none"},
    )
    for seed in range(8):
        params = sample(spec, np.random.default_rng(seed), face, occluder)
        coverage = render(face, occluder, params).stats["coverage"]
        assert lo <= coverage <= hi


def test_impossible_coverage_is_a_clear_error(face, occluder):
    spec = EngineSpec(
        scale={"area_ratio": 0.01},
        placement={"min_coverage": 0.9, "max_coverage": 1.0, "max_tries": 20},
    )
    with pytest.raises(PlacementError, match=r"coverage in \[0.9, 1\] after 20 tries"):
        sample(spec, np.random.default_rng(0), face, occluder)


def test_natocc_without_an_occluder_is_an_error(face):
    with pytest.raises(InputError):
        sample(EngineSpec(), np.random.default_rng(0), face, None)


def _colour_centroids(result):
    img, occ = result.image.astype(int), result.occlusion_mask > 0
    red = occ & (img[..., 0] > 180) & (img[..., 2] < 80)
    blue = occ & (img[..., 2] > 180) & (img[..., 0] < 80)
    return [np.array(np.nonzero(m)[::-1]).mean(axis=1) for m in (red, blue)]


@pytest.mark.parametrize("up", ["up", "down", "left", "right"])
@pytest.mark.parametrize(
    "where",
    [(-0.4, 0.5), (1.4, 0.5), (0.5, -0.4), (0.5, 1.4)],
    ids=["left", "right", "above", "below"],
)
def test_point_at_face_turns_the_up_side_towards_the_face(up, where):
    face = plain_face()
    occ = two_tone_occluder(up)
    spec = EngineSpec(
        placement={
            "center_x": where[0],
            "center_y": where[1],
            "min_coverage": 0.0,
            "max_coverage": 1.0,
        },
        scale={"area_ratio": 0.12},
        rotation={"point_at_face": True, "jitter": 0.0},
        occluder_augment={
            "affine": {"probability": 0.0},
            "brightness": 0.0,
            "contrast": 1.0,
            "blur": {"probability": 0.0},
            "jpeg": {"probability": 0.0},
        },
        color={"method": "none"},
    )
    for seed in range(2):  # flips vary with the seed
        params = sample(spec, np.random.default_rng(seed), face, occ)
        red, blue = _colour_centroids(render(face, occ, params))
        centre = np.array(face.center)
        assert np.linalg.norm(red - centre) + 5 < np.linalg.norm(blue - centre)


def test_aim_angle_is_zero_when_already_pointing():
    assert aim_angle((50, 90), (50, 10), "up") == pytest.approx(0.0)
    assert aim_angle((50, 10), (50, 90), "up") == pytest.approx(-180.0)
    assert aim_angle((10, 50), (90, 50), "right") == pytest.approx(0.0)
    assert aim_angle((10, 50), (90, 50), "left", flip=True) == pytest.approx(0.0)


def test_randocc_samples_a_shape_and_renders_it(face, texture):
    spec = EngineSpec(mode="randocc", placement={"min_coverage": 0.05, "max_coverage": 0.6})
    params = sample(spec, np.random.default_rng(3), face, texture)
    assert isinstance(params.shape, ShapeParams)
    assert 3 <= len(params.shape.points) <= 15
    result = render(face, texture, params)
    assert 0.05 <= result.stats["coverage"] <= 0.6
    assert (params.texture_id == texture.id) == (params.shape.fill_rgb is None)


def test_randocc_flat_colour_without_texture(face):
    spec = EngineSpec(
        mode="randocc",
        shape={"texture_probability": 0.0},
        color={"method": "none"},
        occluder_augment={
            "brightness": 0.0,
            "contrast": 1.0,
            "blur": {"probability": 0.0},
            "jpeg": {"probability": 0.0},
        },
    )
    params = sample(spec, np.random.default_rng(1), face, None)
    r = render(face, None, params)
    interior = cv2.erode(r.occlusion_mask, np.ones((11, 11), np.uint8)) > 0  # past the band
    inside = r.image[interior]
    assert params.shape.fill_rgb is not None and params.texture_id is None
    assert np.abs(inside.astype(int) - np.array(params.shape.fill_rgb)).max() <= 2


def test_see_through_probability_for_randocc(face):
    spec = EngineSpec(
        mode="randocc", blend={"opacity_probability": 1.0, "opacity": {"min": 0.4, "max": 0.7}}
    )
    params = sample(spec, np.random.default_rng(2), face, Texture(np.zeros((8, 8, 3), np.uint8)))
    assert 0.4 <= params.blend.opacity <= 0.7


@pytest.mark.parametrize("mode", ["natocc", "randocc"])
def test_resolving_sampled_params_changes_nothing(face, occluder, texture, mode):
    """The studio resolves pinned values with the same function sampling uses: ids of the
    occluder, texture and shape, the aim side and the aimed rotation all agree."""
    from studio.core.engine.resolve import new_shape, resolve

    spec = EngineSpec(
        mode=mode,
        rotation={"point_at_face": True, "jitter": {"min": -20, "max": 20}},
        placement={"min_coverage": 0.0, "max_coverage": 1.0},
    )
    item = occluder if mode == "natocc" else texture
    for seed in range(4):
        params = sample(spec, np.random.default_rng(seed), face, item)
        assert resolve(spec, params, face, item) == params
        moved = params.replace(center_rel=(0.2, 0.8))  # a drag: the rotation follows
        assert resolve(spec, moved, face, item).rotation != params.rotation
    if mode == "randocc":
        shape, name = new_shape(spec, 7)
        assert name == "shape:7" and shape == new_shape(spec, 7)[0]
        assert resolve(spec, params.replace(shape=None), face, item).occluder_id == "shape:0"
