"""Miniature replicas of the folder layouts users have, built on disk for the tests.

Each builder lays files out as the data set is downloaded (names, nesting, stray files,
masks at another resolution), with small procedural images, so the input layer is tested on
what users point it at rather than on folders shaped after the code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np

from studio.core.io.paths import samples
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

SIDE = 128  #: face photos are SIDE x SIDE (1024 in the real data sets)
SAMPLES = samples().root


def _write(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if rgb.ndim == 3 and rgb.shape[2] == 4:
        ok = cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGBA2BGRA))
    elif rgb.ndim == 3:
        ok = cv2.imwrite(str(path), rgb[:, :, ::-1])
    else:
        ok = cv2.imwrite(str(path), rgb)
    assert ok, path


def _half(mask: np.ndarray) -> np.ndarray:
    """A mask stored at half resolution (CelebAMask-HQ's 512 px masks of 1024 px photos)."""
    h, w = mask.shape
    return cv2.resize(mask.astype(np.uint8) * 255, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def reference_dataset(root: Path, faces: int = 4, hands: int = 3, objects: int = 3) -> Path:
    """The reference generator's ``dataset/`` folder as its README lays it out::

        dataset/CelebAMask-HQ-WO-Train_img/{n}.jpg    dataset/CelebAMask-HQ-WO-Train_mask/{n}.png
        dataset/11k-hands_img/Hand_{n:07d}.jpg        dataset/11k-hands_mask/Hand_{n:07d}.png
        dataset/object_image_sr/{id}.jpg              dataset/object_image_x4/{id}.png
        dataset/DTD/images/{class}/{class}_{n:04d}.jpg (+ DTD/labels, DTD/imdb)

    Face masks are at half the photo's resolution, as the paper's masks are (512 vs 1024).
    """
    data = root / "dataset"
    for i in range(faces):
        face = synthetic_face(SIDE, seed=i)
        _write(data / "CelebAMask-HQ-WO-Train_img" / f"{i * 7}.jpg", face.image)
        _write(data / "CelebAMask-HQ-WO-Train_mask" / f"{i * 7}.png", _half(face.mask))
    for i in range(hands):
        hand = synthetic_occluder(SIDE // 2, seed=10 + i)
        _write(data / "11k-hands_img" / f"Hand_{i + 2:07d}.jpg", hand.image)
        _write(data / "11k-hands_mask" / f"Hand_{i + 2:07d}.png", hand.alpha)
    for i in range(objects):
        obj = synthetic_occluder(SIDE // 2, seed=20 + i)
        _write(data / "object_image_sr" / f"{100 + i}.jpg", obj.image)
        big = cv2.resize(obj.alpha, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        _write(data / "object_image_x4" / f"{100 + i}.png", big)
    for cls in ("banded", "dotted"):
        for i in range(2):
            tex = synthetic_texture(64, seed=30 + i + (cls == "dotted") * 5)
            _write(data / "DTD" / "images" / cls / f"{cls}_{i + 1:04d}.jpg", tex.image)
    (data / "DTD" / "labels").mkdir(parents=True)
    labels = data / "DTD" / "labels" / "labels_joint_anno.txt"
    labels.write_text("banded/banded_0001.jpg banded\n")
    (data / "DTD" / "imdb").mkdir()
    (data / "DTD" / "imdb" / "imdb.mat").write_bytes(b"MATLAB 5.0")
    return data


#: CelebAMask-HQ part boxes (x0, y0, x1, y1) at mask resolution (half the photo's side).
PARTS = {
    "skin": (12, 12, 52, 56),
    "nose": (28, 26, 36, 38),
    "l_eye": (18, 22, 26, 26),
    "u_lip": (24, 42, 40, 45),
    "hair": (8, 0, 56, 14),
    "neck": (20, 56, 44, 64),
}


def celebamask_hq(root: Path, numbers: tuple[int, ...] = (0, 1, 2, 2001)) -> Path:
    """CelebAMask-HQ as downloaded::

    CelebAMask-HQ/CelebA-HQ-img/{n}.jpg
    CelebAMask-HQ/CelebAMask-HQ-mask-anno/{n // 2000}/{n:05d}_{part}.png  (half resolution)
    CelebAMask-HQ/CelebAMask-HQ-attribute-anno.txt, CelebA-HQ-to-CelebA-mapping.txt
    """
    base = root / "CelebAMask-HQ"
    half = SIDE // 2
    for n in numbers:
        _write(base / "CelebA-HQ-img" / f"{n}.jpg", synthetic_face(SIDE, seed=40 + n).image)
        for k, (part, (x0, y0, x1, y1)) in enumerate(PARTS.items()):
            mask = np.zeros((half, half), np.uint8)
            mask[y0 + n % 3 : y1, x0 + k % 2 : x1] = 255
            folder = base / "CelebAMask-HQ-mask-anno" / str(n // 2000)
            _write(folder / f"{n:05d}_{part}.png", mask)
    (base / "CelebAMask-HQ-attribute-anno.txt").write_text(f"{len(numbers)}\n")
    (base / "CelebA-HQ-to-CelebA-mapping.txt").write_text("idx orig_idx orig_file\n")
    return base


def image_mask_pair(root: Path, images: str = "images", masks: str = "masks", n: int = 3) -> Path:
    """``root/images`` + ``root/masks`` (or other names), full stems with dots kept."""
    for i in range(n):
        face = synthetic_face(SIDE, seed=60 + i)
        _write(root / images / f"face_{i:02d}.v2.jpg", face.image)
        _write(root / masks / f"face_{i:02d}.v2.png", face.mask.astype(np.uint8) * 255)
    return root


def phone_photos(root: Path, with_non_face: bool = False) -> Path:
    """Real photos without masks, named like a phone's camera roll (the bundled photos);
    ``with_non_face`` adds a photo of a brick wall (no face to find)."""
    folder = root / "DCIM" / "Camera"
    folder.mkdir(parents=True)
    for i, photo in enumerate(sorted((SAMPLES / "faces" / "images").glob("*.jpg"))):
        shutil.copy(photo, folder / f"IMG_20240501_{120000 + i}.jpg")
    if with_non_face:
        shutil.copy(SAMPLES / "textures" / "brick.jpg", folder / "IMG_20240501_130000.jpg")
    return folder


def rgba_cutouts(root: Path, n: int = 3) -> Path:
    """A folder of RGBA PNG cut-outs (the alpha is the shape)."""
    folder = root / "cutouts"
    for i in range(n):
        occ = synthetic_occluder(SIDE // 2, seed=70 + i)
        _write(folder / f"object {i}.png", np.dstack([occ.image, occ.alpha]))
    return folder


def eleven_k_hands_raw(root: Path, n: int = 3) -> Path:
    """11k Hands as downloaded from its site: ``Hands/Hand_*.jpg`` and ``HandInfo.csv``,
    no masks (the paper's masks are a separate download)."""
    folder = root / "Hands"
    for i in range(n):
        _write(folder / f"Hand_{i + 2:07d}.jpg", synthetic_occluder(SIDE, seed=80 + i).image)
    (root / "HandInfo.csv").write_text("id,age,gender,skinColor,accessories,nailPolish,aspect\n")
    return folder


def coco_instances(root: Path) -> Path:
    """COCO as downloaded: ``coco/annotations/instances_val2017.json`` + ``coco/val2017/``,
    with a polygon cup, an RLE-free book, a crowd region and a tiny instance."""
    base = root / "coco"
    image = synthetic_texture(SIDE, seed=90).image
    _write(base / "val2017" / "000000000139.jpg", image)
    cup = [[20, 20, 70, 20, 80, 60, 60, 100, 30, 100, 15, 60]]
    book = [[70, 10, 120, 10, 120, 50, 70, 50]]
    doc = {
        "images": [{"id": 139, "file_name": "000000000139.jpg", "width": SIDE, "height": SIDE}],
        "categories": [{"id": 47, "name": "cup"}, {"id": 84, "name": "book"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 139,
                "category_id": 47,
                "iscrowd": 0,
                "area": 4500.0,
                "bbox": [15, 20, 65, 80],
                "segmentation": cup,
            },
            {
                "id": 2,
                "image_id": 139,
                "category_id": 84,
                "iscrowd": 0,
                "area": 2000.0,
                "bbox": [70, 10, 50, 40],
                "segmentation": book,
            },
            {
                "id": 3,
                "image_id": 139,
                "category_id": 84,
                "iscrowd": 1,
                "area": 3000.0,
                "bbox": [0, 0, 10, 10],
                "segmentation": {"counts": [0, 100], "size": [10, 10]},
            },
            {
                "id": 4,
                "image_id": 139,
                "category_id": 47,
                "iscrowd": 0,
                "area": 20.0,
                "bbox": [0, 0, 4, 5],
                "segmentation": [[0, 0, 4, 0, 4, 5]],
            },
        ],
    }
    (base / "annotations").mkdir(parents=True)
    (base / "annotations" / "instances_val2017.json").write_text(json.dumps(doc))
    return base / "annotations" / "instances_val2017.json"
