"""The canvas's view modes: what a preview frame looks like in each (no Qt here).

The masks shown are the engine's labels, so what is seen is what the export writes: the face
and occlusion masks tinted over the composite, the alpha, the before/after split, the same
sample without harmonisation (:data:`RAW_PASTE`, a render of its own) and, for faces that carry
class maps, the label map (:data:`CLASS_MAP`, :mod:`studio.gui.class_map`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from studio.core.io.contact_sheet import FACE_COLOUR, OCCLUDER_COLOUR, tint
from studio.gui.class_map import colourise

if TYPE_CHECKING:
    from studio.gui.preview import PreviewFrame

RAW_PASTE = "Raw paste"  #: the same sample without harmonisation (flip with Composite)
CLASS_MAP = "Class map"  #: the label map the export writes, for faces that carry class maps
VIEW_MODES = (
    "Composite", "Before / after", "Face mask", "Occlusion mask", "Alpha", RAW_PASTE, CLASS_MAP
)  # fmt: skip


def split_column(frame: PreviewFrame, split: float) -> int:
    """The column of ``frame``'s image where the before/after divider at ``split`` (a
    fraction of the whole image's width) falls (a region frame starts at its region)."""
    full_w = frame.request.face.size[0]
    x0 = frame.request.region[0] if frame.request.region is not None else 0
    width = frame.result.image.shape[1] if frame.result is not None else full_w
    return int(np.clip(round(split * full_w) - x0, 0, width))


def compose_view(frame: PreviewFrame, mode: str, split: float = 0.5) -> np.ndarray:
    """The picture shown for ``frame`` in view ``mode`` (masks are the engine's labels);
    "Before / after" shows the face left of ``split`` (a fraction of the width). In
    :data:`RAW_PASTE` the frame itself was rendered without harmonisation."""
    before = frame.before if frame.before is not None else frame.request.face.image
    result = frame.result
    if result is None:
        return before
    if mode == "Before / after":
        out = result.image.copy()
        cut = split_column(frame, split)
        if before.shape == out.shape:
            out[:, :cut] = before[:, :cut]
        return out
    if mode == "Face mask":
        return tint(result.image, result.face_mask, FACE_COLOUR)
    if mode == "Occlusion mask":
        return tint(result.image, result.occlusion_mask, OCCLUDER_COLOUR)
    if mode == "Alpha":
        return (np.clip(result.alpha, 0.0, 1.0) * 255).astype(np.uint8)
    if mode == CLASS_MAP and result.labels is not None:
        return colourise(result.labels, frame.request.params.occluder_class, result.image)
    return result.image
