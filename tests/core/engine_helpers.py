"""Inputs with a known layout for the engine tests."""

from __future__ import annotations

import numpy as np

from studio.core.model.inputs import Face, Occluder


def two_tone_occluder(up: str = "up", size: int = 60) -> Occluder:
    """A rectangle whose ``up`` end is pure red and the rest pure blue."""
    rgb = np.zeros((size, size // 2, 3), np.uint8)
    rgb[:] = (0, 0, 255)
    rgb[: size // 4] = (255, 0, 0)
    turns = {"up": 0, "left": 1, "down": 2, "right": 3}[up]  # rot90 turns counter-clockwise
    rgb = np.ascontiguousarray(np.rot90(rgb, turns))
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    return Occluder(rgb, alpha, id=f"two-tone-{up}", up=up)


def plain_face(size: int = 200, margin: int = 50) -> Face:
    image = np.full((size, size, 3), 120, np.uint8)
    mask = np.zeros((size, size), bool)
    mask[margin:-margin, margin:-margin] = True
    return Face(image, mask, id="plain")
