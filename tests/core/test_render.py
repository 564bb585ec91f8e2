"""render(): determinism, the label rule, untouched pixels (outside the occluder's edge band
and its shadow) and the result's contents."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from studio.core import EngineSpec, Face, Occluder, RenderCache, render, sample
from studio.core.engine.coords import band_radius
from studio.core.engine.placement import label_size, place
from studio.core.model.errors import RenderError
from studio.core.model.params import BlendParams, ColorParams, ImageAugment, RenderParams
from studio.core.ops import shadow
from studio.core.ops.backend import get_backend


def _sampled(face, occluder, seed=0, **spec):
    return sample(EngineSpec(**spec), np.random.default_rng(seed), face, occluder)


def _arrays(result):
    return [result.image, result.face_mask, result.occlusion_mask, result.alpha]


def test_render_is_byte_identical_across_runs_and_caches(face, occluder):
    params = _sampled(face, occluder, seed=4)
    first = render(face, occluder, params)
    again = render(face, occluder, params)
    cache = RenderCache()
    cached = [render(face, occluder, params, cache=cache) for _ in range(2)]
    assert cache.hits > 0
    for other in (again, *cached):
        for a, b in zip(_arrays(first), _arrays(other), strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    assert first.stats == again.stats


def test_params_round_trip_through_json_and_rerender_identically(face, occluder):
    params = _sampled(face, occluder, seed=9)
    restored = RenderParams.from_dict(__import__("json").loads(params.to_json()))
    assert restored == params
    assert np.array_equal(
        render(face, occluder, restored).image, render(face, occluder, params).image
    )


def test_recorded_params_are_validated_on_the_way_back(face, occluder):
    from pydantic import ValidationError

    data = __import__("json").loads(_sampled(face, occluder, seed=9).to_json())
    for bad in (
        {**data, "colour": {}},  # an unknown key
        {**data, "mode": "paint"},  # a word outside the vocabulary
        {**data, "color": {**data["color"], "method": "magic"}},
        {**data, "center_rel": "middle"},  # a wrong type
        {**data, "blend": {**data["blend"], "feathr": 1.0}},  # an unknown nested key
    ):
        with pytest.raises(ValidationError):
            RenderParams.from_dict(bad)


def test_axis_aligned_square_lands_exactly_where_expected():
    size = 64
    face = Face(np.full((size, size, 3), 90, np.uint8), np.ones((size, size), bool))
    square = Occluder(np.full((10, 10, 3), 200, np.uint8), np.full((10, 10), 255, np.uint8))
    # scale 1: occluder area == area_ratio * face bbox area; centre pixel (20.5, 30.5)
    params = RenderParams(
        area_ratio=100 / size**2,
        center_rel=(20.5 / size, 30.5 / size),
        blend=BlendParams(feather=0, edge_blur=0),
    )
    result = render(face, square, params)
    expected = np.zeros((size, size), np.uint8)
    expected[26:36, 16:26] = 255
    assert np.array_equal(result.occlusion_mask, expected)
    assert np.array_equal(result.face_mask, 255 - expected)
    assert (result.image[26:36, 16:26] == 200).all()
    assert result.stats["occluder_bbox"] == [16, 26, 26, 36]
    assert result.stats["coverage"] == pytest.approx(100 / size**2)


def test_label_is_placed_shape_alpha_at_half(face, occluder):
    for seed in range(5):
        params = _sampled(face, occluder, seed=seed)
        placed = place(face, occluder, params)
        result = render(face, occluder, params)
        x0, y0, x1, y1 = placed.region
        expected = np.zeros(result.occlusion_mask.shape, bool)
        expected[y0:y1, x0:x1] = placed.alpha >= 128
        assert np.array_equal(result.occlusion_mask > 0, expected)


def test_masks_are_binary_disjoint_and_partition_the_face(face, occluder):
    for mask_max in (255, 1):
        params = _sampled(face, occluder, seed=2, mask_max=mask_max)
        r = render(face, occluder, params)
        for m in (r.face_mask, r.occlusion_mask):
            assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, mask_max}
        assert not (r.face_mask.astype(bool) & r.occlusion_mask.astype(bool)).any()
        assert np.array_equal((r.face_mask > 0) | (face.mask & (r.occlusion_mask > 0)), face.mask)
        assert r.occlusion_mask.any() and r.face_mask.any()


def test_opacity_and_feathering_change_pixels_not_labels(face, occluder):
    params = _sampled(face, occluder, seed=3)
    faded = params.replace(blend=BlendParams(opacity=0.4, feather=3.0, edge_blur=2.0, band=4))
    a, b = render(face, occluder, params), render(face, occluder, faded)
    assert np.array_equal(a.occlusion_mask, b.occlusion_mask)
    assert np.array_equal(a.face_mask, b.face_mask)
    assert not np.array_equal(a.image, b.image)


HARMONIZE_ALL = {
    "enabled": True,
    "shading": {"strength": 1.0},
    "shadow": {"probability": 1.0, "opacity": 0.6, "distance": 0.1},
}


def _shadow_zone(r, params) -> np.ndarray:
    """Where the cast shadow may fall: the label moved by the shadow's offset, grown by its
    blur reach (all False without a shadow)."""
    s = params.harmonize.shadow
    label = r.occlusion_mask > 0
    if not params.harmonize.enabled or s.opacity <= 0:
        return np.zeros(label.shape, bool)
    size = label_size(get_backend("cpu"), label)
    dx, dy = shadow.offset(s, size)
    h, w = label.shape
    moved = np.zeros((h, w), np.uint8)
    ys, xs = np.nonzero(label)
    keep = (ys + dy >= 0) & (ys + dy < h) & (xs + dx >= 0) & (xs + dx < w)
    moved[ys[keep] + dy, xs[keep] + dx] = 1
    grow = shadow.reach(s, size) - max(abs(dx), abs(dy))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    return cv2.dilate(moved, kernel) > 0


@pytest.mark.parametrize("harmonize", [{}, HARMONIZE_ALL], ids=["plain", "harmonized"])
def test_pixels_outside_the_edge_band_and_shadow_are_untouched(face, occluder, harmonize):
    for seed in range(6):
        params = _sampled(face, occluder, seed=seed, harmonize=harmonize)
        r = render(face, occluder, params)
        radius = band_radius(face, params)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
        band = cv2.dilate(r.occlusion_mask, kernel) > 0
        shade = _shadow_zone(r, params) & ~band
        zone = band | shade
        assert np.array_equal(r.image[~zone], face.image[~zone])
        assert (r.alpha[~band] == 0).all()
        assert (r.image[shade] <= face.image[shade]).all()  # a shadow only darkens
        if harmonize:
            assert (r.image[shade] < face.image[shade]).any()


def test_soft_alpha_below_half_far_from_the_shape_changes_nothing(face):
    rgb = np.full((60, 60, 3), 250, np.uint8)
    alpha = np.zeros((60, 60), np.uint8)
    alpha[20:40, 20:40] = 255
    alpha[:8, :] = 100  # a faint haze, never labelled: must not tint the face either
    occ = Occluder(rgb, alpha)
    params = RenderParams(area_ratio=0.3, center_rel=(0.5, 0.5))
    r = render(face, occ, params)
    zone = cv2.dilate(r.occlusion_mask, np.ones((9, 9), np.uint8)) > 0
    assert np.array_equal(r.image[~zone], face.image[~zone])


def test_see_through_occluder_mixes_face_and_occluder():
    face = Face(np.full((100, 100, 3), 40, np.uint8), np.ones((100, 100), bool))
    occ = Occluder(np.full((30, 30, 3), 240, np.uint8), np.full((30, 30), 255, np.uint8))
    params = RenderParams(area_ratio=0.09, blend=BlendParams(opacity=0.5))
    r = render(face, occ, params)
    assert abs(int(r.image[50, 50, 0]) - 140) <= 1
    assert r.alpha[50, 50] == pytest.approx(0.5, abs=0.01)
    assert r.occlusion_mask[50, 50] == 255


def test_occluder_entirely_outside_the_image_is_an_error(face, occluder):
    params = RenderParams(area_ratio=0.1, center_rel=(5.0, 5.0))
    with pytest.raises(RenderError, match="outside"):
        render(face, occluder, params)


def test_whole_image_augmentation_is_off_by_default_and_moves_masks_with_image(face, occluder):
    params = _sampled(face, occluder, seed=5)
    assert params.image_augment.enabled is False
    base = render(face, occluder, params)
    flipped = render(face, occluder, params.replace(image_augment=ImageAugment(True, flip=True)))
    assert np.array_equal(flipped.image, base.image[:, ::-1])
    assert np.array_equal(flipped.occlusion_mask, base.occlusion_mask[:, ::-1])
    assert np.array_equal(flipped.face_mask, base.face_mask[:, ::-1])


def test_labels_get_the_occluder_class(occluder):
    f = Face(
        np.full((80, 80, 3), 100, np.uint8),
        np.ones((80, 80), bool),
        labels=np.ones((80, 80), np.uint8),
    )
    params = RenderParams(area_ratio=0.2, occluder_class=19)
    r = render(f, occluder, params)
    assert np.array_equal(r.labels == 19, r.occlusion_mask > 0)
    assert set(np.unique(r.labels)) == {1, 19}


def test_preview_resolution_matches_full_resolution_geometry(face, occluder):
    params = _sampled(face, occluder, seed=8, color={"method": "none"})
    full = render(face, occluder, params)
    half = render(face.resized(0.5), occluder, params)
    down = cv2.resize(full.occlusion_mask, (128, 128), interpolation=cv2.INTER_AREA) >= 128
    small = half.occlusion_mask > 0
    iou = (down & small).sum() / (down | small).sum()
    assert iou > 0.9


def test_colour_transfer_is_cached_across_placements(face, occluder):
    params = _sampled(face, occluder, seed=1, color={"method": "sot"})
    cache = RenderCache()
    render(face, occluder, params, cache=cache)
    misses = cache.misses
    render(face, occluder, params.replace(center_rel=(0.4, 0.45)), cache=cache)
    assert cache.misses == misses  # moving the occluder recomputes nothing cached


def test_a_sample_and_its_render_warp_the_shape_once_and_share_it(face, occluder, monkeypatch):
    from studio.core.ops import geometry

    spec = EngineSpec(color={"method": "sot"})
    warped: list[tuple[int, ...]] = []
    real_warp = geometry.warp_region

    def counting(be, image, matrix, region, **kw):
        warped.append(image.shape)
        return real_warp(be, image, matrix, region, **kw)

    monkeypatch.setattr(geometry, "warp_region", counting)
    cache = RenderCache()
    params = sample(spec, np.random.default_rng(3), face, occluder, cache)
    placements = sum(len(s) == 2 for s in warped)  # the shape alpha of every candidate
    shared = render(face, occluder, params, cache=cache)
    assert sum(len(s) == 2 for s in warped) == placements  # the render warped no alpha
    assert sum(len(s) == 3 for s in warped) == 1  # only the colours
    fresh = render(face, occluder, params)
    for a, b in zip(_arrays(shared), _arrays(fresh), strict=True):
        assert np.array_equal(a, b)
    assert not place(face, occluder, params, cache=cache).alpha.flags.writeable


def test_recent_values_are_bounded_and_never_evict_the_cache(monkeypatch):
    from studio.core.engine import cache as cache_module
    monkeypatch.setattr(cache_module, "RECENT_BYTES", 3 * 1024)
    cache = RenderCache(1 << 20)
    kept = cache.get("sot", lambda: np.zeros(1000, np.uint8))
    made = []
    for i in range(20):
        cache.recent(("placed", i), lambda i=i: made.append(i) or np.full(1000, i, np.uint8))
    assert cache.get("sot", lambda: None) is kept and cache.misses == 1
    again = cache.recent(("placed", 19), lambda: made.append("again") or None)
    assert again[0] == 19 and "again" not in made  # the newest are held
    cache.recent(("placed", 0), lambda: made.append("again") or np.zeros(1, np.uint8))
    assert made[-1] == "again"  # the oldest were dropped


def test_bounded_cache_holds_what_fits_and_drops_the_least_recently_used():
    from studio.core.engine.cache import ENTRY_OVERHEAD, BoundedCache

    cache = BoundedCache(3 * (100 + ENTRY_OVERHEAD), size_of=len)
    for key in "abc":
        cache.put(key, key * 100)
    assert cache.find("a") == "a" * 100  # now the most recent
    cache.put("d", "d" * 100)
    assert "b" not in cache and all(k in cache for k in "acd")
    cache.put("e", "small", size=1000)  # an explicit size: only it is left
    assert cache.entries == 1 and cache.find("e") == "small" and cache.find("a") is None
    assert cache.get("e", lambda: "made") == "small" and cache.get("f", lambda: "f") == "f"


def test_sot_result_depends_on_strength(face, occluder):
    params = _sampled(face, occluder, seed=1, color={"method": "sot"})
    zero = params.replace(color=ColorParams(method="sot", strength=0.0))
    none = params.replace(color=ColorParams(method="none"))
    assert np.array_equal(render(face, occluder, zero).image, render(face, occluder, none).image)
    assert not np.array_equal(
        render(face, occluder, params).image, render(face, occluder, none).image
    )


@pytest.mark.parametrize("method", ["sot", "reinhard"])
def test_a_new_strength_reuses_the_transport_and_renders_as_a_cold_cache(
    face, occluder, method, monkeypatch
):
    from studio.core.ops import color

    made: list[str] = []
    real = color.transport
    monkeypatch.setattr(
        color, "transport", lambda *a, **k: made.append("transport") or real(*a, **k)
    )
    params = _sampled(face, occluder, seed=1, color={"method": method})
    warm = RenderCache()
    for s in (1.0, 0.55, 0.3, 0.999, 0.05, 0.55):
        p = params.replace(color=ColorParams(method=method, strength=s))
        dragged = render(face, occluder, p, cache=warm)
        cold = render(face, occluder, p, cache=RenderCache())
        for a, b in zip(_arrays(dragged), _arrays(cold), strict=True):
            assert np.array_equal(a, b), s
    assert len(made) == 1 + 6  # the warm cache made it once; every cold render once
