"""The estimators harmonisation matches: blur and noise recovered on synthetic images."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from studio.core.ops import estimate as est
from studio.core.ops.backend import get_backend

CPU = get_backend("cpu")


def shapes_image(size: int = 256, seed: int = 0) -> np.ndarray:
    """Sharp-edged discs and boxes of random grey levels (float32)."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 120, np.float32)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(8, 40))
        v = float(rng.uniform(40, 220))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, v, -1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(img, (x, y), (x + r, y + int(1.5 * r)), v, -1)
    return img


def _noisy(img: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    return img + np.random.default_rng(seed).normal(0, sigma, img.shape).astype(np.float32)


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("noise", [0.0, 2.0])
def test_blur_sigma_recovers_a_known_blur(sigma, noise):
    img = _noisy(cv2.GaussianBlur(shapes_image(), (0, 0), sigma), noise)
    mask = np.ones(img.shape, bool)
    n = est.noise_sigma(CPU, img, mask)
    assert est.blur_sigma(CPU, img, mask, n) == pytest.approx(sigma, rel=0.2)


def test_blur_estimate_ignores_smooth_shading():
    img = cv2.GaussianBlur(shapes_image(seed=2), (0, 0), 1.5)
    ramp = np.linspace(0.45, 1.25, img.shape[1], dtype=np.float32)[None, :]
    mask = np.ones(img.shape, bool)
    plain, lit = est.blur_sigma(CPU, img, mask), est.blur_sigma(CPU, img * ramp, mask)
    assert lit == pytest.approx(plain, rel=0.1)


def test_blur_is_unknown_on_flat_content():
    flat = _noisy(np.full((128, 128), 100, np.float32), 3.0)
    mask = np.ones(flat.shape, bool)
    assert math.isnan(est.blur_sigma(CPU, flat, mask, est.noise_sigma(CPU, flat, mask)))


@pytest.mark.parametrize("sigma", [1.5, 4.0, 10.0])
def test_noise_sigma_recovers_known_noise_on_textured_content(sigma):
    img = _noisy(cv2.GaussianBlur(shapes_image(seed=3), (0, 0), 1.2), sigma, seed=4)
    assert est.noise_sigma(CPU, img, np.ones(img.shape, bool)) == pytest.approx(sigma, rel=0.2)


def test_measure_separates_luminance_and_chroma_noise():
    rng = np.random.default_rng(5)
    base = cv2.GaussianBlur(rng.uniform(60, 200, (200, 200, 3)).astype(np.float32), (0, 0), 4)
    y = rng.normal(0, 3.0, (200, 200, 1))  # the same in every channel: luminance only
    m = est.measure(CPU, (base + y).astype(np.float32), np.ones((200, 200), bool))
    assert m.luma == pytest.approx(3.0, rel=0.2)
    assert m.chroma < 0.6  # (only what rounding to whole levels would add)
    per_channel = rng.normal(0, 4.0, (200, 200, 3))
    m = est.measure(
        CPU, np.clip(base + per_channel, 0, 255).astype(np.uint8), np.ones((200, 200), bool)
    )
    # R - Y of independent channel noise of std s has std s * sqrt(0.701^2 + 0.587^2 + 0.114^2)
    assert m.chroma == pytest.approx(4.0 * (0.927 + 1.103) / 2, rel=0.2)


def test_measure_on_samples_agrees_with_the_plane_estimators():
    img = np.clip(_noisy(cv2.GaussianBlur(shapes_image(400, 6), (0, 0), 1.5), 2.0), 0, 255)
    rgb = np.repeat(img[..., None], 3, axis=2).astype(np.uint8)
    mask = np.ones(img.shape, bool)
    m = est.measure(CPU, rgb, mask)  # sampled on a grid (400 x 400 > SAMPLES)
    lum = est.luminance(CPU, rgb)
    noise = est.noise_sigma(CPU, lum, mask)
    assert m.luma == pytest.approx(noise, rel=0.1)
    assert est.as_blur(m.blur) == pytest.approx(est.blur_sigma(CPU, lum, mask, noise), rel=0.1)


def test_estimates_only_use_the_masked_pixels():
    img = cv2.GaussianBlur(shapes_image(), (0, 0), 3.0)
    img[:, 128:] = _noisy(cv2.GaussianBlur(shapes_image(seed=9), (0, 0), 1.0), 6.0)[:, 128:]
    left = np.zeros(img.shape, bool)
    left[:, :120] = True
    n = est.noise_sigma(CPU, img, left)
    assert n < 0.5
    assert est.blur_sigma(CPU, img, left, n) == pytest.approx(3.0, rel=0.2)


def test_a_grey_image_has_no_chroma_noise():
    grey = _noisy(cv2.GaussianBlur(shapes_image(seed=7), (0, 0), 1.0), 2.0)
    rgb = np.repeat(np.clip(grey, 0, 255)[..., None], 3, axis=2)
    mask = np.ones(grey.shape, bool)
    for image in (rgb.astype(np.uint8), rgb.astype(np.float32)):
        m = est.measure(CPU, image, mask)
        assert m.luma > 1.0
        assert m.chroma == (0.0 if image.dtype == np.uint8 else est.rounded(0.0, 1))


def test_the_blur_models_inverse_undoes_it():
    for v in np.geomspace(1e-4, 1e4, 41):
        assert est._model_v(est._model_q(float(v))) == pytest.approx(v, rel=1e-5)


@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_a_large_regions_blur_on_strips_agrees_with_every_pixels(sigma, monkeypatch):
    img = np.clip(_noisy(cv2.GaussianBlur(shapes_image(640, 11), (0, 0), sigma), 2.0), 0, 255)
    rgb = np.repeat(img[..., None], 3, axis=2).astype(np.uint8)
    mask = np.ones(img.shape, bool)
    mask[:, :200] = False  # strips read the mask too
    budget = est.BLUR_BUDGET
    stack, stacked = est.strips(CPU, rgb, mask, budget)
    read = np.count_nonzero(stacked[:, :])
    assert 0.5 * budget <= read <= budget  # about the budget (in the mask), margins not read
    assert stack.shape[0] <= rgb.shape[0] // 2
    assert est.strips(CPU, rgb[:300, :400], mask[:300, :400], budget) is None  # small: whole
    sparse = est.measure(CPU, rgb, mask)
    on_strips = est.measure(CPU, rgb, mask, budget=budget)
    assert (on_strips.luma, on_strips.chroma) == (sparse.luma, sparse.chroma)  # noise: whole
    monkeypatch.setattr(est, "SAMPLES", 10**9)
    every = est.measure(CPU, rgb, mask)
    assert on_strips.blur == pytest.approx(every.blur, rel=0.15)
    assert est.as_blur(on_strips.blur) == pytest.approx(sigma, rel=0.2)
