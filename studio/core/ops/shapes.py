"""RandOcc shapes: smooth closed Bezier curves through random points, filled with a texture.

Each control point gets a tangent that blends the smooth direction (the mean of its incoming
and outgoing edges) with the edge directions themselves (``edginess``); ``roundness`` sets how
far the cubic handles reach along the tangents.
"""

from __future__ import annotations

import cv2
import numpy as np

from studio.core.model.inputs import Occluder, Texture
from studio.core.model.params import ShapeParams
from studio.core.ops.backend import polygon_coverage

SEGMENT_SAMPLES = 24
MARGIN = 0.02  # fraction of the canvas kept free around the shape


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


def bezier_outline(
    points: np.ndarray, roundness: float, edginess: float, samples: int = SEGMENT_SAMPLES
) -> np.ndarray:
    """Closed outline (K x 2, first point repeated last) of the shape through ``points``."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2:
        raise ValueError("a shape needs at least 3 points (N x 2)")
    centre = pts.mean(axis=0)
    order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]), kind="stable")
    pts = pts[order]
    nxt = np.roll(pts, -1, axis=0)
    edges = nxt - pts  # edge i goes from point i to point i+1
    lengths = np.linalg.norm(edges, axis=1)
    u_out = _unit(edges)
    u_in = np.roll(u_out, 1, axis=0)
    smooth = _unit(u_in + u_out)
    smooth = np.where(np.linalg.norm(smooth, axis=1, keepdims=True) > 0, smooth, u_out)
    t_out = _unit((1 - edginess) * smooth + edginess * u_out)
    t_in = _unit((1 - edginess) * smooth + edginess * u_in)
    reach = 0.5 * roundness * lengths
    c1 = pts + t_out * reach[:, None]
    c2 = nxt - np.roll(t_in, -1, axis=0) * reach[:, None]
    t = np.linspace(0.0, 1.0, samples, endpoint=False)[None, :, None]
    p0, p1, p2, p3 = (a[:, None, :] for a in (pts, c1, c2, nxt))
    curve = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    outline = curve.reshape(-1, 2)
    return np.vstack([outline, outline[:1]])


def shape_polygon(shape: ShapeParams) -> np.ndarray:
    """The outline fitted, aspect kept, into the ``shape.canvas`` square (pixel coordinates)."""
    outline = bezier_outline(np.asarray(shape.points), shape.roundness, shape.edginess)
    lo, hi = outline.min(axis=0), outline.max(axis=0)
    extent = float(max(hi - lo))
    if extent <= 1e-9:
        raise ValueError("shape points are all identical")
    usable = shape.canvas * (1 - 2 * MARGIN) - 1
    scaled = (outline - lo) * (usable / extent)
    offset = (shape.canvas - 1 - (hi - lo) * (usable / extent)) / 2.0
    return scaled + offset


def _cover(image: np.ndarray, side: int) -> np.ndarray:
    """Centre square crop of ``image`` resized to ``side`` x ``side``."""
    h, w = image.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    crop = image[y0 : y0 + s, x0 : x0 + s]
    interp = cv2.INTER_AREA if s > side else cv2.INTER_LINEAR
    return cv2.resize(crop, (side, side), interpolation=interp)


def shape_alpha(shape: ShapeParams) -> np.ndarray:
    """The shape's anti-aliased alpha (uint8, ``shape.canvas`` square), rasterised on the host
    with OpenCV for every backend (sampling checks coverage on exactly this raster)."""
    coverage = polygon_coverage((shape.canvas, shape.canvas), shape_polygon(shape))
    return np.clip(np.rint(coverage * 255.0), 0, 255).astype(np.uint8)


def shape_occluder(
    shape: ShapeParams,
    texture: Texture | None,
    occluder_id: str = "shape",
    alpha: np.ndarray | None = None,
) -> Occluder:
    """Build the RandOcc occluder: the shape's alpha (``alpha`` when already rasterised)
    filled with the texture or a flat colour."""
    if alpha is None:
        alpha = shape_alpha(shape)
    if texture is not None:
        rgb = _cover(texture.image, shape.canvas)
    else:
        fill = shape.fill_rgb if shape.fill_rgb is not None else (128, 128, 128)
        rgb = np.empty((shape.canvas, shape.canvas, 3), np.uint8)
        rgb[:] = np.asarray(fill, np.uint8)
    key = f"shape|{shape!r}|{None if texture is None else texture.key}"
    return Occluder(rgb, alpha, id=occluder_id, kind="shape", up="up", _key=key)


def drop_fragments(alpha: np.ndarray, share: float) -> tuple[np.ndarray, int]:
    """``alpha`` (uint8, host) without the parts of its label (alpha >= 128, 8-connected)
    smaller than ``share`` of the largest part, their soft rim (alpha > 0 connected to them
    only) included; and how many label pixels went. Nothing changes when nothing is that
    small."""
    label = (alpha >= 128).astype(np.uint8)
    count, parts, stats, _ = cv2.connectedComponentsWithStats(label, connectivity=8)
    if count <= 2:  # the background and one part
        return alpha, 0
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = np.flatnonzero(areas < share * areas.max()) + 1
    if small.size == 0:
        return alpha, 0
    # each soft pixel (0 < alpha < 128) belongs to the part of the label nearest to it
    soft = alpha > 0
    _, near = cv2.distanceTransformWithLabels(
        (parts == 0).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    seeds = np.zeros(int(near.max()) + 1, np.int32)
    ys, xs = np.nonzero(parts)
    seeds[near[ys, xs]] = parts[ys, xs]
    owner = seeds[near]
    gone = soft & np.isin(owner, small)
    out = alpha.copy()
    out[gone] = 0
    return out, int(areas[small - 1].sum())
