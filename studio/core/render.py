"""render(): a pure function of (face, occluder, params) -> image, masks, alpha and stats.

Backends: every image array of a render lives on the backend (``be.xp``): the face and the
occluder are uploaded once (uploads are cached by content key), colour transfer, augmentation,
warps, compositing and masks run there, and the result is downloaded once. Placement geometry
(matrices, regions) and sampling stay on the host.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core import harmonize as stage
from studio.core.backend import Array, Backend, get_backend
from studio.core.errors import RenderError
from studio.core.inputs import Face, Occluder, Texture, content_key
from studio.core.ops import augment, blend, color, geometry, shapes
from studio.core.params import RenderParams

PRESCALE_BELOW = 0.75  # occluders shrunk more than this are first reduced with an area filter


class RenderCache:
    """A small LRU cache for the expensive, placement-independent steps (colour transfer,
    occluder augmentation, RandOcc shapes, reduced copies). Keys include content hashes."""

    def __init__(self, max_items: int = 64) -> None:
        self.max_items = max_items
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        self.misses += 1
        value = make()
        self._items[key] = value
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()


class _NoCache(RenderCache):
    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        return make()


@dataclass
class Result:
    """What one render produces. Masks are uint8 with values 0 / ``params.mask_max``."""

    image: np.ndarray
    face_mask: np.ndarray
    occlusion_mask: np.ndarray
    alpha: np.ndarray
    labels: np.ndarray | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class Placed:
    """The occluder placed on the face: its region, shape alpha and label there."""

    region: tuple[int, int, int, int]
    alpha: np.ndarray  #: uint8 placed shape alpha in the region
    label: np.ndarray  #: alpha >= 128: the occluded pixels of the region
    matrix: np.ndarray  #: forward 2x3 affine from the (reduced) occluder to the face
    source_size: tuple[int, int]  #: (w, h) of the (reduced) occluder the matrix maps from


def base_occluder(
    be: Backend, params: RenderParams, occluder: Occluder | Texture | None, cache: RenderCache
) -> Occluder:
    """The occluder to paste: as given (NatOcc) or built from the shape and texture (RandOcc).

    RandOcc shapes are always built on the host (CPU backend), whatever ``be`` is: sampling
    checks coverage on exactly this rasterisation, so every backend pastes the same shape.
    """
    be = get_backend("cpu")
    if params.mode == "randocc":
        if params.shape is None:
            raise RenderError("randocc parameters carry no shape")
        texture = occluder if isinstance(occluder, Texture) else None
        # the alpha is rasterised once per shape: sampling (no texture) and rendering share it
        alpha = cache.get(
            ("shape-alpha", params.shape), lambda: shapes.shape_alpha(be, params.shape)
        )
        key = ("shape", params.shape, None if texture is None else texture.key)
        return cache.get(
            key,
            lambda: shapes.shape_occluder(be, params.shape, texture, params.occluder_id, alpha),
        )
    if not isinstance(occluder, Occluder):
        raise RenderError("natocc rendering needs an Occluder")
    return occluder


def _premultiply(be: Backend, rgb: Array, alpha: Array) -> Array:
    """Colours premultiplied by alpha, rounded to uint8."""
    xp = be.xp
    prem = rgb.astype(xp.float32) * (alpha.astype(xp.float32) * np.float32(1 / 255))[..., None]
    return (prem + np.float32(0.5)).astype(xp.uint8)


def pixel_scale(face: Face, occluder_size: tuple[int, int], params: RenderParams) -> float:
    """Linear scale from occluder pixels to face pixels (before the augmentation's scale)."""
    w, h = occluder_size
    return math.sqrt(params.area_ratio * face.bbox_area / float(w * h))


def center_pixels(face: Face, center_rel: tuple[float, float]) -> tuple[float, float]:
    """Face-bbox-relative coordinates to pixels of this face image."""
    x0, y0, x1, y1 = face.bbox
    return x0 + center_rel[0] * (x1 - x0), y0 + center_rel[1] * (y1 - y0)


def relative_center(face: Face, center_px: tuple[float, float]) -> tuple[float, float]:
    """Pixels of this face image to face-bbox-relative coordinates."""
    x0, y0, x1, y1 = face.bbox
    return (center_px[0] - x0) / max(x1 - x0, 1e-9), (center_px[1] - y0) / max(y1 - y0, 1e-9)


def band_radius(face: Face, params: RenderParams) -> int:
    return max(1, round(params.blend.band * face.scale))


def on_device(be: Backend, cache: RenderCache, key: Hashable, *arrays: np.ndarray) -> tuple:
    """``arrays`` uploaded to ``be`` (cached by ``key`` on devices; as is on the CPU)."""
    if be.on_host:
        return arrays

    def upload() -> tuple:
        return tuple(None if a is None else be.asarray(a) for a in arrays)

    return cache.get(("device", be.name, key), upload)


def _reduced(
    be: Backend,
    rgb: Array,
    alpha: Array,
    scale: float,
    cache: RenderCache,
    tag: Hashable,
) -> tuple[Array, Array, np.ndarray]:
    """Area-reduced (rgb, alpha) when the occluder shrinks a lot, and the matrix back to the
    occluder's own pixels."""
    h, w = alpha.shape[:2]
    if scale >= PRESCALE_BELOW:
        return rgb, alpha, geometry.translate(0.0, 0.0)
    size = (max(2, round(w * scale)), max(2, round(h * scale)))

    def make() -> tuple[Array, Array]:
        return be.resize(rgb, size), be.resize(alpha, size)

    rgb, alpha = cache.get(("reduced", be.name, tag, size), make)
    return rgb, alpha, geometry.resize_matrix((w, h), size)


def _forward_matrix(
    face: Face, occ_size: tuple[int, int], params: RenderParams
) -> tuple[np.ndarray, float]:
    aug = params.augment
    scale = pixel_scale(face, occ_size, params) * aug.affine_scale
    matrix = geometry.occluder_matrix(
        occ_size,
        center_pixels(face, params.center_rel),
        scale,
        params.rotation + aug.affine_rotation,
        params.flip,
        aug.affine_shear,
    )
    return matrix, scale


def _pad(face: Face, params: RenderParams) -> int:
    b = params.blend
    return band_radius(face, params) + math.ceil(3 * max(b.feather, b.edge_blur) * face.scale) + 2


def _placement(
    be: Backend,
    face: Face,
    rgb: Array,
    alpha: Array,
    key: Hashable,
    params: RenderParams,
    cache: RenderCache,
) -> tuple[tuple[int, int, int, int], Array, np.ndarray, float, tuple[int, int]] | None:
    """Region, placed uint8 shape alpha (on ``be``), forward matrix from the (reduced) source,
    the occluder's scale and the source's size; None when the occluder misses the image."""
    matrix, scale = _forward_matrix(face, (alpha.shape[1], alpha.shape[0]), params)
    _, alpha_src, back = _reduced(be, rgb, alpha, scale, cache, key)
    full = geometry.compose(matrix, back)
    src_size = (alpha_src.shape[1], alpha_src.shape[0])
    region = geometry.region_of(full, src_size, face.size, _pad(face, params))
    if region is None:
        return None
    return region, geometry.warp_region(be, alpha_src, full, region), full, scale, src_size


def place(
    face: Face,
    occluder: Occluder,
    params: RenderParams,
    backend: str | Backend = "cpu",
    cache: RenderCache | None = None,
) -> Placed | None:
    """Place the occluder's shape alpha on the face (no colours); None if it misses the image.

    ``render`` uses exactly this geometry (the same function), so the label and coverage
    computed here are the ones a render gives. Arrays are returned on the host.
    """
    be = get_backend(backend)
    cache = cache or _NoCache()
    image, alpha = on_device(be, cache, occluder.key, occluder.image, occluder.alpha)
    placed = _placement(be, face, image, alpha, occluder.key, params, cache)
    if placed is None:
        return None
    region, placed_alpha, full, _, src_size = placed
    placed_alpha = be.to_numpy(placed_alpha)
    return Placed(region, placed_alpha, placed_alpha >= 128, full, src_size)


def coverage_of(face: Face, placed: Placed | None) -> float:
    """Fraction of the face mask that the placed occluder hides."""
    if placed is None:
        return 0.0
    x0, y0, x1, y1 = placed.region
    hidden = np.count_nonzero(face.mask[y0:y1, x0:x1] & placed.label)
    return hidden / max(1, int(np.count_nonzero(face.mask)))


def prepared_occluder(
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    backend: str | Backend = "cpu",
    cache: RenderCache | None = None,
) -> Occluder:
    """The occluder after colour transfer and photometric augmentation (cached by inputs)."""
    be = get_backend(backend)
    rgb, alpha, key, occ = _prepared(be, face, occluder, params, cache or _NoCache())
    return Occluder(be.to_numpy(rgb), be.to_numpy(alpha), occ.id, occ.kind, occ.up, _key=key)


def _prepared(
    be: Backend,
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    cache: RenderCache,
    ring_skin: np.ndarray | None = None,
) -> tuple[Array, Array, str, Occluder]:
    """(rgb, alpha) of the prepared occluder on ``be``, its content key, and the base occluder.

    ``ring_skin`` replaces the face's skin pixels as the colour target (the skin ring).
    When the occluder is JPEG re-compressed, everything that feeds the JPEG encoder (colour
    transfer, blur) runs on the host: JPEG turns 1-level float differences between backends
    into blocks of larger ones, so the host result is computed once and uploaded.
    """
    if not be.on_host and params.augment.jpeg_quality is not None:
        host = get_backend("cpu")
        rgb, alpha, key, occ = _prepared(host, face, occluder, params, cache, ring_skin)
        return (*on_device(be, cache, key, rgb, alpha), key, occ)
    occ = base_occluder(be, params, occluder, cache)
    image, alpha = on_device(be, cache, occ.key, occ.image, occ.alpha)
    method = params.color.method  # "lighting" runs on the placed occluder (harmonize.paste)
    transfers = method in ("sot", "reinhard")

    def colored() -> Array:
        if not transfers or params.color.strength <= 0:
            return image
        skin = ring_skin
        if skin is None:
            skin = cache.get(
                ("skin", face.key, face.bbox),
                lambda: color.skin_pixels(face.image, face.mask, face.bbox),
            )
        return color.transfer(be, image, alpha, skin, params.color)

    target = face.key if ring_skin is None else ("ring", content_key(ring_skin))
    color_key = (
        "color",
        occ.key,
        target if transfers else None,
        params.color,
    )
    rgb = cache.get((*color_key, be.name), colored)
    photometric = params.augment.photometric
    if photometric == (0.0, None, 0.0, 1.0):
        return rgb, alpha, f"{color_key}", occ
    rgb = cache.get(
        ("augment", color_key, photometric, be.name),
        lambda: augment.augment_occluder(be, rgb, params.augment),
    )
    return rgb, alpha, f"{color_key}{photometric}", occ


def render(
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    backend: str | Backend = "cpu",
    cache: RenderCache | None = None,
) -> Result:
    """Render one occluded face.

    Parameters
    ----------
    face : the face and its mask (at any resolution; pixel sizes scale with ``face.scale``).
    occluder : an :class:`Occluder` (natocc), or a :class:`Texture` / None (randocc).
    params : from :func:`studio.core.sample.sample` or edited by hand.
    backend : "cpu", "cuda" or "auto"; see :mod:`studio.core.backend`. Outputs are NumPy
        arrays whatever the backend.
    cache : optional :class:`RenderCache` reused across calls (previews, batches).

    Returns
    -------
    Result with the image, binary masks, alpha and stats (coverage, bbox, pixel counts).
    """
    be = get_backend(backend)
    result = render_on_backend(face, occluder, params, be, cache)
    if be.on_host:
        return result
    return Result(
        image=be.to_numpy(result.image),
        face_mask=be.to_numpy(result.face_mask),
        occlusion_mask=be.to_numpy(result.occlusion_mask),
        alpha=be.to_numpy(result.alpha),
        labels=None if result.labels is None else be.to_numpy(result.labels),
        stats=result.stats,
    )


def preload_face(
    cache: RenderCache, be: Backend, face: Face, image: Array, mask: Array, labels: Array | None
) -> None:
    """Give ``cache`` the device copies of ``face`` (e.g. CuPy views of CUDA tensors through
    DLPack), so that rendering ``face`` on ``be`` with this cache does not upload it again."""
    cache.get(("device", be.name, face.key), lambda: (image, mask, labels))


def render_on_backend(
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    backend: str | Backend = "cpu",
    cache: RenderCache | None = None,
) -> Result:
    """:func:`render`, with the result's arrays left on the backend (CuPy arrays on CUDA)."""
    be = get_backend(backend)
    xp = be.xp
    cache = cache or _NoCache()
    face_image, face_mask, face_labels = on_device(
        be, cache, face.key, face.image, face.mask, face.labels
    )
    ring_skin = None
    if stage.ring_target(params) and params.color.method in ("sot", "reinhard"):
        ring_skin = _ring_skin(be, face, occluder, params, cache, face_image, face_mask)
    occ_rgb, occ_alpha, occ_key, base = _prepared(be, face, occluder, params, cache, ring_skin)
    placed = _placement(be, face, occ_rgb, occ_alpha, occ_key, params, cache)
    if placed is None:
        raise RenderError("the occluder lies entirely outside the face image", params.face_id)
    region, placed_alpha, full, scale, _ = placed
    label = placed_alpha >= 128
    if not bool(label.any()):
        raise RenderError("the occluder covers no pixel of the face image", params.face_id)
    x0, y0, x1, y1 = region
    prem_src = cache.get(
        ("premultiplied", be.name, occ_key, scale if scale < PRESCALE_BELOW else None),
        lambda: _premultiply(be, *_reduced(be, occ_rgb, occ_alpha, scale, cache, occ_key)[:2]),
    )
    prem = geometry.warp_region(be, prem_src, full, region)
    band = blend.edge_band(be, label, band_radius(face, params))
    pasted = None
    face_roi = face_image[y0:y1, x0:x1]
    if stage.needs_stage(params):
        pasted = stage.paste(
            be, face, face_image, face_mask, region, placed_alpha, label, band, prem, params,
            base, cache,
        )  # fmt: skip
        prem, face_roi = pasted.premultiplied, pasted.face_roi
    b = params.blend
    roi, roi_alpha = blend.composite(
        be,
        face_roi,
        prem,
        placed_alpha,
        label,
        band,
        opacity=b.opacity,
        feather_sigma=b.feather * face.scale,
        edge_blur_sigma=b.edge_blur * face.scale,
    )
    h, w = face.image.shape[:2]
    image = face_image.copy()
    if pasted is not None and pasted.shadow_box is not None:  # the cast shadow
        sx0, sy0, sx1, sy1 = pasted.shadow_box
        image[sy0:sy1, sx0:sx1] = pasted.shadow_pixels
    image[y0:y1, x0:x1] = roi
    occluded = xp.zeros((h, w), bool)
    occluded[y0:y1, x0:x1] = label
    full_alpha = xp.zeros((h, w), np.float32)
    full_alpha[y0:y1, x0:x1] = roi_alpha
    visible_face = face_mask & ~occluded
    labels = None
    if face_labels is not None:
        labels = face_labels.copy()
        labels[occluded] = params.occluder_class
    face_px = int(xp.count_nonzero(face_mask))
    hidden_px = face_px - int(xp.count_nonzero(visible_face))
    rows = xp.flatnonzero(label.any(axis=1))
    cols = xp.flatnonzero(label.any(axis=0))
    stats = {
        "coverage": hidden_px / face_px,
        "face_px": face_px,
        "occluded_px": int(xp.count_nonzero(label)),
        "occluder_bbox": [
            int(cols[0]) + x0,
            int(rows[0]) + y0,
            int(cols[-1]) + x0 + 1,
            int(rows[-1]) + y0 + 1,
        ],
        "region": list(region),
        "scale_px": scale,
    }
    image, visible_face, occluded, full_alpha, labels = augment.augment_image(
        be, params, image, visible_face, occluded, full_alpha, labels
    )
    on = np.uint8(params.mask_max)
    return Result(
        image=image,
        face_mask=visible_face.astype(np.uint8) * on,
        occlusion_mask=occluded.astype(np.uint8) * on,
        alpha=full_alpha,
        labels=labels,
        stats=stats,
    )


def _ring_skin(
    be: Backend,
    face: Face,
    occluder: Occluder | Texture | None,
    params: RenderParams,
    cache: RenderCache,
    face_image: Array,
    face_mask: Array,
) -> np.ndarray | None:
    """The skin ring's colours as the SOT / Reinhard target (host), from the placement of the
    base occluder (colour transfer does not move the shape); None when the ring is too small."""
    occ = base_occluder(be, params, occluder, cache)
    image, alpha = on_device(be, cache, occ.key, occ.image, occ.alpha)
    placed = _placement(be, face, image, alpha, occ.key, params, cache)
    if placed is None:
        return None
    region, placed_alpha = placed[0], placed[1]
    label = placed_alpha >= 128
    band = blend.edge_band(be, label, band_radius(face, params))
    size = stage.occluder_size(be, label)
    ring, _ = stage.ring_of(be, params, face_image, face_mask, region, label, band, size)
    return ring.skin_pixels() if ring.usable else None
