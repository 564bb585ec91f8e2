"""Compositing with the label rule.

Label rule (one rule, used everywhere): a pixel is *occluded* where the occluder's placed
shape alpha is >= 0.5 (>= 128 of 255). The composite is ``lerp(face, occluder, a)`` with
``a = shape_alpha * opacity``, where inside the edge band only the shape alpha is feathered;
outside the occluded region and its edge band the face is untouched (bit-exact). Colours are
premultiplied by alpha before warping and feathering, so the feathered edge carries the
occluder's own edge colours, never a dark fringe.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from studio.core.ops.backend import Array, Backend


def edge_band(be: Backend, label: Array, radius: int) -> Array:
    """Pixels within ``radius`` of the label boundary (bool), on both sides of it."""
    m = label.astype(be.xp.uint8)
    outer = be.morph(m, radius, dilate=True)
    inner = be.morph(m, radius, dilate=False)
    return (outer > 0) & (inner == 0)


class Shape(Protocol):
    """A shape placed on a region of the face, as compositing reads it (the engine's
    :class:`~studio.core.engine.placement.Placed` is one)."""

    @property
    def alpha(self) -> Array:
        """HxW uint8 placed shape alpha."""

    @property
    def label(self) -> Array:
        """HxW bool occluded pixels (alpha >= 128)."""

    @property
    def band(self) -> Array:
        """HxW bool edge band around the label's boundary."""


def composite(
    be: Backend,
    face: Array,
    premultiplied: Array,
    shape: Shape,
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
    shape : its placed shape alpha, label and edge band on the same region.

    Returns
    -------
    The blended region (uint8) and the alpha used (float32 in [0, 1]).
    """
    xp = be.xp
    shape_alpha, label, band = shape.alpha, shape.label, shape.band
    alpha_u8, prem_u8 = shape_alpha, premultiplied
    if opacity != 1.0:
        alpha_u8 = be.scale_u8(shape_alpha, opacity)
        prem_u8 = be.scale_u8(premultiplied, opacity)
    out = be.over(face, prem_u8, alpha_u8)  # 8-bit fast path for everything but the band
    alpha = alpha_u8.astype(xp.float32) * np.float32(1 / 255)
    # flat indices: one pass over the mask, and 1-D takes and puts (2-D fancy indexing is
    # several times slower on a region of half a million pixels)
    in_band = xp.flatnonzero(band)
    if in_band.size:  # the edge band in float32: feathered alpha, then the seam blur
        f32 = xp.float32
        if feather_sigma > 0:
            a = _take(xp, be.gaussian_blur(shape_alpha, feather_sigma, floats=True), in_band)
            p = _take(xp, be.gaussian_blur(premultiplied, feather_sigma, floats=True), in_band)
        else:
            a, p = _take(xp, shape_alpha, in_band), _take(xp, premultiplied, in_band)
            a, p = a.astype(f32), p.astype(f32)
        a = a * np.float32(opacity / 255.0)
        kept = _take(xp, face, in_band).astype(f32) * (np.float32(1.0) - a)[:, None]
        mixed = kept + p * np.float32(opacity)
        out = xp.ascontiguousarray(out)
        _put(xp, out, in_band, xp.clip(xp.rint(mixed), 0, 255).astype(xp.uint8))
        _put(xp, alpha, in_band, a)
        if edge_blur_sigma > 0:
            blurred = _take(xp, be.gaussian_blur(out, edge_blur_sigma, floats=True), in_band)
            _put(xp, out, in_band, xp.clip(xp.rint(blurred), 0, 255).astype(xp.uint8))
    # the face is restored wherever the rule says untouched (soft alpha outside the band)
    stray = xp.flatnonzero(~(label | band) & (alpha_u8 > 0))
    if stray.size:
        out = xp.ascontiguousarray(out)
        _put(xp, out, stray, _take(xp, face, stray))
        _put(xp, alpha, stray, xp.zeros(stray.size, xp.float32))
    return out, alpha


def _pixels(xp: Any, image: Array) -> Array:
    """``image`` as rows of pixels (H*W x C, or H*W), a copy only where it is not contiguous."""
    return xp.ascontiguousarray(image).reshape(image.shape[0] * image.shape[1], -1)


def _take(xp: Any, image: Array, flat: Array) -> Array:
    """The pixels of ``image`` at the flat indices ``flat`` (N x C, or N for one channel)."""
    taken = xp.take(_pixels(xp, image), flat, axis=0)
    return taken[:, 0] if image.ndim == 2 else taken


def _put(xp: Any, image: Array, flat: Array, values: Array) -> None:
    """Write ``values`` at the flat indices of the contiguous ``image``, in place."""
    view = image.reshape(image.shape[0] * image.shape[1], -1)
    view[flat] = values[:, None] if image.ndim == 2 else values
