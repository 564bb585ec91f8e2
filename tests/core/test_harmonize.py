"""Harmonisation: off and strength 0 change nothing, labels never change, each step moves the
occluder's statistics towards the skin ring's, the shadow only darkens near the occluder."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
from render_cases import result_digest

from studio.core import EngineSpec, Face, Occluder, RenderCache, render, sample
from studio.core.engine import harmonize as stage
from studio.core.engine.coords import band_radius
from studio.core.engine.placement import label_size, place
from studio.core.model.errors import InputError
from studio.core.model.params import HarmonizeParams, RenderParams, ShadowParams
from studio.core.model.preset import preset_from_dict
from studio.core.ops import estimate as est
from studio.core.ops import shadow
from studio.core.ops.backend import get_backend
from studio.core.sources.synthetic import synthetic_face

CPU = get_backend("cpu")
ON = {
    "enabled": True,
    "ring": {"min": 0.1, "max": 0.3},
    "shading": {"strength": 1.0, "smooth": {"min": 0.08, "max": 0.2}},
    "focus": {"strength": 1.0},
    "noise": {"strength": 1.0},
    "shadow": {"probability": 1.0, "opacity": 0.5},
}


def _spec(**extra) -> EngineSpec:
    return EngineSpec.model_validate(extra)


def _labelled_face(size: int = 256) -> Face:
    face = synthetic_face(size, seed=1)
    labels = face.mask.astype(np.uint8)
    labels[: size // 2][face.mask[: size // 2]] = 2
    return Face(face.image, face.mask, face.id, labels)


def _all_off(h: HarmonizeParams) -> HarmonizeParams:
    """Every strength 0, no shadow, the colour target the whole face."""
    shadow_off = dataclasses.replace(h.shadow, opacity=0.0)
    return dataclasses.replace(
        h, color_target="face", shading=0.0, focus=0.0, noise=0.0, shadow=shadow_off
    )


# ---- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["natocc", "randocc"])
def test_disabled_section_draws_and_renders_exactly_what_no_section_does(face, occluder, mode):
    occ = occluder if mode == "natocc" else None
    disabled = {**ON, "enabled": False}
    for seed in range(3):
        r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
        plain = sample(_spec(mode=mode), r1, face, occ)
        off = sample(_spec(mode=mode, harmonize=disabled), r2, face, occ)
        assert off == plain and off.harmonize == HarmonizeParams()
        assert r1.random() == r2.random()  # the same numbers were consumed
        assert result_digest(render(face, occ, off)) == result_digest(render(face, occ, plain))


def test_enabling_harmonize_leaves_every_other_parameter_as_drawn(face, occluder):
    for seed in range(3):
        plain = sample(_spec(), np.random.default_rng(seed), face, occluder)
        on = sample(_spec(harmonize=ON), np.random.default_rng(seed), face, occluder)
        assert on.harmonize.enabled and on.replace(harmonize=HarmonizeParams()) == plain


def test_strength_zero_is_byte_identical(face, occluder):
    params = sample(_spec(harmonize=ON), np.random.default_rng(4), face, occluder)
    plain = render(face, occluder, params.replace(harmonize=HarmonizeParams()))
    zero = params.replace(harmonize=_all_off(params.harmonize))
    assert result_digest(render(face, occluder, zero)) == result_digest(plain)
    # the lighting colour method at strength 0 is no colour transfer
    light = params.replace(color=dataclasses.replace(params.color, method="lighting", strength=0))
    none = params.replace(color=dataclasses.replace(params.color, method="none"))
    assert np.array_equal(
        render(face, occluder, light.replace(harmonize=HarmonizeParams())).image,
        render(face, occluder, none.replace(harmonize=HarmonizeParams())).image,
    )


def test_every_step_changes_pixels():
    face, occluder = _textured_face(256, blur=1.5, noise=3.0), _sharp_occluder()
    params = sample(_spec(harmonize=ON), np.random.default_rng(2), face, occluder)
    base = render(face, occluder, params.replace(harmonize=_all_off(params.harmonize))).image
    h = _all_off(params.harmonize)
    for step in ({"shading": 1.0}, {"focus": 1.0}, {"noise": 1.0}, {"shadow": ShadowParams(0.5)}):
        image = render(face, occluder, params.replace(harmonize=dataclasses.replace(h, **step)))
        assert not np.array_equal(image.image, base), step


def test_harmonised_render_is_deterministic_and_leaves_global_rng_alone(face, occluder):
    params = sample(_spec(harmonize=ON), np.random.default_rng(6), face, occluder)
    state = np.random.get_state()[1].copy()
    cache = RenderCache()
    digests = {result_digest(render(face, occluder, params, cache=cache)) for _ in range(2)}
    digests.add(result_digest(render(face, occluder, params)))
    assert len(digests) == 1
    assert np.array_equal(np.random.get_state()[1], state)
    other = dataclasses.replace(params.harmonize, noise_seed=params.harmonize.noise_seed + 1)
    assert result_digest(render(face, occluder, params.replace(harmonize=other))) not in digests


def test_harmonize_params_round_trip_through_json(face, occluder):
    params = sample(
        _spec(harmonize=ON, color={"method": "lighting"}), np.random.default_rng(1), face, occluder
    )
    assert RenderParams.from_dict(json.loads(params.to_json())) == params
    assert "harmonize" in params.to_dict() and params.to_dict()["harmonize"]["enabled"]


def test_preset_bounds_are_checked():
    with pytest.raises(InputError, match=r"harmonize.shading.strength: must lie in \[0.0, 1.0\]"):
        preset_from_dict({"harmonize": {"shading": {"strength": 1.5}}})
    with pytest.raises(InputError, match=r"harmonize.ring"):
        preset_from_dict({"harmonize": {"ring": {"min": 0.0, "max": 0.2}}})
    with pytest.raises(InputError, match=r"harmonize.color.target"):
        preset_from_dict({"harmonize": {"color": {"target": "hair"}}})


# ---- the label rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_no_step_changes_a_label(occluder, seed):
    face = _labelled_face()
    params = sample(
        _spec(harmonize=ON, color={"method": "lighting"}),
        np.random.default_rng(seed),
        face,
        occluder,
    )
    plain = render(face, occluder, params.replace(harmonize=HarmonizeParams()))
    h = _all_off(params.harmonize)
    variants = [params] + [
        params.replace(harmonize=dataclasses.replace(h, **step))
        for step in (
            {"shading": 1.0},
            {"focus": 1.0},
            {"noise": 1.0},
            {"shadow": ShadowParams(0.8)},
            {"look": 1.0, "tone": 1.0},  # the photo's look (issue 23)
            {"light": 1.0},
            {"compression": 1.0},
        )
    ]
    for v in variants:
        r = render(face, occluder, v)
        for a, b in ((r.occlusion_mask, plain.occlusion_mask), (r.face_mask, plain.face_mask)):
            assert np.array_equal(a, b)
        assert np.array_equal(r.labels, plain.labels) and np.array_equal(r.alpha, plain.alpha)
        assert r.stats == plain.stats


def _shadowed(face, occluder, seed=0, **shadow_params):
    params = sample(_spec(harmonize=ON), np.random.default_rng(seed), face, occluder)
    s = ShadowParams(
        **{"opacity": 0.6, "angle": -45.0, "distance": 0.1, "softness": 0.05, **shadow_params}
    )
    only = dataclasses.replace(_all_off(params.harmonize), shadow=s)
    return params.replace(harmonize=only), params.replace(harmonize=HarmonizeParams())


@pytest.mark.parametrize("angle", [-45.0, 90.0, 180.0])
def test_shadow_only_darkens_and_stays_near_the_occluder(face, occluder, angle):
    shadowed, plain = _shadowed(face, occluder, angle=angle)
    a = render(face, occluder, shadowed)
    b = render(face, occluder, plain)
    label = a.occlusion_mask > 0
    radius = band_radius(face, plain)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    band_zone = cv2.dilate(label.astype(np.uint8), kernel) > 0
    outside = ~band_zone
    assert (a.image[outside] <= b.image[outside]).all(), "a shadow only darkens"
    changed = (a.image != b.image).any(axis=2) & outside
    assert changed.any(), "the shadow darkens something beside the occluder"
    # within its offset + blur reach of the occluder's shape
    size = label_size(CPU, label)
    reach = shadow.reach(shadowed.harmonize.shadow, size) + radius
    near = (
        cv2.dilate(
            label.astype(np.uint8),
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2),
        )
        > 0
    )
    assert not (changed & ~near).any()
    # and it falls on the side it is cast to
    ys, xs = np.nonzero(changed)
    cy, cx = np.nonzero(label)
    d = np.array([np.cos(np.radians(angle)), -np.sin(np.radians(angle))])
    assert (np.array([xs.mean() - cx.mean(), ys.mean() - cy.mean()]) @ d) > 0


def test_see_through_occluder_casts_a_lighter_shadow(face, occluder):
    shadowed, plain = _shadowed(face, occluder)
    faded = shadowed.replace(blend=dataclasses.replace(shadowed.blend, opacity=0.3))
    b = render(face, occluder, plain).image.astype(int)
    full = b - render(face, occluder, shadowed).image.astype(int)
    light = b - render(face, occluder, faded.replace(harmonize=shadowed.harmonize)).image.astype(
        int
    )
    beside = render(face, occluder, plain).occlusion_mask == 0
    assert 0 < light[beside].sum() < full[beside].sum()


# ---- each step matches its statistic ----------------------------------------------------------


def _regions(face, occ, params):
    placed = place(face, occ, params)
    ring = stage.ring_of(CPU, params, face.image, face.mask, placed)
    inside = est.interior_cells(CPU, placed.label, est.MARGIN).full()
    return placed.region, inside, ring.work, ring.mask


def _stats(image, face, occ, params):
    region, inside, work, ring = _regions(face, occ, params)
    (x0, y0, x1, y1), (wx0, wy0, wx1, wy1) = region, work
    return (
        est.measure(CPU, image[y0:y1, x0:x1], inside),
        est.measure(CPU, image[wy0:wy1, wx0:wx1], ring),
    )


def _textured_face(size=384, blur=0.0, noise=0.0) -> Face:
    """Skin-coloured blotches (sharp, anti-aliased) on a skin mask, blurred and noised."""
    rng = np.random.default_rng(0)
    tex = np.full((size, size), 0.5, np.float32)
    for _ in range(size // 2):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        cv2.circle(
            tex,
            (x, y),
            int(rng.integers(3, 14)),
            float(rng.uniform(0, 1)),
            -1,
            lineType=cv2.LINE_AA,
        )
    skin = np.array([200.0, 150.0, 125.0]) * (0.75 + 0.4 * tex[..., None])
    img = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), blur) if blur else skin
    img = img + rng.normal(0, noise, img.shape) if noise else img
    mask = np.zeros((size, size), bool)
    mask[size // 8 : -size // 8, size // 8 : -size // 8] = True
    return Face(np.clip(img, 0, 255).astype(np.uint8), mask)


def _sharp_occluder(size=160) -> Occluder:
    rng = np.random.default_rng(3)
    rgb = np.full((size, size, 3), 90, np.uint8)
    for _ in range(30):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        colour = tuple(int(c) for c in rng.integers(30, 230, 3))
        cv2.circle(rgb, (x, y), int(rng.integers(4, 20)), colour, -1, lineType=cv2.LINE_AA)
    alpha = np.zeros((size, size), np.uint8)
    cv2.circle(alpha, (size // 2, size // 2), size // 2 - 2, 255, -1)
    return Occluder(rgb, alpha, id="sharp-discs")


def _one_step(face, occ, step, seed=0):
    spec = _spec(
        color={"method": "none"},
        occluder_augment={
            "blur": {"probability": 0},
            "jpeg": {"probability": 0},
            "affine": {"probability": 0},
        },
        scale={"area_ratio": 0.3},
        placement={"min_coverage": 0.0, "max_coverage": 1.0},
        harmonize=ON,
    )
    params = sample(spec, np.random.default_rng(seed), face, occ)
    h = _all_off(params.harmonize)
    on = params.replace(harmonize=dataclasses.replace(h, **{step: 1.0}))
    return on, params.replace(harmonize=h)


def test_focus_blurs_a_sharp_occluder_to_a_soft_face():
    face, occ = _textured_face(blur=2.5), _sharp_occluder()
    on, off = _one_step(face, occ, "focus")
    occ_off, ring = _stats(render(face, occ, off).image, face, occ, off)
    occ_on, _ = _stats(render(face, occ, on).image, face, occ, on)
    assert occ_off.blur < 0.6 * ring.blur  # the cut-out starts much sharper
    assert occ_on.blur == pytest.approx(ring.blur, rel=0.2)


def test_noise_brings_a_clean_occluder_to_the_face_noise():
    face, occ = _textured_face(noise=5.0), _sharp_occluder()
    on, off = _one_step(face, occ, "noise")
    occ_off, ring = _stats(render(face, occ, off).image, face, occ, off)
    occ_on, _ = _stats(render(face, occ, on).image, face, occ, on)
    assert occ_off.luma < 0.3 * ring.luma
    assert occ_on.luma == pytest.approx(ring.luma, rel=0.2)
    assert occ_on.chroma == pytest.approx(ring.chroma, rel=0.25)


def test_shading_gives_a_half_lit_face_a_half_lit_occluder():
    face = _textured_face()
    ramp = np.linspace(0.4, 1.2, face.image.shape[1])[None, :, None]
    face = Face(np.clip(face.image * ramp, 0, 255).astype(np.uint8), face.mask)
    occ = Occluder(np.full((120, 120, 3), 160, np.uint8), np.full((120, 120), 255, np.uint8))
    on, off = _one_step(face, occ, "shading")
    for params, lit in ((off, False), (on, True)):
        r = render(face, occ, params)
        ys, xs = np.nonzero(est.interior(CPU, r.occlusion_mask > 0, 6))
        mid = np.median(xs)
        lum = est.luminance(CPU, r.image)
        left, right = lum[ys[xs < mid], xs[xs < mid]].mean(), lum[ys[xs > mid], xs[xs > mid]].mean()
        if lit:
            face_l = est.luminance(CPU, face.image)
            expected = (
                face_l[ys[xs > mid], xs[xs > mid]].mean()
                / face_l[ys[xs < mid], xs[xs < mid]].mean()
            )
            assert right / left == pytest.approx(expected, rel=0.15)
        else:
            assert right / left == pytest.approx(1.0, abs=0.02)


def test_lighting_keeps_a_red_object_red_where_sot_turns_it_skin_coloured():
    face = synthetic_face(256, seed=1)
    red = Occluder(
        np.tile(np.array([200, 30, 35], np.uint8), (80, 80, 1)), np.full((80, 80), 255, np.uint8)
    )
    params = sample(
        _spec(color={"method": "sot"}, scale={"area_ratio": 0.2}),
        np.random.default_rng(0),
        face,
        red,
    )

    def mean_colour(method):
        p = params.replace(color=dataclasses.replace(params.color, method=method))
        r = render(face, red, p)
        return r.image[est.interior(CPU, r.occlusion_mask > 0, 4)].mean(axis=0)

    sot, lit = mean_colour("sot"), mean_colour("lighting")
    skin = face.image[face.mask].mean(axis=0)
    assert np.abs(sot - skin).max() < 40  # SOT takes the skin's colours
    assert lit[0] > 3 * lit[1] and lit[0] > 3 * lit[2]  # lighting keeps it red ...
    y = lambda c: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]  # noqa: E731
    assert y(np.array([200, 30, 35])) < y(lit) < y(skin)  # ... brighter, as the skin is


def test_ring_target_takes_the_colour_where_the_occluder_sits(occluder):
    size = 256
    image = np.zeros((size, size, 3), np.uint8)
    image[:, : size // 2] = (200, 150, 120)
    image[:, size // 2 :] = (120, 90, 200)
    mask = np.zeros((size, size), bool)
    mask[32:-32, 32:-32] = True
    face = Face(image, mask)
    params = RenderParams(area_ratio=0.08, center_rel=(0.15, 0.5))
    params = params.replace(color=dataclasses.replace(params.color, method="reinhard"))
    ring = params.replace(harmonize=HarmonizeParams(enabled=True, color_target="ring"))
    whole = render(face, occluder, params)
    local = render(face, occluder, ring)
    inside = est.interior(CPU, whole.occlusion_mask > 0, 4)
    left_colour = np.array([200, 150, 120])
    assert (
        np.abs(local.image[inside].mean(axis=0) - left_colour).max()
        < np.abs(whole.image[inside].mean(axis=0) - left_colour).max()
    )
