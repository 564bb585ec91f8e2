"""CelebAMask-HQ: ``CelebA-HQ-img/<n>.jpg`` + ``CelebAMask-HQ-mask-anno/<k>/<n:05d>_<part>.png``.

Each face gets the binary face mask of the paper (the union of :data:`FACE_PARTS`) and the
multi-class label map of the data set's own class list (:data:`CLASSES`, id = position, 0 =
background; later parts are painted over earlier ones, as the data set's own script does).
The occluder becomes one more class in exported label maps: ``RenderParams.occluder_class``,
by default 255; use ``len(CLASSES)`` (19) for a dense id.

Part masks are 512x512 while the photos are 1024x1024: they are resized with nearest neighbour.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from studio.core.io import imageio
from studio.core.io.paths import file_key
from studio.core.model.errors import InputError
from studio.core.model.inputs import Face
from studio.core.model.spec import EngineSpec
from studio.core.sources.base import Problem, SourceReport, check_report

IMAGES_DIR = "CelebA-HQ-img"
ANNO_DIR = "CelebAMask-HQ-mask-anno"

#: Class ids of the label map (CelebAMask-HQ's own order; 0 is background).
CLASSES: tuple[str, ...] = (
    "background",
    "skin",
    "nose",
    "eye_g",
    "l_eye",
    "r_eye",
    "l_brow",
    "r_brow",
    "l_ear",
    "r_ear",
    "mouth",
    "u_lip",
    "l_lip",
    "hair",
    "hat",
    "ear_r",
    "neck_l",
    "neck",
    "cloth",
)
#: Parts whose union is the binary face mask (forehead to chin, no hair, ears, neck, hat):
#: skin to the brows, and mouth and lips.
FACE_PARTS: tuple[str, ...] = CLASSES[1:8] + CLASSES[10:13]
#: A dense id for the occluder class: one more than the last data-set class.
OCCLUDER_CLASS = len(CLASSES)

_PART_FILE = re.compile(r"^(\d+)_([a-z_]+)\.png$")


def is_celebamask(root: Path) -> bool:
    return (Path(root) / IMAGES_DIR).is_dir() and (Path(root) / ANNO_DIR).is_dir()


class CelebAMaskSource:
    """Faces of a CelebAMask-HQ folder, with binary face mask and ``Face.labels``."""

    layout = "celebamask-hq"
    has_labels = True
    classes = CLASSES  #: the names of the class ids of ``Face.labels``

    def __init__(self, root: str | Path, face_parts: tuple[str, ...] = FACE_PARTS) -> None:
        self.root = Path(root)
        unknown = [p for p in face_parts if p not in CLASSES[1:]]
        if unknown:
            raise InputError(f"unknown CelebAMask-HQ part(s): {', '.join(unknown)}")
        if not is_celebamask(self.root):
            raise InputError(
                f"not a CelebAMask-HQ folder (needs {IMAGES_DIR}/ and {ANNO_DIR}/)", self.root
            )
        self.face_parts = face_parts
        self._parts: dict[int, dict[str, Path]] | None = None
        self._ids: list[str] | None = None
        self._problems: list[Problem] = []

    def _scan_parts(self) -> dict[int, dict[str, Path]]:
        if self._parts is None:
            parts: dict[int, dict[str, Path]] = {}
            anno = self.root / ANNO_DIR
            for dirpath, _dirs, files in os.walk(anno):
                for name in files:
                    match = _PART_FILE.match(name)
                    if match and match.group(2) in CLASSES:
                        parts.setdefault(int(match.group(1)), {})[match.group(2)] = Path(
                            dirpath, name
                        )
            self._parts = parts
        return self._parts

    def ids(self) -> list[str]:
        if self._ids is None:
            parts = self._scan_parts()
            ids, problems = [], []
            with os.scandir(self.root / IMAGES_DIR) as entries:
                names = sorted(e.name for e in entries if imageio.is_image_name(e.name))
            numbered = []
            for name in names:
                stem = name.rsplit(".", 1)[0]
                if not stem.isdigit():
                    problems.append(
                        Problem(
                            str(self.root / IMAGES_DIR / name),
                            "not a CelebA-HQ number (expected <n>.jpg)",
                        )
                    )
                    continue
                numbered.append((int(stem), name))
            for number, name in sorted(numbered):
                found = parts.get(number, {})
                if not any(p in found for p in self.face_parts):
                    problems.append(
                        Problem(
                            str(self.root / IMAGES_DIR / name),
                            f"no face-part masks {number:05d}_*.png in {ANNO_DIR}",
                        )
                    )
                    continue
                ids.append(name)
            self._ids, self._problems = ids, problems
        return self._ids

    def path_of(self, item_id: str) -> str:
        return str(self.root / IMAGES_DIR / item_id)

    def load(self, item_id: str) -> Face:
        path = self.root / IMAGES_DIR / item_id
        number = int(item_id.rsplit(".", 1)[0]) if item_id.rsplit(".", 1)[0].isdigit() else -1
        found = self._scan_parts().get(number, {})
        if not any(p in found for p in self.face_parts):
            raise InputError(f"no face-part masks {number:05d}_*.png in {ANNO_DIR}", path)
        image = imageio.read_image(path)
        shape = image.shape[:2]
        labels = np.zeros(shape, np.uint8)
        for class_id, name in enumerate(CLASSES):
            if name in found:
                part = imageio.read_mask(found[name], shape=shape, resize=True)
                labels[part] = class_id
        face_ids = [CLASSES.index(p) for p in self.face_parts]
        mask = np.isin(labels, face_ids)
        if not mask.any():
            raise InputError("face mask is empty (no face-part pixels)", path)
        try:
            key = file_key(path, str(self.face_parts), *sorted(found.values()))
            return Face(image, mask, id=item_id, labels=labels, _key=key)
        except InputError as err:
            raise InputError(err.reason, path) from err

    def report(self, check: bool = False) -> SourceReport:
        ids = self.ids()
        details = {
            "classes": {i: name for i, name in enumerate(CLASSES)},
            "occluder_class": (
                f"{EngineSpec.model_fields['occluder_class'].default} in exported label maps "
                f"(the preset's occluder_class; {OCCLUDER_CLASS} would be the dense id)"
            ),
            "face_parts": list(self.face_parts),
        }
        return check_report(
            self.layout, self.root, ids, self._problems, self.load if check else None, details
        )
