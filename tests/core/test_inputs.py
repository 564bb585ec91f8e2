"""Degenerate inputs give clear errors, never a crash or a silent blank."""

from __future__ import annotations

import numpy as np
import pytest

from studio.core import EngineSpec, Face, Occluder, render, sample
from studio.core.model.errors import InputError


def test_empty_face_mask():
    with pytest.raises(InputError, match="face mask is empty"):
        Face(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64), bool), id="a.jpg")


def test_one_pixel_images():
    with pytest.raises(InputError, match="too small"):
        Face(np.zeros((1, 1, 3), np.uint8), np.ones((1, 1), bool))
    with pytest.raises(InputError, match="too small"):
        Occluder(np.zeros((1, 1, 3), np.uint8), np.full((1, 1), 255, np.uint8))


def test_empty_occluder_mask_names_the_occluder():
    with pytest.raises(InputError, match=r"hand\.png: occluder mask is empty"):
        Occluder(np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20), np.uint8), id="hand.png")


def test_mismatched_mask_size():
    with pytest.raises(InputError, match="does not match"):
        Face(np.zeros((64, 64, 3), np.uint8), np.ones((32, 32), bool))
    with pytest.raises(InputError, match="does not match"):
        Occluder(np.zeros((20, 20, 3), np.uint8), np.ones((10, 10), np.uint8))


def test_wrong_array_type():
    with pytest.raises(InputError, match="HxWx3 uint8"):
        Face(np.zeros((64, 64), np.uint8), np.ones((64, 64), bool))


def test_occluder_larger_than_the_face_image_is_scaled_to_the_face(face):
    big = Occluder(np.full((900, 700, 3), 50, np.uint8), np.full((900, 700), 255, np.uint8))
    params = sample(EngineSpec(color={"method": "none"}), np.random.default_rng(0), face, big)
    r = render(face, big, params)
    assert 0.05 <= r.stats["coverage"] <= 0.6
    assert r.occlusion_mask.any()


def test_occluder_is_cropped_to_its_mask():
    alpha = np.zeros((50, 40), np.uint8)
    alpha[10:30, 5:25] = 255
    occ = Occluder(np.zeros((50, 40, 3), np.uint8), alpha)
    assert occ.size == (20, 20)


def test_face_resized_keeps_an_exact_bbox(face):
    half = face.resized(0.5)
    assert half.bbox == pytest.approx(tuple(v * 0.5 for v in face.bbox))
    assert half.scale == pytest.approx(0.5)
