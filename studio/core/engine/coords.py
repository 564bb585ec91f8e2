"""Coordinates of a sample on a face: face-bbox-relative centres and pixels, scales, radii.

Parameters keep positions relative to the face bbox (``center_rel``) and sizes relative to the
face (``area_ratio``), so one sample renders the same at any resolution of the face image
(``face.scale``): the preview, the export and the studio's canvas all convert here.
"""

from __future__ import annotations

import math

from studio.core.model.inputs import Face
from studio.core.model.params import RenderParams


def center_pixels(face: Face, center_rel: tuple[float, float]) -> tuple[float, float]:
    """Face-bbox-relative coordinates to pixels of this face image."""
    x0, y0, x1, y1 = face.bbox
    return x0 + center_rel[0] * (x1 - x0), y0 + center_rel[1] * (y1 - y0)


def relative_center(face: Face, center_px: tuple[float, float]) -> tuple[float, float]:
    """Pixels of this face image to face-bbox-relative coordinates."""
    x0, y0, x1, y1 = face.bbox
    return (center_px[0] - x0) / max(x1 - x0, 1e-9), (center_px[1] - y0) / max(y1 - y0, 1e-9)


def pixel_scale(face: Face, occluder_size: tuple[int, int], params: RenderParams) -> float:
    """Linear scale from occluder pixels to face pixels (before the augmentation's scale)."""
    w, h = occluder_size
    return math.sqrt(params.area_ratio * face.bbox_area / float(w * h))


def band_radius(face: Face, params: RenderParams, size: float = 0.0) -> int:
    """The edge band's half-width in pixels of this face image (``size``: the placed
    occluder's, :func:`nominal_size`; used when the band is relative to it)."""
    return edge_sizes(face, params, size)[0]


def edge_sizes(face: Face, params: RenderParams, size: float) -> tuple[int, float, float]:
    """The edge band's half-width, the feather's and the edge blur's sigmas, in pixels of this
    face image: the preset's native pixels, or (``blend.relative_to`` > 0) scaled with the
    placed occluder's ``size`` (:func:`nominal_size`), the band at least one pixel."""
    b = params.blend
    k = face.scale if b.relative_to <= 0 else size / b.relative_to
    return max(1, round(b.band * k)), b.feather * k, b.edge_blur * k


def nominal_size(occluder_size: tuple[int, int], scale: float) -> float:
    """Size in pixels of a placed occluder before rotation: the geometric mean of its
    (label-cropped) sides times the placement's ``scale``; the same whatever the angle."""
    w, h = occluder_size
    return math.sqrt(w * h) * scale
