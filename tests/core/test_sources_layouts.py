"""Each source layout on tiny generated folders: ids, loading, labels, problems."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from badcorpus import ellipse_mask, face_image, jpeg_bytes, png_bytes

from studio.core.model.errors import InputError
from studio.core.model.inputs import mask_bbox
from studio.core.sources import open_source
from studio.core.sources.base import (
    FolderFaceSource,
    FolderOccluderSource,
    TextureFolder,
    scan_images,
)
from studio.core.sources.celebamask import CLASSES, OCCLUDER_CLASS, CelebAMaskSource
from studio.core.sources.coco import CocoOccluderSource, _rle_from_string, rle_decode


def _part(h: int, w: int, box: tuple[int, int, int, int]) -> bytes:
    mask = np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return png_bytes(mask)


@pytest.fixture
def celeba(tmp_path: Path) -> Path:
    root = tmp_path / "CelebAMask-HQ"
    (root / "CelebA-HQ-img").mkdir(parents=True)
    for k in ("0", "1"):
        (root / "CelebAMask-HQ-mask-anno" / k).mkdir(parents=True)
    # photos at 64x64, part masks at 32x32 (half, like 1024 vs 512)
    for n in (0, 1, 2000):
        (root / "CelebA-HQ-img" / f"{n}.jpg").write_bytes(jpeg_bytes(face_image(64, 64, n)))
    anno0 = root / "CelebAMask-HQ-mask-anno" / "0"
    anno0.joinpath("00000_skin.png").write_bytes(_part(32, 32, (8, 8, 24, 28)))
    anno0.joinpath("00000_nose.png").write_bytes(_part(32, 32, (14, 14, 18, 20)))
    anno0.joinpath("00000_hair.png").write_bytes(_part(32, 32, (4, 0, 28, 8)))
    anno0.joinpath("00000_cloth.png").write_bytes(_part(32, 32, (0, 28, 32, 32)))
    # 1.jpg has only hair: no face part -> problem; 2000 is in folder 1
    anno0.joinpath("00001_hair.png").write_bytes(_part(32, 32, (0, 0, 32, 10)))
    anno1 = root / "CelebAMask-HQ-mask-anno" / "1"
    anno1.joinpath("02000_skin.png").write_bytes(_part(32, 32, (4, 4, 20, 20)))
    return root


def test_celebamask_labels_and_face_mask(celeba: Path) -> None:
    source = CelebAMaskSource(celeba)
    assert source.ids() == ["0.jpg", "2000.jpg"]
    face = source.load("0.jpg")
    assert face.image.shape == (64, 64, 3)
    labels = face.labels
    assert labels is not None and labels.shape == (64, 64)
    # masks resized x2 with nearest: skin box 16..48 x 16..56, nose painted over it
    assert labels[20, 20] == CLASSES.index("skin")
    assert labels[30, 30] == CLASSES.index("nose")
    assert labels[2, 20] == CLASSES.index("hair")
    assert labels[60, 5] == CLASSES.index("cloth")
    assert labels[10, 2] == 0
    assert face.mask[20, 20] and face.mask[30, 30]
    assert not face.mask[2, 20] and not face.mask[60, 5]
    assert face.mask.sum() == 32 * 40  # skin + nose, nothing else
    assert set(np.unique(labels)) <= set(range(len(CLASSES)))
    assert OCCLUDER_CLASS == len(CLASSES) == 19
    report = source.report()
    assert report.count == 2
    assert [Path(p.path).name for p in report.problems] == ["1.jpg"]
    assert "no face-part masks 00001_" in report.problems[0].reason
    assert isinstance(open_source(celeba), CelebAMaskSource)


def test_celebamask_render_keeps_classes(celeba: Path) -> None:
    from studio.core.engine.render import render
    from studio.core.engine.sample import sample
    from studio.core.model.spec import EngineSpec
    from studio.core.sources.synthetic import synthetic_occluder

    face = CelebAMaskSource(celeba).load("0.jpg")
    occ = synthetic_occluder()
    params = sample(EngineSpec(), np.random.default_rng(1), face, occ, None)
    result = render(face, occ, params)
    assert result.labels is not None
    occluded = result.occlusion_mask > 0
    assert (result.labels[occluded] == params.occluder_class).all()
    assert (result.labels[~occluded] < len(CLASSES)).all()


def test_folder_faces_match_full_stem_in_subfolders(tmp_path: Path) -> None:
    faces, masks = tmp_path / "images", tmp_path / "masks"
    (faces / "a").mkdir(parents=True)
    (masks / "a").mkdir(parents=True)
    (faces / "a" / "face_01.v2.jpg").write_bytes(jpeg_bytes(face_image()))
    (masks / "a" / "face_01.v2.png").write_bytes(png_bytes(ellipse_mask()))
    (masks / "a" / "face_01.png").write_bytes(png_bytes(np.zeros((64, 48), np.uint8)))
    (faces / "a" / "face_01.jpg").write_bytes(jpeg_bytes(face_image()))
    (faces / "lonely.jpg").write_bytes(jpeg_bytes(face_image()))
    source = open_source(tmp_path)
    assert isinstance(source, FolderFaceSource)
    assert source.ids() == ["a/face_01.jpg", "a/face_01.v2.jpg"]
    assert source.load("a/face_01.v2.jpg").mask.sum() == (ellipse_mask() > 0).sum()
    with pytest.raises(InputError, match="empty"):
        source.load("a/face_01.jpg")
    report = source.report(check=True)
    assert report.count == 1
    reasons = sorted(p.reason for p in report.problems)
    assert any("no mask named lonely.*" in r for r in reasons)
    assert any("empty" in r for r in reasons)
    # pointing at the images/ folder itself finds its masks/ sibling (no automatic masks)
    direct = open_source(faces)
    assert isinstance(direct, FolderFaceSource) and direct.masks == masks
    assert direct.ids() == source.ids()


def test_occluders_with_masks_and_metadata(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    (tmp_path / "images" / "hand_1.jpg").write_bytes(jpeg_bytes(face_image()))
    (tmp_path / "masks" / "hand_1.png").write_bytes(png_bytes(ellipse_mask()))
    source = open_source(tmp_path, "occluders", kind="hand", up="left")
    assert isinstance(source, FolderOccluderSource)
    occ = source.load("hand_1.jpg")
    assert (occ.kind, occ.up) == ("hand", "left")
    x0, y0, x1, y1 = mask_bbox(ellipse_mask() > 0)
    assert occ.size == (x1 - x0, y1 - y0)  # cropped to the ellipse's bbox
    assert source.report().details == {
        "kind": "hand",
        "up": "left",
        "masks": str(tmp_path / "masks"),
        "resize_masks": False,
    }
    with pytest.raises(InputError, match="kind"):
        FolderOccluderSource(tmp_path, kind="shoe")


def test_textures_any_tree(tmp_path: Path) -> None:
    (tmp_path / "banded").mkdir()
    (tmp_path / "dotted" / "deeper").mkdir(parents=True)
    (tmp_path / "banded" / "b_0001.jpg").write_bytes(jpeg_bytes(face_image(20, 20)))
    (tmp_path / "dotted" / "deeper" / "d.png").write_bytes(png_bytes(face_image(20, 20)))
    (tmp_path / "dotted" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    source = TextureFolder(tmp_path)
    assert source.ids() == ["banded/b_0001.jpg", "dotted/broken.png", "dotted/deeper/d.png"]
    report = source.report(check=True)
    assert report.count == 2
    assert [p.reason for p in report.problems] == ["damaged PNG (the header cannot be read)"]


def _coco_rle_encode(mask: np.ndarray) -> list[int]:
    flat = mask.T.ravel().astype(np.uint8)
    runs, current, count = [], 0, 0
    for v in flat:
        if v == current:
            count += 1
        else:
            runs.append(count)
            current, count = v, 1
    runs.append(count)
    return runs


def _coco_rle_string(runs: list[int]) -> str:
    """Compress counts the way the COCO API does (written from its format description)."""
    out = []
    for i, value in enumerate(runs):
        x = value - runs[i - 2] if i > 2 else value
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = not ((c & 0x10 == 0 and x == 0) or (c & 0x10 and x == -1))
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def test_rle_decoding_round_trip() -> None:
    rng = np.random.default_rng(3)
    mask = np.zeros((23, 31), bool)
    mask[5:15, 3:20] = True
    mask[rng.random(mask.shape) < 0.05] = True
    runs = _coco_rle_encode(mask)
    assert (rle_decode(runs, 23, 31) == mask).all()
    assert _rle_from_string(_coco_rle_string(runs)) == runs
    assert (rle_decode(_coco_rle_string(runs), 23, 31) == mask).all()
    with pytest.raises(ValueError, match="sum"):
        rle_decode([3, 4], 23, 31)


@pytest.fixture
def coco(tmp_path: Path) -> Path:
    (tmp_path / "val2017").mkdir()
    (tmp_path / "annotations").mkdir()
    img = np.zeros((60, 80, 3), np.uint8)
    img[10:30, 10:40] = (255, 0, 0)
    img[35:55, 50:75] = (0, 255, 0)
    (tmp_path / "val2017" / "000001.png").write_bytes(png_bytes(img))
    rle_mask = np.zeros((60, 80), bool)
    rle_mask[35:55, 50:75] = True
    data = {
        "images": [
            {"id": 1, "file_name": "000001.png", "width": 80, "height": 60},
            {"id": 2, "file_name": "missing.png", "width": 80, "height": 60},
        ],
        "categories": [{"id": 1, "name": "cup"}, {"id": 2, "name": "book"}],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": 600.0,
                "bbox": [10, 10, 30, 20],
                "segmentation": [[10, 10, 40, 10, 40, 30, 10, 30]],
            },
            {
                "id": 11,
                "image_id": 1,
                "category_id": 2,
                "iscrowd": 0,
                "area": 500.0,
                "bbox": [50, 35, 25, 20],
                "segmentation": {
                    "size": [60, 80],
                    "counts": _coco_rle_string(_coco_rle_encode(rle_mask)),
                },
            },
            {
                "id": 12,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": 20.0,
                "bbox": [0, 0, 5, 4],
                "segmentation": [[0, 0, 5, 0, 5, 4]],
            },
            {
                "id": 13,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 1,
                "area": 900.0,
                "bbox": [0, 0, 30, 30],
                "segmentation": {"size": [60, 80], "counts": [0, 4800]},
            },
            {
                "id": 14,
                "image_id": 2,
                "category_id": 1,
                "iscrowd": 0,
                "area": 900.0,
                "bbox": [0, 0, 30, 30],
                "segmentation": [[0, 0, 30, 0, 30, 30]],
            },
            {
                "id": 15,
                "image_id": 1,
                "category_id": 2,
                "iscrowd": 0,
                "area": 900.0,
                "bbox": [0, 0, 30, 30],
                "segmentation": {"size": [60, 80], "counts": [5, 5]},
            },
        ],
    }
    path = tmp_path / "annotations" / "instances_val2017.json"
    path.write_text(json.dumps(data))
    return path


def test_coco_instances_polygon_rle_filters(coco: Path) -> None:
    source = open_source(coco, min_area=100)
    assert isinstance(source, CocoOccluderSource)
    assert source.ids() == ["000001.png#10", "000001.png#11", "000001.png#15"]
    cup = source.load("000001.png#10")
    assert cup.size == (30, 20)
    assert (cup.image[cup.alpha >= 128] == (255, 0, 0)).all()
    book = source.load("000001.png#11")
    assert book.size == (25, 20)
    assert (book.image[book.alpha >= 128] == (0, 255, 0)).all() and (book.alpha == 255).all()
    with pytest.raises(InputError, match="bad segmentation"):
        source.load("000001.png#15")
    report = source.report(check=True)
    assert report.count == 2
    assert report.details["skipped"] == {"crowd": 1, "small": 1, "category": 0}
    assert any("missing.png" in p.path for p in report.problems)
    only_books = CocoOccluderSource(coco, coco.parent.parent / "val2017", 100, ["book"])
    assert only_books.ids() == ["000001.png#11", "000001.png#15"]
    with pytest.raises(InputError, match="unknown COCO categories: shoe"):
        CocoOccluderSource(coco, coco.parent, 100, ["shoe"]).ids()
    # nothing was written next to the data
    assert sorted(p.name for p in coco.parent.parent.rglob("*")) == [
        "000001.png",
        "annotations",
        "instances_val2017.json",
        "val2017",
    ]


def test_scan_reports_dangling_links_and_zero_bytes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "z.png").write_bytes(b"")
    (tmp_path / "ok.PNG").write_bytes(png_bytes(face_image(20, 20)))
    (tmp_path / "link.jpg").symlink_to(tmp_path / "gone.jpg")
    ids, problems = scan_images(tmp_path)
    assert ids == ["ok.PNG"]
    assert sorted((Path(p.path).name, p.reason) for p in problems) == [
        ("link.jpg", "symlink to nowhere"),
        ("z.png", "0-byte file"),
    ]


def test_scan_does_not_decode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scanning lists names: no image is opened (speed is measured in `studio bench`)."""
    for i in range(300):
        (tmp_path / f"{i:05d}.jpg").write_bytes(b"not decoded during a scan")
    import studio.core.io.imageio as imageio

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("decoded during scan")

    monkeypatch.setattr(imageio, "_decode", boom)
    source = FolderOccluderSource(tmp_path)
    assert len(source.ids()) == 300 and source.report().count == 300


def test_sources_from_preset_relative_to_the_preset(celeba: Path, coco: Path) -> None:
    from studio.core.model.preset import SourcesSpec
    from studio.core.sources import open_ref, refs_from_preset

    base = celeba.parent
    spec = SourcesSpec(
        faces=celeba.name,
        occluders=str(coco),
        occluder_kind="hand",
        occluder_up="down",
        textures=celeba.name + "/CelebA-HQ-img",
    )
    refs = refs_from_preset(spec, base)
    faces, occluders, textures = (open_ref(refs[r]) for r in ("faces", "occluders", "textures"))
    assert isinstance(faces, CelebAMaskSource) and faces.ids() == ["0.jpg", "2000.jpg"]
    assert isinstance(occluders, CocoOccluderSource)
    assert (occluders.kind, occluders.up) == ("hand", "down")
    assert isinstance(textures, TextureFolder) and len(textures.ids()) == 3
    assert refs_from_preset(SourcesSpec(), base) == {}


def test_masks_at_another_resolution_only_when_the_source_says_so(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    (tmp_path / "images" / "f.png").write_bytes(png_bytes(face_image(64, 64)))
    half = np.zeros((32, 32), np.uint8)
    half[8:24, 8:24] = 255
    (tmp_path / "masks" / "f.png").write_bytes(png_bytes(half))
    with pytest.raises(InputError, match="mask 32x32 does not match image 64x64"):
        FolderFaceSource(tmp_path / "images", tmp_path / "masks").load("f.png")
    face = FolderFaceSource(tmp_path / "images", tmp_path / "masks", resize_masks=True).load(
        "f.png"
    )
    assert face.mask.sum() == 32 * 32 and face.mask[16:48, 16:48].all()
