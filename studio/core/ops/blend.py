"""Compositing with the label rule.

Label rule (one rule, used everywhere): a pixel is *occluded* where the occluder's placed
shape alpha is >= 0.5 (>= 128 of 255). The composite is ``lerp(face, occluder, a)`` with
``a = shape_alpha * opacity``, where inside the edge band only the shape alpha is feathered;
outside the occluded region and its edge band the face is untouched (bit-exact). Colours are
premultiplied by alpha before warping and feathering, so the feathered edge carries the
occluder's own edge colours, never a dark fringe.
"""

from __future__ import annotations

import numpy as np

from studio.core.backend import Array, CpuBackend


def edge_band(be: CpuBackend, label: Array, radius: int) -> Array:
    """Pixels within ``radius`` of the label boundary (bool), on both sides of it."""
    m = label.astype(be.xp.uint8)
    outer = be.morph(m, radius, dilate=True)
    inner = be.morph(m, radius, dilate=False)
    return (outer > 0) & (inner == 0)


def composite(
    be: CpuBackend,
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
    """Blend an occluder over ``face``.

    Parameters
    ----------
    face : HxWx3 uint8 region of the face image.
    premultiplied : HxWx3 uint8 occluder colours premultiplied by its shape alpha.
    shape_alpha : HxW uint8 placed shape alpha.
    label, band : HxW bool occluded pixels and edge band.

    Returns
    -------
    The blended region (uint8) and the alpha used (float32 in [0, 1]).
    """
    xp = be.xp
    in_band = xp.nonzero(band)
    alpha_u8, prem_u8 = shape_alpha, premultiplied
    if feather_sigma > 0 and in_band[0].size:
        alpha_u8, prem_u8 = shape_alpha.copy(), premultiplied.copy()
        alpha_u8[in_band] = be.gaussian_blur(shape_alpha, feather_sigma)[in_band]
        prem_u8[in_band] = be.gaussian_blur(premultiplied, feather_sigma)[in_band]
    if opacity != 1.0:
        alpha_u8 = be.scale_u8(alpha_u8, opacity)
        prem_u8 = be.scale_u8(prem_u8, opacity)
    out = be.over(face, prem_u8, alpha_u8)
    if edge_blur_sigma > 0 and in_band[0].size:
        out[in_band] = be.gaussian_blur(out, edge_blur_sigma)[in_band]
    # the face is restored wherever the rule says untouched (soft alpha outside the band)
    stray = xp.nonzero(~(label | band) & (alpha_u8 > 0))
    out[stray] = face[stray]
    alpha = alpha_u8.astype(xp.float32) * np.float32(1 / 255)
    alpha[stray] = 0.0
    return out, alpha
