"""Cast shadow: a soft, offset copy of the occluder's shape that darkens what lies beside it.

A shadow is not an occlusion: it changes pixels only (multiplies them by at most 1), never a
label. It is drawn on the face before the occluder is composited over it, so the occluder
stays on top and a see-through occluder shows the shadowed face.
"""

from __future__ import annotations

import math

import numpy as np

from studio.core.backend import Array, Backend, blur_radius
from studio.core.params import ShadowParams


def offset(params: ShadowParams, size: float) -> tuple[int, int]:
    """The shadow's offset (dx, dy) in whole pixels for an occluder of ``size`` pixels; the
    angle is counter-clockwise on screen, 0 = to the right."""
    a = math.radians(params.angle)
    d = params.distance * size
    return round(d * math.cos(a)), round(-d * math.sin(a))


def sigma(params: ShadowParams, size: float) -> float:
    """Blur sigma of the shadow in pixels for an occluder of ``size`` pixels."""
    return params.softness * size


GRID_SIGMA = 2.0  #: the shadow is blurred on a grid reduced until its sigma is this many cells


def _factor(s: float) -> int:
    """Reduction of the grid the shadow of sigma ``s`` is blurred on."""
    return max(1, int(s / GRID_SIGMA))


def reach(params: ShadowParams, size: float) -> int:
    """How far (pixels) beyond the occluder's shape the shadow can darken anything: its
    offset, its blur radius and two cells of the reduced grid it is blurred on."""
    dx, dy = offset(params, size)
    s = sigma(params, size)
    return max(abs(dx), abs(dy)) + (blur_radius(s) if s > 0 else 0) + 2 * _factor(s) + 1


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the face image


def window(
    params: ShadowParams, size: float, region: Box, image_size: tuple[int, int]
) -> Box | None:
    """The pixels (x0, y0, x1, y1) the shadow of an occluder placed on ``region`` can darken
    (clipped to the image); None when it falls outside the image."""
    dx, dy = offset(params, size)
    s = sigma(params, size)
    grow = (blur_radius(s) if s > 0 else 0) + 2 * _factor(s) + 1
    x0, y0, x1, y1 = region
    w, h = image_size
    box = (
        max(0, x0 + dx - grow),
        max(0, y0 + dy - grow),
        min(w, x1 + dx + grow),
        min(h, y1 + dy + grow),
    )
    return box if box[2] > box[0] and box[3] > box[1] else None


def cast(
    be: Backend,
    image: Array,
    alpha: Array,
    region: Box,
    box: Box,
    params: ShadowParams,
    size: float,
    opacity: float = 1.0,
) -> Array:
    """The pixels of ``box`` of ``image`` (HxWx3 uint8, the whole face) darkened by the shadow
    of ``alpha`` (uint8 placed shape alpha on ``region``) for an occluder of ``size`` pixels;
    ``opacity`` is the occluder's own (a see-through occluder casts a lighter shadow).
    Pixels only get darker: each is multiplied by a factor in [0, 1] and rounded."""
    xp = be.xp
    bx0, by0, bx1, by1 = box
    pixels = image[by0:by1, bx0:bx1]
    strength = params.opacity * opacity
    if strength <= 0:
        return pixels
    dx, dy = offset(params, size)
    x0, y0, x1, y1 = region
    # the shape moved by (dx, dy), on the box's pixels (cut where it leaves the box)
    shifted = xp.zeros((by1 - by0, bx1 - bx0), xp.float32)
    sx0, sy0 = x0 + dx - bx0, y0 + dy - by0
    cx0, cy0 = max(0, sx0), max(0, sy0)
    cx1, cy1 = min(bx1 - bx0, sx0 + (x1 - x0)), min(by1 - by0, sy0 + (y1 - y0))
    if cx1 <= cx0 or cy1 <= cy0:
        return pixels
    shifted[cy0:cy1, cx0:cx1] = alpha[cy0 - sy0 : cy1 - sy0, cx0 - sx0 : cx1 - sx0]
    s = sigma(params, size)
    f = _factor(s)
    if f > 1:  # a soft shadow: blur on a reduced grid, then back (linear)
        h, w = shifted.shape
        small = be.resize(shifted, (max(1, -(-w // f)), max(1, -(-h // f))), mode="area")
        shade = be.resize(be.gaussian_blur(small, s / f), (w, h), mode="linear")
    else:
        shade = be.gaussian_blur(shifted, s)
    # factor in [1 - strength, 1]; x * f <= x in float32 for f <= 1, so rounding never brightens
    factor = np.float32(1.0) - shade * np.float32(strength / 255.0)
    return xp.rint(pixels.astype(xp.float32) * factor[..., None]).astype(xp.uint8)
