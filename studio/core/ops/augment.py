"""Photometric augmentation of the occluder (its geometry is folded into the placement warp)."""

from __future__ import annotations

import dataclasses

import numpy as np

from studio.core.backend import Array, Backend, get_backend
from studio.core.params import OccluderAugment, RenderParams


def brightness_contrast(be: Backend, rgb: Array, brightness: float, contrast: float) -> Array:
    """``(rgb - 127.5) * contrast + 127.5 + brightness * 255``, rounded and clipped (uint8)."""
    if brightness == 0 and contrast == 1:
        return rgb
    xp = be.xp
    out = (rgb.astype(xp.float32) - 127.5) * np.float32(contrast) + np.float32(
        127.5 + brightness * 255.0
    )
    return xp.clip(xp.rint(out), 0, 255).astype(xp.uint8)


def augment_occluder(be: Backend, rgb: Array, aug: OccluderAugment) -> Array:
    """Blur, JPEG re-compression and brightness/contrast of the occluder's colours.

    JPEG runs on the host on every backend. Its quantisation turns one-grey-level differences
    of its input into differences of several levels, so on a device the blur that feeds it runs
    on the host too (the JPEG downloads the image anyway): the JPEG sees the CPU's exact input.
    """
    if aug.jpeg_quality is not None and not be.on_host:
        colours_only = dataclasses.replace(aug, brightness=0.0, contrast=1.0)
        host = augment_occluder(get_backend("cpu"), be.to_numpy(rgb), colours_only)
        return brightness_contrast(be, be.asarray(host), aug.brightness, aug.contrast)
    if aug.blur_sigma > 0:
        rgb = be.gaussian_blur(rgb, aug.blur_sigma)
    if aug.jpeg_quality is not None:
        rgb = be.jpeg_roundtrip(rgb, aug.jpeg_quality)
    return brightness_contrast(be, rgb, aug.brightness, aug.contrast)


def augment_image(
    be: Backend,
    params: RenderParams,
    image: Array,
    face_mask: Array,
    occluded: Array,
    alpha: Array,
    labels: Array | None,
) -> tuple[Array, ...]:
    """Whole-image augmentation: geometry moves image and masks together; colours move the
    image only. Off unless ``params.image_augment.enabled``."""
    aug = params.image_augment
    if not aug.enabled:
        return image, face_mask, occluded, alpha, labels
    if aug.flip:
        xp = be.xp
        image, face_mask, occluded, alpha = (
            xp.ascontiguousarray(a[:, ::-1]) for a in (image, face_mask, occluded, alpha)
        )
        labels = None if labels is None else xp.ascontiguousarray(labels[:, ::-1])
    if aug.blur_sigma > 0:
        image = be.gaussian_blur(image, aug.blur_sigma)
    image = brightness_contrast(be, image, aug.brightness, aug.contrast)
    return image, face_mask, occluded, alpha, labels
