"""Ops: SOT and Reinhard colour transfer, RandOcc shapes, geometry helpers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fake_device import NumpyAsDevice
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.core.engine.draws import MIN_SHAPE_FILL, polygon_area
from studio.core.model.errors import InputError
from studio.core.model.params import ColorParams, ShapeParams
from studio.core.ops import color, geometry, shapes
from studio.core.ops.backend import get_backend

be = get_backend("cpu")


def _inputs(face, occluder):
    skin = color.skin_pixels(face.image, face.mask, face.bbox)
    return occluder.image, occluder.alpha, skin


def _stats(rgb, alpha):
    px = rgb[alpha >= 128].astype(float)
    return px.mean(axis=0), px.std(axis=0)


@pytest.mark.parametrize("method", ["sot", "reinhard"])
def test_transfer_moves_occluder_colour_statistics_towards_the_face(face, occluder, method):
    rgb, alpha, skin = _inputs(face, occluder)
    out = color.transfer(be, rgb, alpha, skin, ColorParams(method=method, seed=1))
    skin_mean, skin_std = skin.mean(axis=0) * 255, skin.std(axis=0) * 255
    before_mean, before_std = _stats(rgb, alpha)
    after_mean, after_std = _stats(out, alpha)
    assert np.linalg.norm(after_mean - skin_mean) < 0.5 * np.linalg.norm(before_mean - skin_mean)
    assert np.abs(after_std - skin_std).sum() < np.abs(before_std - skin_std).sum()


@pytest.mark.parametrize("method", ["sot", "reinhard"])
def test_strength_zero_is_identity_and_strength_is_monotone(face, occluder, method):
    rgb, alpha, skin = _inputs(face, occluder)
    zero = color.transfer(be, rgb, alpha, skin, ColorParams(method=method, strength=0.0))
    assert zero is rgb or np.array_equal(zero, rgb)
    skin_mean = skin.mean(axis=0) * 255
    dists = []
    for s in (0.0, 0.5, 1.0):
        out = color.transfer(be, rgb, alpha, skin, ColorParams(method=method, strength=s, seed=3))
        dists.append(np.linalg.norm(_stats(out, alpha)[0] - skin_mean))
    assert dists[0] > dists[1] > dists[2]


def test_sot_is_seeded(face, occluder):
    rgb, alpha, skin = _inputs(face, occluder)
    a = color.transfer(be, rgb, alpha, skin, ColorParams(method="sot", seed=5))
    b = color.transfer(be, rgb, alpha, skin, ColorParams(method="sot", seed=5))
    c = color.transfer(be, rgb, alpha, skin, ColorParams(method="sot", seed=6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sliced_transport_matches_a_shifted_distribution():
    rng = np.random.default_rng(0)
    src = rng.normal(0.2, 0.05, (2000, 3))
    tgt = rng.normal(0.7, 0.1, (2000, 3))
    moved = color.sliced_transport(src, tgt, 30, 5, np.random.default_rng(1))
    assert np.allclose(moved.mean(axis=0), 0.7, atol=0.02)
    assert np.allclose(moved.std(axis=0), 0.1, atol=0.02)


def test_rank_order_sorts_rows_and_keeps_ties_in_index_order():
    rng = np.random.default_rng(2)
    px = rng.normal(size=(4, 3000)).astype(np.float32)
    px[1, ::3] = px[1, 0]  # a third of a row tied
    px[2] = 0.25  # a constant row
    order = color.rank_order(px)
    for row, idx in zip(px, order, strict=True):
        assert sorted(idx.tolist()) == list(range(px.shape[1]))  # a permutation
        ranked = row[idx]
        # sorted, up to keys closer than a 65,535th of the row's range
        assert np.all(np.diff(ranked) >= -np.ptp(row) / color.KEY_LEVELS)
    tied = order[1][px[1][order[1]] == px[1, 0]]
    assert np.all(np.diff(tied) > 0)  # equal values keep their index order
    assert np.array_equal(order[2], np.arange(px.shape[1]))
    apart = np.arange(50, dtype=np.float32)[::-1].copy()[None]  # well separated: exact
    assert np.array_equal(color.rank_order(apart)[0], np.argsort(apart[0]))


def test_sorted_projections_are_sorted_to_within_half_a_key():
    rng = np.random.default_rng(4)
    points = rng.normal(0.5, 0.3, (3, 2500)).astype(np.float32)
    units = rng.normal(size=(4, 2, 3))
    units[1, 0] = (0.0, 0.0, 1.0)  # an axis
    units /= np.linalg.norm(units, axis=-1, keepdims=True)
    got = color.sorted_projections(units, points)
    exact = np.sort(units.reshape(-1, 3).astype(np.float32) @ points, axis=1)
    assert got.shape == (8, 2500)
    box = np.ptp(points, axis=1)
    reach = np.abs(units.reshape(-1, 3)) @ box  # the range the bounding box projects to
    assert np.all(np.abs(got - exact) <= reach[:, None] / (2 * color.KEY_LEVELS) + 1e-5)
    assert np.all(np.diff(got, axis=1) >= 0)
    flat = color.sorted_projections(units[:1], np.full((3, 10), 0.25, np.float32))
    assert np.allclose(flat, units[0].sum(axis=1)[:, None] * 0.25, atol=1e-5)  # no spread


def test_area_reduce_is_opencvs_area_resize(face, occluder):
    rng = np.random.default_rng(5)
    differ = total = 0
    for image in (face.image, occluder.image, occluder.alpha, face.image[:97, :201]):
        h, w = image.shape[:2]
        for _ in range(6):
            size = (int(rng.integers(2, w)), int(rng.integers(2, h)))
            ours = color.area_reduce(be, image, size)
            cv = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            assert ours.shape == cv.shape and ours.dtype == np.uint8
            gap = np.abs(ours.astype(int) - cv)
            assert gap.max() <= 1  # OpenCV's float32 sums round some exact halves the other way
            differ, total = differ + np.count_nonzero(gap), total + gap.size
        whole = image[: h - h % 3, : w - w % 3]  # a whole-number factor: OpenCV's own path
        size = (whole.shape[1] // 3, whole.shape[0] // 3)
        assert np.array_equal(
            color.area_reduce(be, whole, size),
            cv2.resize(whole, size, interpolation=cv2.INTER_AREA),
        )
    assert differ <= total // 1000
    device = NumpyAsDevice()
    size = (37, 29)
    assert np.array_equal(
        color.area_reduce(device, face.image, size), color.area_reduce(be, face.image, size)
    )


def test_skin_pixels_are_the_masked_pixels_of_a_grid_over_the_bbox(face):
    x0, y0, x1, y1 = (round(v) for v in face.bbox)
    step = max(1, -(-max(y1 - y0, x1 - x0) // color.TARGET_GRID))
    grid = face.image[y0:y1:step, x0:x1:step][face.mask[y0:y1:step, x0:x1:step]]
    skin = color.skin_pixels(face.image, face.mask, face.bbox)
    assert skin.dtype == np.float32
    assert np.array_equal(skin, grid.astype(np.float32) / np.float32(255.0))


points = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=3, max_size=15).filter(
    lambda p: np.ptp(np.array(p), axis=0).min() > 0.05
)


@settings(max_examples=40, deadline=None)
@given(points, st.floats(0, 1), st.floats(0, 1), st.sampled_from([64, 128]))
def test_shapes_are_closed_non_empty_and_inside_their_canvas(pts, roundness, edginess, canvas):
    shape = ShapeParams(tuple(pts), roundness, edginess, canvas)
    outline = shapes.bezier_outline(np.array(pts), roundness, edginess)
    assert np.allclose(outline[0], outline[-1])
    poly = shapes.shape_polygon(shape)
    assert poly.min() >= 0 and poly.max() <= canvas - 1
    if polygon_area(poly) >= MIN_SHAPE_FILL * canvas**2:  # what the sampler accepts
        occ = shapes.shape_occluder(shape, None)
        assert (occ.alpha >= 128).sum() >= 0.5 * polygon_area(poly)
    else:  # slivers: a clear error, never a blank occluder
        try:
            occ = shapes.shape_occluder(shape, None)
        except InputError as err:
            assert "occluder" in err.reason
        else:
            assert (occ.alpha >= 128).any()


def test_shape_with_identical_points_is_rejected():
    with pytest.raises(ValueError):
        shapes.shape_polygon(ShapeParams(((0.5, 0.5),) * 4))


def test_resize_matrix_maps_pixel_centres():
    m = geometry.resize_matrix((100, 50), (50, 25))
    assert np.allclose(m @ [0, 0, 1], [0.5, 0.5])
    assert np.allclose(m @ [49, 24, 1], [98.5, 48.5])
