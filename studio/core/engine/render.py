"""render(): a pure function of (face, occluder, params) -> image, masks, alpha and stats.

The pipeline: place the occluder's shape once (:mod:`.placement`: the one geometry path, shared
with sampling; its :class:`~.placement.Placed` is what every later stage reads), prepare its
colours (:mod:`.prepare`: build, colour, augment; cached) and warp them onto the placement,
harmonise it with the face (:mod:`.harmonize`), composite it by the label rule
(:mod:`.ops.blend`), assemble the image, masks and labels, and apply the whole-image
augmentation.

Backends: every image array of a render lives on the backend (``be.xp``): the face and the
occluder are uploaded once (uploads are cached by content key), colour transfer, augmentation,
warps, compositing and masks run there, and the result is downloaded once. Placement geometry
(matrices, regions) and sampling stay on the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.engine import harmonize as stage
from studio.core.engine import photo
from studio.core.engine.cache import RenderCache, no_cache, on_device
from studio.core.engine.coords import edge_sizes, nominal_size
from studio.core.engine.placement import Placed, Placement, placed_on
from studio.core.engine.prepare import (
    base_occluder,
    fragments_dropped,
    placed_colours,
    prepare,
)
from studio.core.model.errors import RenderError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams
from studio.core.ops import augment, blend
from studio.core.ops.backend import Array, Backend, get_backend


@dataclass
class Result:
    """What one render produces. Masks are uint8 with values 0 / ``params.mask_max``."""

    image: np.ndarray
    face_mask: np.ndarray
    occlusion_mask: np.ndarray
    alpha: np.ndarray
    labels: np.ndarray | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    #: where the occluder went (the studio draws its outline from it)
    placement: Placement | None = None


def render(
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    backend: str | Backend = "cpu",
    cache: RenderCache | None = None,
    *,
    on_device: bool = False,
) -> Result:
    """Render one occluded face.

    Parameters
    ----------
    face : the face and its mask (at any resolution; pixel sizes scale with ``face.scale``).
    occluder : an :class:`Occluder` (natocc), or a :class:`Texture` / None (randocc).
    params : from :func:`studio.core.engine.sample.sample` or edited by hand.
    backend : "cpu", "cuda" or "auto"; see :mod:`studio.core.ops.backend`.
    cache : optional :class:`~studio.core.engine.cache.RenderCache` reused across calls.
    on_device : leave the result's arrays on the backend (CuPy arrays on CUDA); by default
        they are NumPy arrays whatever the backend (downloaded once).

    Returns
    -------
    Result with the image, binary masks, alpha, stats (coverage, bbox, pixel counts) and the
    placement.
    """
    be = get_backend(backend)
    result = _render(be, face, occluder, params, cache if cache is not None else no_cache())
    if be.on_host or on_device:
        return result
    return Result(
        image=be.to_numpy(result.image),
        face_mask=be.to_numpy(result.face_mask),
        occlusion_mask=be.to_numpy(result.occlusion_mask),
        alpha=be.to_numpy(result.alpha),
        labels=None if result.labels is None else be.to_numpy(result.labels),
        stats=result.stats,
        placement=result.placement,
    )


def _render(
    be: Backend,
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    cache: RenderCache,
) -> Result:
    """The pipeline on ``be`` (arrays left there): place, prepare, harmonise, composite."""
    face_image, face_mask, face_labels = on_device(
        be, cache, face.key, face.image, face.mask, face.labels
    )
    occ = base_occluder(params, occluder, cache)
    # colour transfer does not move the shape: the base occluder is placed once, and its
    # Placed (label, band, size) serves the colour target, the steps and the compositing
    placed = placed_on(be, face, occ, params, cache)
    if placed is None:
        raise RenderError("the occluder lies entirely outside the face image", params.face_id)
    if not bool(placed.label.any()):
        raise RenderError("the occluder covers no pixel of the face image", params.face_id)
    ring = None
    if stage.needs_ring(params):
        ring = stage.ring_of(be, params, face_image, face_mask, placed)
    prepared = prepare(be, face, occ, params, cache, ring)
    prem = placed_colours(be, prepared, placed, cache)
    x0, y0, x1, y1 = placed.region
    face_roi, shadow = face_image[y0:y1, x0:x1], None
    if stage.needs_stage(params):
        pasted = stage.paste(be, face, face_image, placed, ring, prem, params, occ, cache)
        prem, face_roi = pasted.premultiplied, pasted.face_roi
        if pasted.shadow_box is not None:
            shadow = (pasted.shadow_box, pasted.shadow_pixels)
    size = nominal_size(occ.size, placed.placement.scale)
    _, feather, edge_blur = edge_sizes(face, params, size)
    roi, roi_alpha = blend.composite(
        be,
        face_roi,
        prem,
        placed,
        opacity=params.blend.opacity,
        feather_sigma=feather,
        edge_blur_sigma=edge_blur,
    )
    if photo.compresses(params):  # the photo's resolution and JPEG quality, last
        roi = photo.finish(be, face, face_image, roi, placed, params, cache)
    image, visible, occluded, alpha, labels = _assemble(
        be, params, face_image, face_mask, face_labels, placed, roi, roi_alpha, shadow
    )
    stats = _stats(be, face_mask, visible, placed)
    if params.blend.relative_to > 0:  # recorded: the band, feather and edge blur it used
        stats["edge_px"] = [placed.band_radius, round(feather, 3), round(edge_blur, 3)]
    dropped = fragments_dropped(params, occluder, cache)
    if dropped is not None:
        stats["fragments_dropped_px"] = dropped
    image, visible, occluded, alpha, labels = augment.augment_image(
        be, params, image, visible, occluded, alpha, labels
    )
    on = np.uint8(params.mask_max)
    return Result(
        image=image,
        face_mask=visible.astype(np.uint8) * on,
        occlusion_mask=occluded.astype(np.uint8) * on,
        alpha=alpha,
        labels=labels,
        stats=stats,
        placement=placed.placement,
    )


def _assemble(
    be: Backend,
    params: RenderParams,
    face_image: Array,
    face_mask: Array,
    face_labels: Array | None,
    placed: Placed,
    roi: Array,
    roi_alpha: Array,
    shadow: tuple[tuple[int, int, int, int], Array] | None,
) -> tuple[Array, Array, Array, Array, Array | None]:
    """The whole image, the visible face and occlusion masks, alpha and the class map, from
    the composited region (and the cast shadow beside it). The label rule: the face mask is
    the face AND NOT occluded; the occluder is one more class of the map."""
    xp = be.xp
    x0, y0, x1, y1 = placed.region
    h, w = face_image.shape[:2]
    image = face_image.copy()
    if shadow is not None:
        (sx0, sy0, sx1, sy1), pixels = shadow
        image[sy0:sy1, sx0:sx1] = pixels
    image[y0:y1, x0:x1] = roi
    occluded = xp.zeros((h, w), bool)
    occluded[y0:y1, x0:x1] = placed.label
    alpha = xp.zeros((h, w), np.float32)
    alpha[y0:y1, x0:x1] = roi_alpha
    visible = face_mask & ~occluded
    labels = None
    if face_labels is not None:
        labels = face_labels.copy()
        labels[occluded] = params.occluder_class
    return image, visible, occluded, alpha, labels


def _stats(be: Backend, face_mask: Array, visible: Array, placed: Placed) -> dict[str, Any]:
    """Coverage, pixel counts and the occluder's bbox (before whole-image augmentation)."""
    xp = be.xp
    label, where = placed.label, placed.placement
    x0, y0 = where.region[:2]
    face_px = int(xp.count_nonzero(face_mask))
    hidden_px = face_px - int(xp.count_nonzero(visible))
    rows = xp.flatnonzero(label.any(axis=1))
    cols = xp.flatnonzero(label.any(axis=0))
    return {
        "coverage": hidden_px / face_px,
        "face_px": face_px,
        "occluded_px": int(xp.count_nonzero(label)),
        "occluder_bbox": [
            int(cols[0]) + x0,
            int(rows[0]) + y0,
            int(cols[-1]) + x0 + 1,
            int(rows[-1]) + y0 + 1,
        ],
        "region": list(where.region),
        "scale_px": where.scale,
    }
