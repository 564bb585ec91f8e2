"""Cast shadow: a soft, offset copy of the occluder's shape that darkens what lies beside it.

A shadow is not an occlusion: it changes pixels only (multiplies them by at most 1), never a
label. It is drawn on the face before the occluder is composited over it, so the occluder
stays on top and a see-through occluder shows the shadowed face.
"""

from __future__ import annotations

import math

from studio.core.model.params import ShadowParams
from studio.core.ops.backend import Array, Backend, blur_radius


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


def _spread(params: ShadowParams, size: float) -> int:
    """How far (pixels) the shadow spreads around its offset shape: its blur radius and two
    cells of the reduced grid it is blurred on."""
    s = sigma(params, size)
    return (blur_radius(s) if s > 0 else 0) + 2 * _factor(s) + 1


def reach(params: ShadowParams, size: float) -> int:
    """How far (pixels) beyond the occluder's shape the shadow can darken anything: its
    offset and its spread."""
    dx, dy = offset(params, size)
    return max(abs(dx), abs(dy)) + _spread(params, size)


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in the face image


def window(
    params: ShadowParams, size: float, region: Box, image_size: tuple[int, int]
) -> Box | None:
    """The pixels (x0, y0, x1, y1) the shadow of an occluder placed on ``region`` can darken
    (clipped to the image); None when it falls outside the image."""
    dx, dy = offset(params, size)
    grow = _spread(params, size)
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
    Pixels only get darker: each is multiplied by a factor in [1 - strength, 1] (in steps of
    1/255) and rounded.

    The shape is averaged over cells of :func:`_factor` pixels aligned with ``region``, blurred
    there with room around it, turned into the shadow's 8-bit amount, and interpolated back
    (cell centres on the cells' pixels), so the offset stays whole pixels and full resolution
    only sees one 8-bit resize and one multiply.
    """
    xp = be.xp
    bx0, by0, bx1, by1 = box
    pixels = image[by0:by1, bx0:bx1]
    strength = params.opacity * opacity
    if strength <= 0:
        return pixels
    dx, dy = offset(params, size)
    x0, y0, x1, y1 = region
    s = sigma(params, size)
    f = _factor(s)
    pad = blur_radius(s / f) + 3 if s > 0 else 1  # cells of room for the blur, and more
    rh, rw = y1 - y0, x1 - x0
    ch, cw = -(-rh // f), -(-rw // f)
    if f > 1:  # the shape on whole cells (padded with zeros to a multiple of f), then reduced
        cells = xp.zeros((ch * f, cw * f), xp.uint8)
        cells[:rh, :rw] = alpha
        small = be.resize(cells, (cw, ch), mode="area").astype(xp.float32)
    else:
        small = alpha.astype(xp.float32)
    room = xp.zeros((ch + 2 * pad, cw + 2 * pad), xp.float32)
    room[pad : pad + ch, pad : pad + cw] = small
    blurred = be.scale_u8(be.gaussian_blur(room, s / f), strength)  # the amount, 0..255
    # back to pixels: pixel k of ``shade`` is region pixel k - pad * f (x and y)
    shade = be.resize(blurred, (room.shape[1] * f, room.shape[0] * f), mode="linear")
    ox, oy = x0 + dx - pad * f, y0 + dy - pad * f  # image position of shade's first pixel
    sx0, sy0 = max(bx0, ox), max(by0, oy)
    sx1, sy1 = min(bx1, ox + shade.shape[1]), min(by1, oy + shade.shape[0])
    if sx1 <= sx0 or sy1 <= sy0:
        return pixels
    part = shade[sy0 - oy : sy1 - oy, sx0 - ox : sx1 - ox]
    if (sx0, sy0, sx1, sy1) == box:  # the usual case: the shade covers the whole box
        amount = xp.ascontiguousarray(part)
    else:
        amount = xp.zeros((by1 - by0, bx1 - bx0), xp.uint8)
        amount[sy0 - by0 : sy1 - by0, sx0 - bx0 : sx1 - bx0] = part
    # the shadow is black over the face at alpha ``amount``: the face is scaled by
    # (255 - amount) / 255 and rounded, so it never gets brighter
    return be.over(pixels, None, amount)
