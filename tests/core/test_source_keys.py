"""Folder sources key their items by file identity, so caches never hash decoded pixels."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from studio.core.engine.cache import RenderCache
from studio.core.engine.render import render
from studio.core.model.params import ColorParams, RenderParams
from studio.core.sources.base import FolderFaceSource, FolderOccluderSource


def _write_face(root: Path, name: str, value: int) -> None:
    (root / "faces").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "faces" / f"{name}.png"), np.full((64, 64, 3), value, np.uint8))
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    cv2.imwrite(str(root / "masks" / f"{name}.png"), mask)


def test_keys_are_stable_distinct_and_follow_rewrites(tmp_path: Path) -> None:
    _write_face(tmp_path, "a", 100)
    _write_face(tmp_path, "b", 100)  # same pixels, other file
    source = FolderFaceSource(tmp_path / "faces", tmp_path / "masks")
    a1, a2, b = source.load("a.png"), source.load("a.png"), source.load("b.png")
    assert a1.key == a2.key and a1.key != b.key
    assert a1.key.startswith("file|")
    path = tmp_path / "faces" / "a.png"
    cv2.imwrite(str(path), np.full((64, 64, 3), 200, np.uint8))
    os.utime(path, ns=(1, 1))  # a rewrite changes the size or the time
    assert source.load("a.png").key != a1.key


def test_a_rewritten_face_is_not_served_from_the_cache(tmp_path: Path) -> None:
    _write_face(tmp_path, "a", 100)
    (tmp_path / "occ").mkdir()
    rgba = np.dstack([np.full((20, 20, 3), 30, np.uint8), np.full((20, 20), 255, np.uint8)])
    cv2.imwrite(str(tmp_path / "occ" / "o.png"), rgba)
    faces = FolderFaceSource(tmp_path / "faces", tmp_path / "masks")
    occluder = FolderOccluderSource(tmp_path / "occ").load("o.png")
    params = RenderParams(area_ratio=0.2, color=ColorParams(method="reinhard"))
    cache = RenderCache()
    first = render(faces.load("a.png"), occluder, params, cache=cache)
    _write_face(tmp_path, "a", 180)
    os.utime(tmp_path / "faces" / "a.png", ns=(2, 2))
    second = render(faces.load("a.png"), occluder, params, cache=cache)
    assert not np.array_equal(first.image, second.image)
