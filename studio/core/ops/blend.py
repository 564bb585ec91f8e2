"""Compositing with the label rule.

Label rule (one rule, used everywhere): a pixel is *occluded* where the occluder's placed
shape alpha is >= 0.5. The composite is ``lerp(face, occluder, a)`` with
``a = shape_alpha * opacity`` inside the occluded region and, inside the edge band only, the
feathered shape alpha; outside the occluded region and its edge band the face is untouched
(bit-exact). Colours are premultiplied by alpha before warping and feathering, so the
feathered edge carries the occluder's own edge colours, never a dark fringe.
"""

from __future__ import annotations

import numpy as np

from studio.core.backend import Array, Backend


def edge_band(be: Backend, label: Array, radius: int) -> Array:
    """Pixels within ``radius`` of the label boundary (bool), on both sides of it."""
    m = label.astype(be.xp.uint8)
    outer = be.morph(m, radius, dilate=True)
    inner = be.morph(m, radius, dilate=False)
    return (outer > 0) & (inner == 0)


def composite(
    be: Backend,
    face: Array,
    premultiplied: Array,
    shape_alpha: Array,
    label: Array,
    band: Array,
    *,
    opacity: float,
    feather_sigma: float,
    edge_blur_sigma: float,
) -> tuple[Array, Array]:
    """Blend a premultiplied occluder over ``face`` (uint8).

    Returns the blended region (uint8) and the alpha used (float32).
    """
    xp = be.xp
    inner = label & ~band
    alpha = xp.where(inner, shape_alpha, np.float32(0.0))
    prem = xp.where(inner[..., None], premultiplied, np.float32(0.0))
    if feather_sigma > 0:
        alpha = xp.where(band, be.gaussian_blur(shape_alpha, feather_sigma), alpha)
        prem = xp.where(band[..., None], be.gaussian_blur(premultiplied, feather_sigma), prem)
    else:
        alpha = xp.where(band, shape_alpha, alpha)
        prem = xp.where(band[..., None], premultiplied, prem)
    op = np.float32(opacity)
    alpha = (alpha * op).astype(xp.float32)
    f = face.astype(xp.float32)
    mixed = f * (np.float32(1.0) - alpha[..., None]) + prem * op
    if edge_blur_sigma > 0:
        mixed = xp.where(band[..., None], be.gaussian_blur(mixed, edge_blur_sigma), mixed)
    out = xp.clip(xp.rint(mixed), 0, 255).astype(xp.uint8)
    touched = label | band
    return xp.where(touched[..., None], out, face), alpha
