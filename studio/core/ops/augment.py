"""Photometric augmentation of the occluder (its geometry is folded into the placement warp)."""

from __future__ import annotations

import numpy as np

from studio.core.backend import Array, CpuBackend
from studio.core.params import OccluderAugment


def brightness_contrast(be: CpuBackend, rgb: Array, brightness: float, contrast: float) -> Array:
    """``(rgb - 127.5) * contrast + 127.5 + brightness * 255``, rounded and clipped (uint8)."""
    if brightness == 0 and contrast == 1:
        return rgb
    xp = be.xp
    out = (rgb.astype(xp.float32) - 127.5) * np.float32(contrast) + np.float32(
        127.5 + brightness * 255.0
    )
    return xp.clip(xp.rint(out), 0, 255).astype(xp.uint8)


def augment_occluder(be: CpuBackend, rgb: Array, aug: OccluderAugment) -> Array:
    """Blur, JPEG re-compression and brightness/contrast of the occluder's colours."""
    if aug.blur_sigma > 0:
        rgb = be.gaussian_blur(rgb, aug.blur_sigma)
    if aug.jpeg_quality is not None:
        rgb = be.jpeg_roundtrip(rgb, aug.jpeg_quality)
    return brightness_contrast(be, rgb, aug.brightness, aug.contrast)
