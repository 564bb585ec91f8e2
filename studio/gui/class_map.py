"""The class-map view of faces that carry class maps (CelebAMask-HQ parts): each class in one
colour of a fixed palette, the occluder in the accent red, and a legend of the classes shown.
No Qt here but the legend's HTML."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: colours of class ids 0..19 (0, the background, dark); later ids cycle through them
PALETTE = np.array(
    [
        (20, 22, 26), (226, 180, 150), (236, 128, 56), (120, 120, 255), (70, 200, 255),
        (40, 160, 230), (150, 90, 40), (190, 120, 60), (255, 220, 90), (230, 200, 60),
        (200, 40, 120), (250, 90, 160), (180, 30, 90), (110, 70, 40), (90, 200, 120),
        (240, 240, 140), (160, 120, 200), (130, 190, 170), (80, 110, 190), (200, 200, 200),
    ],
    np.uint8,
)  # fmt: skip
OCCLUDER_RGB = (255, 40, 60)


def colour_of(class_id: int, occluder_class: int) -> tuple[int, int, int]:
    if class_id == occluder_class:
        return OCCLUDER_RGB
    r, g, b = PALETTE[class_id % len(PALETTE)]
    return int(r), int(g), int(b)


def colourise(labels: np.ndarray, occluder_class: int, image: np.ndarray | None = None):
    """An RGB picture of a class map (a third of ``image`` shows through, when given, so the
    parts can be matched to the face)."""
    lut = np.array([colour_of(i, occluder_class) for i in range(256)], np.uint8)
    out = lut[labels]
    if image is not None and image.shape[:2] == labels.shape:
        out = (out.astype(np.uint16) * 2 + image.astype(np.uint16)) // 3
    return out.astype(np.uint8)


def legend(
    labels: np.ndarray, occluder_class: int, names: Sequence[str] | None = None
) -> list[tuple[int, str, tuple[int, int, int]]]:
    """(id, name, colour) of each class present in ``labels``, by id."""
    present = np.flatnonzero(np.bincount(labels.ravel(), minlength=256))
    out = []
    for class_id in present.tolist():
        if class_id == occluder_class:
            name = "occluder"
        elif names is not None and class_id < len(names):
            name = names[class_id]
        else:
            name = f"class {class_id}"
        out.append((class_id, name, colour_of(class_id, occluder_class)))
    return out


def legend_html(entries: list[tuple[int, str, tuple[int, int, int]]]) -> str:
    """The legend as rich text: a colour swatch, the id and the name per line."""
    rows = "".join(
        f"<tr><td style='background:rgb{rgb};'>&nbsp;&nbsp;&nbsp;&nbsp;</td>"
        f"<td>&nbsp;{class_id}&nbsp;</td><td>{name}</td></tr>"
        for class_id, name, rgb in entries
    )
    return f"<table cellspacing='1'>{rows}</table>"
