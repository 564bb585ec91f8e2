"""Photometric augmentation of the occluder (its geometry is folded into the placement warp)."""

from __future__ import annotations

import numpy as np

from studio.core.model.params import OccluderAugment, RenderParams
from studio.core.ops.backend import Array, Backend, jpeg_roundtrip_host


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
    quality = aug.jpeg_quality
    if quality is not None:

        def blur_and_jpeg(host: Backend, image: Array) -> Array:
            if aug.blur_sigma > 0:
                image = host.gaussian_blur(image, aug.blur_sigma)
            return jpeg_roundtrip_host(image, quality)

        rgb = be.host_only(blur_and_jpeg, rgb)
    elif aug.blur_sigma > 0:
        rgb = be.gaussian_blur(rgb, aug.blur_sigma)
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
