"""Contact sheets: a grid of rendered samples with their labels overlaid, for a quick look.

The one way labels are shown over an image (the contact sheets, the report's thumbnails, the
studio's mask views): :func:`tint` in the label colours and :func:`overlay`
(:func:`studio.core.export.sheet.labels_view` for an exported sample, read through its
export folder).
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_COLOUR = (40, 255, 40)  #: the visible face mask: green
OCCLUDER_COLOUR = (255, 40, 40)  #: the occluder label: red


def tint(
    image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int], strength: float = 0.5
) -> np.ndarray:
    """``image`` with the pixels of ``mask`` moved ``strength`` of the way to ``colour``."""
    shown = image.astype(np.float32)
    on = mask > 0
    shown[on] = (1 - strength) * shown[on] + strength * np.asarray(colour, np.float32)
    return np.clip(shown + 0.5, 0, 255).astype(np.uint8)


def overlay(
    image: np.ndarray,
    face_mask: np.ndarray,
    occlusion_mask: np.ndarray | None,
    strength: float = 0.5,
    line: int = 1,
) -> np.ndarray:
    """The image with the occluder label tinted red and the visible face mask outlined in
    green (``line`` pixels wide): the labels, not the pixels, are what is shown."""
    out = (
        image.copy()
        if occlusion_mask is None
        else tint(image, occlusion_mask, OCCLUDER_COLOUR, strength)
    )
    face = (face_mask > 0).astype(np.uint8)
    contours, _ = cv2.findContours(face, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, FACE_COLOUR, max(1, line))
    return out


def fit_tile(image: np.ndarray, side: int) -> np.ndarray:
    """Letterbox ``image`` into a ``side`` x ``side`` square."""
    h, w = image.shape[:2]
    f = side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    tile = np.full((side, side, 3), 24, np.uint8)
    y0, x0 = (side - size[1]) // 2, (side - size[0]) // 2
    tile[y0 : y0 + size[1], x0 : x0 + size[0]] = small
    return tile


def contact_sheet(tiles: list[np.ndarray], columns: int = 4, gap: int = 4) -> np.ndarray:
    """Lay equal-sized RGB tiles out in a grid."""
    if not tiles:
        raise ValueError("no tiles")
    th, tw = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (th + gap) + gap, columns * (tw + gap) + gap, 3), 12, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = gap + r * (th + gap), gap + c * (tw + gap)
        sheet[y : y + th, x : x + tw] = tile
    return sheet
