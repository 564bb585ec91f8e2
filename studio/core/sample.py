"""sample(): the only place that draws random numbers. It returns plain RenderParams."""

from __future__ import annotations

import dataclasses

import numpy as np

from studio.core.cache import RenderCache
from studio.core.coords import center_pixels
from studio.core.errors import InputError, PlacementError
from studio.core.inputs import Face, Occluder, Texture
from studio.core.ops import shapes
from studio.core.params import (
    BlendParams,
    ColorParams,
    HarmonizeParams,
    ImageAugment,
    OccluderAugment,
    RenderParams,
    ShadowParams,
    ShapeParams,
)
from studio.core.placement import coverage_of, place
from studio.core.prepare import base_occluder
from studio.core.resolve import aimed, identities, new_shape
from studio.core.spec import EngineSpec, draw, draw_int, happens

SHAPE_TRIES = 20
MIN_SHAPE_FILL = 0.02  # a RandOcc shape must fill at least this fraction of its canvas


def _occluder_augment(rng: np.random.Generator, spec: EngineSpec) -> OccluderAugment:
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


def _color(rng: np.random.Generator, spec: EngineSpec) -> ColorParams:
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


def _blend(rng: np.random.Generator, spec: EngineSpec) -> BlendParams:
    b = spec.blend
    feather, edge_blur = draw(rng, b.feather), draw(rng, b.edge_blur)
    faded = happens(rng, b.opacity_probability)
    opacity = draw(rng, b.opacity)
    return BlendParams(
        opacity=opacity if faded else 1.0, feather=feather, edge_blur=edge_blur, band=b.band
    )


def _image_augment(rng: np.random.Generator, spec: EngineSpec) -> ImageAugment:
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


def _late_draws(rng: np.random.Generator, spec: EngineSpec, params: RenderParams) -> RenderParams:
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


def sample_shape(rng: np.random.Generator, spec: EngineSpec) -> ShapeParams:
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
            area = _polygon_area(shapes.shape_polygon(shape))
        except ValueError:
            continue
        if area >= MIN_SHAPE_FILL * s.canvas**2:
            return shape
    raise PlacementError(f"no usable RandOcc shape after {SHAPE_TRIES} tries")


def _polygon_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def sample(
    spec: EngineSpec,
    rng: np.random.Generator,
    face: Face,
    occluder: Occluder | Texture | None,
    cache: RenderCache | None = None,
) -> RenderParams:
    """Draw the parameters of one sample.

    Parameters
    ----------
    spec : what may vary, and how.
    rng : the only source of randomness.
    face : the face; placement and coverage are computed on it.
    occluder : an :class:`Occluder` (natocc) or a :class:`Texture` / None (randocc).
    cache : optional cache for the RandOcc shape (shared with ``render``).

    Raises
    ------
    PlacementError
        when no placement meets the coverage bounds within ``spec.placement.max_tries``.
    """
    if spec.mode == "natocc" and not isinstance(occluder, Occluder):
        raise InputError("natocc sampling needs an occluder with a mask", face.id)
    cache = cache or RenderCache(32 * 2**20)
    flip = happens(rng, spec.flip.probability)
    augment = _occluder_augment(rng, spec)
    color = _color(rng, spec)
    blend = _blend(rng, spec)
    shape_seed = int(rng.integers(0, 2**63 - 1))
    image_aug = _image_augment(rng, spec)

    shape, name = new_shape(spec, shape_seed) if spec.mode == "randocc" else (None, "")
    ids = identities(spec, occluder, shape, name)
    occluder_id, aim_up = ids["occluder_id"], ids["aim_up"]

    params = RenderParams(
        face_id=face.id,
        shape=shape,
        **ids,  # type: ignore[arg-type]
        flip=flip,
        augment=augment,
        color=color,
        blend=blend,
        image_augment=image_aug,
        mask_max=spec.mask_max,
        occluder_class=spec.occluder_class,
    )
    # only the shape matters for placement, so the texture is left out here
    base = base_occluder(params, occluder if spec.mode == "natocc" else None, cache)

    pl, rot = spec.placement, spec.rotation
    for _ in range(pl.max_tries):
        cx, cy = draw(rng, pl.center_x), draw(rng, pl.center_y)
        area = draw(rng, spec.scale.area_ratio)
        angle, jitter = draw(rng, rot.angle), draw(rng, rot.jitter)
        center = center_pixels(face, (cx, cy))
        candidate = aimed(
            params.replace(
                center_rel=(cx, cy),
                center_px=(center[0] / face.scale, center[1] / face.scale),
                area_ratio=area,
                rotation=angle,
                aim_jitter=jitter if aim_up is not None else 0.0,
            ),
            face,
        )
        placed = place(face, base, candidate, cache=cache)
        if placed is None or not placed.label.any():
            continue
        coverage = coverage_of(face, placed)
        if pl.min_coverage <= coverage <= pl.max_coverage:
            return _late_draws(rng, spec, candidate)
    raise PlacementError(
        f"no placement with face coverage in [{pl.min_coverage:g}, {pl.max_coverage:g}] "
        f"after {pl.max_tries} tries (occluder {occluder_id})",
        face.id,
    )
