"""Geometry: the occluder's affine transform, point-at-face aiming and warping into a region.

Conventions: pixel (i, j) has its centre at x=j, y=i; x grows right, y grows down; a positive
angle rotates counter-clockwise as seen on screen.
"""

from __future__ import annotations

import math

import numpy as np

from studio.core.ops.backend import Array, Backend

UP_VECTORS: dict[str, tuple[float, float]] = {
    "up": (0.0, -1.0),
    "down": (0.0, 1.0),
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
}

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive ends) in the face image


def screen_angle(vx: float, vy: float) -> float:
    """Angle in degrees, counter-clockwise on screen, of the image-space vector (vx, vy)."""
    return math.degrees(math.atan2(-vy, vx))


def aim_angle(
    center: tuple[float, float], target: tuple[float, float], up: str, flip: bool = False
) -> float:
    """Rotation (degrees) that turns the occluder's ``up`` side towards ``target``.

    ``flip`` is the occluder's horizontal flip, which mirrors a left/right ``up``.
    """
    ux, uy = UP_VECTORS[up]
    if flip:
        ux = -ux
    dx, dy = target[0] - center[0], target[1] - center[1]
    if dx == 0 and dy == 0:
        return 0.0
    angle = screen_angle(dx, dy) - screen_angle(ux, uy)
    return (angle + 180.0) % 360.0 - 180.0


def rotation(angle_deg: float) -> np.ndarray:
    """2x2 matrix rotating image-space vectors counter-clockwise on screen."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s], [-s, c]])


def occluder_matrix(
    occluder_size: tuple[int, int],
    center: tuple[float, float],
    scale: float,
    angle_deg: float,
    flip: bool = False,
    shear_deg: float = 0.0,
) -> np.ndarray:
    """Forward 2x3 affine from occluder pixels to face pixels.

    The occluder's centre goes to ``center``; it is flipped, sheared, scaled and rotated
    about its centre, in that order.
    """
    w, h = occluder_size
    linear = np.diag([-1.0 if flip else 1.0, 1.0])
    linear = np.array([[1.0, math.tan(math.radians(shear_deg))], [0.0, 1.0]]) @ linear
    linear = rotation(angle_deg) @ (scale * linear)
    c_occ = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    offset = np.asarray(center, dtype=np.float64) - linear @ c_occ
    return np.hstack([linear, offset[:, None]])


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """2x3 affine equal to applying ``inner`` then ``outer``."""
    o = np.vstack([outer, [0.0, 0.0, 1.0]])
    i = np.vstack([inner, [0.0, 0.0, 1.0]])
    return (o @ i)[:2]


def resize_matrix(old_size: tuple[int, int], new_size: tuple[int, int]) -> np.ndarray:
    """2x3 affine from pixels of a resized image (``new_size``) to pixels of the original."""
    fx, fy = new_size[0] / old_size[0], new_size[1] / old_size[1]
    return np.array([[1 / fx, 0.0, 0.5 / fx - 0.5], [0.0, 1 / fy, 0.5 / fy - 0.5]])


def translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


def transformed_bounds(matrix: np.ndarray, size: tuple[int, int]) -> tuple[float, ...]:
    """Bounds (x0, y0, x1, y1) of an image of ``size`` after the forward ``matrix``."""
    w, h = size
    corners = np.array(
        [[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [-0.5, h - 0.5, 1], [w - 0.5, h - 0.5, 1]]
    )
    pts = corners @ np.asarray(matrix).T
    return pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()


def region_of(
    matrix: np.ndarray, src_size: tuple[int, int], dst_size: tuple[int, int], pad: int
) -> Region | None:
    """Integer region of the destination touched by the warped source, grown by ``pad``."""
    x0, y0, x1, y1 = transformed_bounds(matrix, src_size)
    w, h = dst_size
    rx0, ry0 = max(0, math.floor(x0) - pad), max(0, math.floor(y0) - pad)
    rx1, ry1 = min(w, math.ceil(x1) + 1 + pad), min(h, math.ceil(y1) + 1 + pad)
    if rx1 <= rx0 or ry1 <= ry0:
        return None
    return rx0, ry0, rx1, ry1


def warp_region(
    be: Backend,
    image: Array,
    matrix: np.ndarray,
    region: Region,
    *,
    replicate: bool = False,
) -> Array:
    """Warp ``image`` by ``matrix`` and return only the destination ``region``."""
    x0, y0, x1, y1 = region
    local = compose(translate(-x0, -y0), matrix)
    return be.warp_affine(image, local, (x1 - x0, y1 - y0), replicate=replicate)
