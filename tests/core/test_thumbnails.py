"""Thumbnails of source items: made from the image file alone for faces, cached on disk by file
identity (a rewritten file or mask gets a new one), reduced JPEG decoding with the reader's
checks."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PIL import Image

from studio.core.io import imageio
from studio.core.io.thumbnails import ThumbnailStore, cache_dir, cached_thumbnail, identity
from studio.core.model.errors import InputError
from studio.core.sources import open_source
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))


def write_pair(root, n=3, size=200):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        face = synthetic_face(size, seed=i)
        cv2.imwrite(str(root / "images" / f"f{i}.jpg"), face.image[:, :, ::-1])
        cv2.imwrite(str(root / "masks" / f"f{i}.png"), face.mask.astype(np.uint8) * 255)
    return root


def test_read_thumbnail_fits_the_side_and_keeps_the_picture(tmp_path):
    face = synthetic_face(640, seed=4)
    path = tmp_path / "wide.jpg"
    wide = np.ascontiguousarray(np.concatenate([face.image, face.image[:, :320]], axis=1))
    cv2.imwrite(str(path), wide[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    small = imageio.read_thumbnail(path, 84)
    assert small.shape == (56, 84, 3)
    expected = cv2.resize(wide, (84, 56), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - expected.astype(int)).mean() < 6
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), face.image[:40, :50, ::-1])
    assert imageio.read_thumbnail(tiny, 84).shape == (40, 50, 3)  # never enlarged


def test_read_thumbnail_applies_exif_orientation_and_refuses_damaged_files(tmp_path):
    path = tmp_path / "rotated.jpg"
    image = Image.fromarray(np.full((100, 300, 3), 128, np.uint8))
    exif = Image.Exif()
    exif[imageio.EXIF_ORIENTATION] = 6  # rotate 90: stored landscape, shown portrait
    image.save(path, exif=exif)
    assert imageio.read_thumbnail(path, 84).shape == (84, 28, 3)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match="truncated"):
        imageio.read_thumbnail(cut, 84)


def test_face_thumbnails_come_from_the_image_file_alone(tmp_path):
    source = open_source(write_pair(tmp_path / "pair"), "faces")
    (tmp_path / "pair" / "masks" / "f1.png").write_bytes(b"not a mask")
    image, hit = cached_thumbnail(source, "faces", "f1.jpg", 84, ThumbnailStore())
    assert image.shape == (84, 84, 3) and not hit  # the damaged mask is not read for it


def test_the_cache_is_hit_on_a_second_opening_and_missed_after_a_rewrite(tmp_path):
    root = write_pair(tmp_path / "pair")
    store = ThumbnailStore()
    first = open_source(root, "faces")
    made = [cached_thumbnail(first, "faces", i, 84, store) for i in first.ids()]
    assert [hit for _, hit in made] == [False, False, False]
    assert store.folder == cache_dir() and len(list(cache_dir().rglob("*.jpg"))) == 3
    again = open_source(root, "faces")
    read = [cached_thumbnail(again, "faces", i, 84, store) for i in again.ids()]
    assert [hit for _, hit in read] == [True, True, True]
    for (a, _), (b, _) in zip(made, read, strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3  # JPEG in the cache
    other = synthetic_face(200, seed=9)
    cv2.imwrite(str(root / "images" / "f0.jpg"), other.image[:, :, ::-1])
    st = (root / "images" / "f0.jpg").stat()
    os.utime(root / "images" / "f0.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    image, hit = cached_thumbnail(again, "faces", "f0.jpg", 84, store)
    expected = cv2.resize(other.image, (84, 84), interpolation=cv2.INTER_AREA)
    assert not hit and np.abs(image.astype(int) - expected.astype(int)).mean() < 6
    assert identity(again, "faces", "f0.jpg", 84) != identity(again, "faces", "f0.jpg", 168)


def test_an_occluder_thumbnail_follows_its_mask(tmp_path):
    (tmp_path / "occ_img").mkdir()
    (tmp_path / "occ_mask").mkdir()
    occ = synthetic_occluder(120, seed=2)
    cv2.imwrite(str(tmp_path / "occ_img" / "h.jpg"), occ.image[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "occ_mask" / "h.png"), occ.alpha)
    source = open_source(tmp_path / "occ_img", "occluders")
    before = identity(source, "occluders", "h.jpg", 84)
    thumb, _ = cached_thumbnail(source, "occluders", "h.jpg", 84, ThumbnailStore())
    assert thumb.shape[2] == 3 and max(thumb.shape[:2]) == 84
    full = np.zeros_like(occ.alpha)
    full[10:-10, 10:-10] = 255
    cv2.imwrite(str(tmp_path / "occ_mask" / "h.png"), full)
    st = (tmp_path / "occ_mask" / "h.png").stat()
    os.utime(tmp_path / "occ_mask" / "h.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert identity(source, "occluders", "h.jpg", 84) != before


class Procedural:
    """A source of procedural faces: no files (like the studio's built-in samples)."""

    def ids(self):
        return ["synthetic-face-0"]

    def load(self, item_id):
        return synthetic_face(128, seed=0)


def test_items_without_files_are_made_but_not_cached():
    faces = Procedural()
    assert identity(faces, "faces", "synthetic-face-0", 84) is None
    image, hit = cached_thumbnail(faces, "faces", "synthetic-face-0", 84, ThumbnailStore())
    assert image.shape == (84, 84, 3) and not hit
    assert not cache_dir().exists()
