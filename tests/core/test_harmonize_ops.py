"""The pieces the harmonize stage is built from: masks on cells, the seeded noise table, the
one-pass composition, the shading field's interpolation, the statistics' medians."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fake_device import NumpyAsDevice

from studio.core.engine.harmonize import ring_mask
from studio.core.ops import cells
from studio.core.ops import estimate as est
from studio.core.ops import harmonize as hz
from studio.core.ops.backend import get_backend

CPU = get_backend("cpu")


def _blob(h: int = 150, w: int = 170) -> np.ndarray:
    label = np.zeros((h, w), np.uint8)
    cv2.ellipse(label, (w // 2, h // 2), (w // 3, h // 4), 20, 0, 360, 1, -1)
    cv2.circle(label, (w // 3, h // 3), 18, 1, -1)
    return label > 0


# ---- masks on cells ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index", [(slice(1, -1, 5), slice(1, -1, 5)), (slice(2, None, 6), slice(0, 90, 4))]
)
def test_a_cell_mask_sliced_is_its_full_mask_sliced(index):
    rng = np.random.default_rng(0)
    shape = (103, 97)  # not whole cells: the rest is outside
    keep, drop = rng.random(shape) < 0.8, rng.random(shape) < 0.2
    small = rng.random((103 // 4, 97 // 4)) < 0.5
    for be in (CPU, NumpyAsDevice()):
        mask = cells.CellMask(be, small, 4, shape, keep=(keep,), drop=(drop,))
        full = mask.full()
        assert full.shape == shape and not full[100:].any() and not full[:, 96:].any()
        assert np.array_equal(mask[index], full[index])
        expected = np.kron(small, np.ones((4, 4), bool))
        assert np.array_equal(full[:100, :96], expected & keep[:100, :96] & ~drop[:100, :96])


def test_cells_any_and_all():
    mask = np.zeros((8, 8), bool)
    mask[0, 0] = True  # one pixel of the first 4 x 4 cell
    mask[4:8, 4:8] = True  # the whole last cell
    assert cells.any_in_cells(CPU, mask, 4).tolist() == [[True, False], [False, True]]
    assert cells.all_in_cells(CPU, mask, 4).tolist() == [[False, False], [False, True]]


@pytest.mark.parametrize("f", [1, 2, 7, 16, 22, 23, 30])
def test_cells_any_and_all_match_block_reductions_on_both_sides_of_the_8_bit_limit(f):
    rng = np.random.default_rng(f)
    for be in (CPU, NumpyAsDevice()):
        for p in (0.001, 0.02, 0.98, 0.999):
            mask = rng.random((5 * f + 3, 4 * f + 1)) < p  # not whole cells: the rest is out
            ch, cw = mask.shape[0] // f, mask.shape[1] // f
            blocks = mask[: ch * f, : cw * f].reshape(ch, f, cw, f)
            assert np.array_equal(cells.any_in_cells(be, mask, f), blocks.any(axis=(1, 3)))
            assert np.array_equal(cells.all_in_cells(be, mask, f), blocks.all(axis=(1, 3)))


def test_stacked_rows_read_the_rows_they_map_to():
    rng = np.random.default_rng(3)
    shape = (90, 70)
    keep = rng.random(shape) < 0.7
    small = rng.random((90 // 5, 70 // 5)) < 0.5
    rows = np.array([4, 5, 6, -1, -1, 40, 41, 42, 43, -1, 88, 89])
    for be in (CPU, NumpyAsDevice()):
        for mask in (keep, cells.CellMask(be, small, 5, shape, keep=(keep,))):
            full = mask if isinstance(mask, np.ndarray) else mask.full()
            expected = np.where((rows >= 0)[:, None], full[np.maximum(rows, 0)], False)
            stacked = cells.StackedRows(be, mask, rows)
            assert stacked.shape == (len(rows), 70)
            for index in ((slice(None), slice(None)), (slice(1, -1, 2), slice(2, 60, 3))):
                assert np.array_equal(stacked[index], expected[index])


@pytest.mark.parametrize("radius", [3, 8, 13])
def test_interior_on_cells_keeps_about_radius_inside(radius):
    label = _blob()
    inside = est.interior_cells(CPU, label, radius).full()
    exact = est.interior(CPU, label, radius)
    loose = est.interior(CPU, label, max(1, radius - 2 * est.INTERIOR_CELL))
    assert inside.any() and (inside <= loose).all()  # never nearer the edge than a cell or two
    assert np.count_nonzero(inside & ~exact) <= 0.1 * np.count_nonzero(exact)


def test_ring_is_skin_near_the_label_and_outside_it_and_its_band():
    label = np.zeros((200, 220), bool)
    label[60:140, 70:150] = True
    band = cv2.dilate(label.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    band &= ~(cv2.erode(label.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0)
    skin = np.ones(label.shape, bool)
    skin[:, :50] = False
    ring = ring_mask(CPU, label, band, skin, 30).full()
    assert ring.any()
    assert not (ring & label).any() and not (ring & band).any() and not (ring & ~skin).any()
    near = cv2.dilate(label.astype(np.uint8), np.ones((2 * 40 + 1,) * 2, np.uint8)) > 0
    assert not (ring & ~near).any()  # within the radius and a cell
    assert ring[100, 55] and ring[100, 175] and ring[35, 110]  # all around it
    assert not ring[100, 45]  # within reach, but not skin


# ---- noise ------------------------------------------------------------------------------------


def test_noise_is_a_seeded_window_of_the_table_with_the_asked_statistics():
    tile = hz.noise_tile()
    assert tile.shape == (hz.NOISE_TILE, hz.NOISE_TILE, 3) and abs(float(tile.std()) - 1) < 0.01
    a = hz.noise_field(CPU, tile, (300, 280), 3.0, 2.0, seed=5)
    assert np.array_equal(a, hz.noise_field(CPU, tile, (300, 280), 3.0, 2.0, seed=5))
    assert not np.allclose(a, hz.noise_field(CPU, tile, (300, 280), 3.0, 2.0, seed=6))
    assert hz.noise_field(CPU, tile, (30, 20), 0.0, 0.0, seed=5) is None
    flat = np.full((300, 280, 3), 120.0, np.float32)
    m = est.measure(CPU, flat + a, np.ones((300, 280), bool), blur=False)
    assert m.luma == pytest.approx(est.rounded(3.0, 0), rel=0.1)
    assert m.chroma == pytest.approx(est.rounded(2.0, 1), rel=0.1)
    luma_only = hz.noise_field(CPU, tile, (300, 280), 3.0, 0.0, seed=9)
    _, cr, cb = est.planes(CPU, luma_only)
    assert float(np.abs(cr).max()) < 1e-4 and float(np.abs(cb).max()) < 1e-4  # grey noise
    dev = NumpyAsDevice()
    np.testing.assert_allclose(
        dev.to_numpy(hz.noise_field(dev, dev.asarray(tile), (300, 280), 3.0, 2.0, seed=5)),
        a,
        atol=1e-4,
    )


def test_a_window_larger_than_the_table_wraps_around_it():
    tile = np.random.default_rng(1).standard_normal((16, 16, 3)).astype(np.float32)
    big = hz.noise_field(CPU, tile, (40, 35), 1.0, 1.0, seed=3)
    assert big.shape == (40, 35, 3)
    assert np.allclose(big[:24], big[16:40]) and np.allclose(big[:, :19], big[:, 16:35])


# ---- composition ------------------------------------------------------------------------------


def test_compose_is_the_gained_colours_plus_weighted_noise_within_alpha():
    rng = np.random.default_rng(2)
    h, w = 60, 70
    alpha = np.zeros((h, w), np.uint8)
    alpha[10:50, 10:60] = 255
    alpha[10:50, 9] = 128  # an anti-aliased edge
    prem = (rng.uniform(0, 255, (h, w, 3)) * (alpha[..., None] / 255.0)).astype(np.uint8)
    gain = rng.uniform(0.5, 1.8, (h, w)).astype(np.float32)
    noise = rng.normal(0, 4, (h, w, 3)).astype(np.float32)
    a = alpha.astype(np.float32)
    expected = np.clip(prem * gain[..., None] + noise * (a[..., None] / 255), 0, a[..., None])
    for be in (CPU, NumpyAsDevice()):
        out = hz.compose(be, prem, alpha, a, gain, noise)
        assert out.dtype == np.uint8 and (out <= alpha[..., None]).all()
        assert np.abs(out.astype(float) - expected).max() <= 1.0
        plain = hz.compose(be, prem, alpha, a, None, None)
        assert np.array_equal(plain, prem)  # nothing to change: the colours as they were


def test_the_shading_field_is_interpolated_between_cell_centres():
    rng = np.random.default_rng(4)
    for f, (ch, cw), window in [(12, (20, 24), (30, 25, 250, 230)), (5, (9, 11), (0, 0, 55, 45))]:
        small = rng.uniform(0.5, 1.5, (ch, cw)).astype(np.float32)
        x0, y0, x1, y1 = window
        # bilinear between cell centres (j + 1/2) f - 1/2, constant beyond the outer ones
        ys = np.clip((np.arange(y0, y1) + 0.5) / f - 0.5, 0, ch - 1)
        xs = np.clip((np.arange(x0, x1) + 0.5) / f - 0.5, 0, cw - 1)
        rows = np.array([np.interp(xs, np.arange(cw), r) for r in small])
        expected = np.array([np.interp(ys, np.arange(ch), c) for c in rows.T]).T
        got = hz._on_window(CPU, small, f, window)
        assert got.shape == (y1 - y0, x1 - x0)
        np.testing.assert_allclose(got, expected, atol=1e-4)


# ---- statistics -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [64, 65, 1001])
def test_medians_are_the_columns_medians(n):
    values = np.random.default_rng(n).random((n, 3)).astype(np.float32)
    assert est._medians(np, values) == pytest.approx(list(np.median(values, axis=0)), rel=1e-6)
