"""What each group of a sample draws from the spec: occluder augmentation, colour, blend,
whole-image augmentation, the later additions (harmonisation, white balance) and RandOcc shapes.

Every function takes the generator it is given and consumes a fixed count of its numbers per
field (one per number, also when a step is off), so pinning one value never shifts the others.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from studio.core.model.errors import PlacementError
from studio.core.model.params import (
    BlendParams,
    ColorParams,
    HarmonizeParams,
    ImageAugment,
    OccluderAugment,
    RenderParams,
    ShadowParams,
    ShapeParams,
)
from studio.core.model.spec import EngineSpec, draw, draw_int, happens
from studio.core.ops import shapes

SHAPE_TRIES = 20
MIN_SHAPE_FILL = 0.02  # a RandOcc shape must fill at least this fraction of its canvas


def draw_occluder_augment(rng: np.random.Generator, spec: EngineSpec) -> OccluderAugment:
    a = spec.occluder_augment
    blur_on = happens(rng, a.blur.probability)
    blur = draw(rng, a.blur.sigma)
    jpeg_on = happens(rng, a.jpeg.probability)
    quality = draw_int(rng, a.jpeg.quality)
    affine_on = happens(rng, a.affine.probability)
    scale, rot, shear = (draw(rng, v) for v in (a.affine.scale, a.affine.rotation, a.affine.shear))
    brightness, contrast = draw(rng, a.brightness), draw(rng, a.contrast)
    return OccluderAugment(
        blur_sigma=blur if blur_on else 0.0,
        jpeg_quality=quality if jpeg_on else None,
        brightness=brightness,
        contrast=contrast,
        affine_scale=scale if affine_on else 1.0,
        affine_rotation=rot if affine_on else 0.0,
        affine_shear=shear if affine_on else 0.0,
    )


def draw_color(rng: np.random.Generator, spec: EngineSpec) -> ColorParams:
    c = spec.color
    on = happens(rng, c.probability)
    strength = draw(rng, c.strength)
    seed = int(rng.integers(0, 2**31 - 1))
    return ColorParams(
        method=c.method if on else "none",
        strength=strength,
        steps=c.steps,
        directions=c.directions,
        samples=c.samples,
        smooth=c.smooth,
        seed=seed,
    )


def draw_blend(rng: np.random.Generator, spec: EngineSpec) -> BlendParams:
    b = spec.blend
    feather, edge_blur = draw(rng, b.feather), draw(rng, b.edge_blur)
    faded = happens(rng, b.opacity_probability)
    opacity = draw(rng, b.opacity)
    return BlendParams(
        opacity=opacity if faded else 1.0, feather=feather, edge_blur=edge_blur, band=b.band
    )


def draw_image_augment(rng: np.random.Generator, spec: EngineSpec) -> ImageAugment:
    a = spec.image_augment
    flip = happens(rng, a.flip_probability)
    blur_on = happens(rng, a.blur_probability)
    sigma = draw(rng, a.blur_sigma)
    brightness, contrast = draw(rng, a.brightness), draw(rng, a.contrast)
    if not a.enabled:
        return ImageAugment()
    return ImageAugment(
        enabled=True,
        flip=flip,
        blur_sigma=sigma if blur_on else 0.0,
        brightness=brightness,
        contrast=contrast,
    )


def draw_late(rng: np.random.Generator, spec: EngineSpec, params: RenderParams) -> RenderParams:
    """The numbers added after the first release (harmonisation, the lighting white balance).

    They are drawn after every other draw, and only when used (harmonize enabled, lighting
    chosen), so presets without them consume exactly the numbers they always did.
    """
    if spec.color.method == "lighting":
        wb = draw(rng, spec.color.white_balance)
        params = params.replace(color=dataclasses.replace(params.color, white_balance=wb))
    h = spec.harmonize
    if not h.enabled:
        return params
    ring = draw(rng, h.ring)
    shading, smooth = draw(rng, h.shading.strength), draw(rng, h.shading.smooth)
    focus, noise = draw(rng, h.focus.strength), draw(rng, h.noise.strength)
    noise_seed = int(rng.integers(0, 2**31 - 1))
    s = h.shadow
    shadow_on = happens(rng, s.probability)
    angle, distance = draw(rng, s.angle), draw(rng, s.distance)
    softness, opacity = draw(rng, s.softness), draw(rng, s.opacity)
    shadow = ShadowParams(
        opacity=opacity if shadow_on else 0.0, angle=angle, distance=distance, softness=softness
    )
    harmonize = HarmonizeParams(
        enabled=True,
        ring=ring,
        color_target=h.color.target,
        shading=shading,
        shading_smooth=smooth,
        focus=focus,
        noise=noise,
        noise_seed=noise_seed,
        shadow=shadow,
    )
    return params.replace(harmonize=harmonize)


def draw_shape(rng: np.random.Generator, spec: EngineSpec) -> ShapeParams:
    """Draw a RandOcc shape that fills at least a little of its canvas."""
    s = spec.shape
    for _ in range(SHAPE_TRIES):
        n = draw_int(rng, s.points)
        points = tuple((float(x), float(y)) for x, y in rng.random((n, 2)))
        roundness, edginess = draw(rng, s.roundness), draw(rng, s.edginess)
        use_texture = happens(rng, s.texture_probability)
        r, g, b = (int(v) for v in rng.integers(0, 256, 3))
        fill = (r, g, b)
        shape = ShapeParams(points, roundness, edginess, s.canvas, None if use_texture else fill)
        try:
            area = polygon_area(shapes.shape_polygon(shape))
        except ValueError:
            continue
        if area >= MIN_SHAPE_FILL * s.canvas**2:
            return shape
    raise PlacementError(f"no usable RandOcc shape after {SHAPE_TRIES} tries")


def polygon_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
