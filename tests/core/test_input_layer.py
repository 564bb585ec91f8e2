"""The input layer end to end, on replicas of the layouts users have (see replicas.py):
recognition, clear refusals, exports from every layout with the given masks used, the shipped
presets on the reference dataset folder, CelebAMask-HQ class maps, photos without masks."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest
import replicas
from export_helpers import (
    failure_rows,
    manifest_rows,
    output_files,
    start_export,
    wait_for_progress,
)

from studio.cli import main
from studio.core.io.paths import presets_dir
from studio.core.model.errors import InputError
from studio.core.sources import open_source, recognise, refs_for_path

REPO = Path(__file__).resolve().parents[2]
PRESETS = presets_dir()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every replica under one folder."""
    root = tmp_path_factory.mktemp("world")
    replicas.reference_dataset(root)
    replicas.celebamask_hq(root)
    replicas.image_mask_pair(root / "pairs")
    replicas.image_mask_pair(root / "seedlike", "img", "mask")
    replicas.phone_photos(root)
    replicas.rgba_cutouts(root)
    replicas.eleven_k_hands_raw(root / "11k")
    replicas.coco_instances(root)
    (root / "empty").mkdir()
    return root


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


RECOGNISED = [
    ("dataset/CelebAMask-HQ-WO-Train_img", "faces", "images+masks", "CelebAMask-HQ-WO-Train_mask"),
    ("dataset/11k-hands_img", "occluders", "images+masks", "11k-hands_mask"),
    ("dataset/object_image_sr", "occluders", "images+masks", "object_image_x4"),
    ("dataset/DTD", "textures", "textures", None),
    ("CelebAMask-HQ", "faces", "celebamask-hq", None),
    ("CelebAMask-HQ/CelebA-HQ-img", "faces", "celebamask-hq", None),
    ("pairs", "faces", "images+masks", "masks"),
    ("pairs/images", "faces", "images+masks", "masks"),
    ("seedlike", "occluders", "images+masks", "mask"),
    ("DCIM/Camera", "faces", "photos", None),
    ("cutouts", "occluders", "rgba", None),
    ("coco/annotations/instances_val2017.json", "occluders", "coco", None),
]


@pytest.mark.parametrize(("rel", "role", "layout", "masks"), RECOGNISED)
def test_each_layout_is_recognised(world: Path, rel: str, role, layout: str, masks) -> None:
    found = recognise(world / rel, role)
    assert found.name == layout
    assert (found.masks.name if found.masks else None) == masks
    source = open_source(world / rel, role)
    assert source.ref.layout == layout and source.ids()


REFUSED = [
    ("dataset", "faces", "holds several sources (11k-hands_img, CelebAMask-HQ-WO-Train_img, DTD"),
    ("11k/Hands", "occluders", "3 JPEG/BMP images cannot carry an alpha channel"),
    ("DCIM/Camera", "occluders", "cannot carry an alpha channel"),
    ("dataset/11k-hands_mask", "occluders", "is the mask folder of"),
    ("CelebAMask-HQ", "occluders", "a CelebAMask-HQ folder is a face source"),
    ("coco/annotations/instances_val2017.json", "faces", "a COCO file is an occluder source"),
    ("empty", "textures", "no images found"),
    ("nowhere", "faces", "not found"),
]


@pytest.mark.parametrize(("rel", "role", "reason"), REFUSED)
def test_ambiguous_or_unusable_sources_are_refused(world: Path, rel: str, role, reason) -> None:
    with pytest.raises(InputError, match=re.escape(reason)) as err:
        recognise(world / rel, role)
    assert err.value.path == str(world / rel)


def test_inspect_names_the_sibling_masks_of_the_reference_layout(world: Path, capsys) -> None:
    faces = world / "dataset" / "CelebAMask-HQ-WO-Train_img"
    assert main(["inspect", str(faces)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"faces: images+masks: {faces}")
    assert "masks in the sibling CelebAMask-HQ-WO-Train_mask/" in out and "4 usable" in out
    assert main(["inspect", str(world / "dataset" / "11k-hands_img"), "--as", "occluders"]) == 0
    assert "occluders: images+masks" in capsys.readouterr().out
    assert main(["inspect", str(world / "dataset")]) == 0  # each source of the folder
    out = capsys.readouterr().out
    assert "a dataset folder with 4 sources" in out and "textures: textures" in out
    assert "object_image_sr" in out  # the objects too, not only the hands


def _export(out: Path, preset: Path, *args: str, count: int = 4) -> int:
    base = ["export", str(preset), "--out", str(out), "--count", str(count)]
    return main([*base, "--progress", "none", *args])


def _check_masks_against_the_source(out: Path, faces) -> int:
    """Exported masks are binary and disjoint, and face mask + occlusion mask give back the
    source's own face mask exactly: the given masks were used."""
    rows = manifest_rows(out)
    for row in rows:
        mask = cv2.imread(str(out / row["files"]["mask"]), cv2.IMREAD_UNCHANGED)
        occ = cv2.imread(str(out / row["files"]["occlusion_mask"]), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(mask)) <= {0, 255} and set(np.unique(occ)) <= {0, 255}
        assert not (mask & occ).any()
        given = faces.load(row["face_id"]).mask
        assert np.array_equal(mask > 0, given & ~(occ > 0)), row["face_id"]
        assert (given & (occ > 0)).any()  # the occluder covers some face
    return len(rows)


@pytest.mark.parametrize(
    ("faces_rel", "occluders_rel"),
    [
        ("dataset/CelebAMask-HQ-WO-Train_img", "dataset/11k-hands_img"),
        ("CelebAMask-HQ", "dataset/object_image_sr"),
        ("pairs", "cutouts"),
        ("seedlike/img", "coco/annotations/instances_val2017.json"),
    ],
)
def test_export_from_each_layout_uses_the_given_masks(
    world: Path, tmp_path: Path, faces_rel: str, occluders_rel: str
) -> None:
    out = tmp_path / "out"
    preset = PRESETS / "natocc-objects.yaml"
    faces, occluders = world / faces_rel, world / occluders_rel
    assert _export(out, preset, "--faces", str(faces), "--occluders", str(occluders)) == 0
    assert _check_masks_against_the_source(out, open_source(faces, "faces")) == 4
    job = json.loads((out / "job.json").read_text())
    assert job["sources"]["faces"]["layout"] == recognise(faces, "faces").name
    assert job["sources"]["occluders"]["layout"] == recognise(occluders, "occluders").name


@pytest.mark.parametrize(
    "preset", ["natocc-hands.yaml", "natocc-objects.yaml", "randocc.yaml", "seed-compatible.yaml"]
)
def test_shipped_presets_run_on_the_reference_dataset_folder(
    world: Path, tmp_path: Path, preset: str, capsys
) -> None:
    out = tmp_path / "out"
    assert _export(out, PRESETS / preset, "--data", str(world / "dataset")) == 0
    err = capsys.readouterr().err
    assert "faces: images+masks, 4 usable" in err and "CelebAMask-HQ-WO-Train_mask" in err
    rows = manifest_rows(out)
    assert len(rows) == 4 and not failure_rows(out)
    job = json.loads((out / "job.json").read_text())
    pool = "textures" if preset == "randocc.yaml" else "occluders"
    assert job["sources"][pool]["layout"] in ("images+masks", "textures")
    if preset == "seed-compatible.yaml":
        assert {p.name for p in out.iterdir() if p.is_dir()} == {"img", "mask", "occlusion_mask"}
    else:
        faces = open_source(world / "dataset" / "CelebAMask-HQ-WO-Train_img", "faces")
        _check_masks_against_the_source(out, faces)


def test_a_missing_preset_folder_names_the_data_root(tmp_path: Path, capsys) -> None:
    assert _export(tmp_path / "out", PRESETS / "natocc-hands.yaml") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"studio: error: {PRESETS / 'CelebAMask-HQ-WO-Train_img'}: folder not")
    assert "pass --data ROOT" in err


def test_celebamask_export_writes_class_maps_with_the_occluder_class(
    world: Path, tmp_path: Path
) -> None:
    preset = tmp_path / "labels.yaml"
    preset.write_text(
        "name: labels\nmode: natocc\noccluder_class: 19\noutput:\n  labels: true\n"
        "placement:\n  min_coverage: 0.05\n  max_coverage: 0.6\n"
    )
    out = tmp_path / "out"
    args = ["--faces", str(world / "CelebAMask-HQ"), "--occluders", str(world / "cutouts")]
    assert _export(out, preset, *args) == 0
    faces = open_source(world / "CelebAMask-HQ", "faces")
    for row in manifest_rows(out):
        labels = cv2.imread(str(out / row["files"]["labels"]), cv2.IMREAD_UNCHANGED)
        occ = cv2.imread(str(out / row["files"]["occlusion_mask"]), cv2.IMREAD_UNCHANGED) > 0
        assert row["files"]["labels"].startswith("labels/")
        assert np.array_equal(labels == 19, occ)  # the occluder class is the occlusion mask
        source_labels = faces.load(row["face_id"]).labels
        assert np.array_equal(labels[~occ], source_labels[~occ])  # other classes survive
        assert len(np.unique(source_labels[~occ])) > 3


PHOTO_PRESETS = ["natocc-hands.yaml", "natocc-objects.yaml", "seed-compatible.yaml", "demo.yaml"]


@pytest.mark.parametrize("preset", PHOTO_PRESETS)
def test_photos_without_masks_and_rgba_cutouts_with_every_natocc_preset(
    world: Path, tmp_path: Path, preset: str, capsys
) -> None:
    """``--faces PHOTOS --occluders RGBA``: the preset's paired mask folders are dropped and
    the new folders' layouts recognised (automatic face masks, alpha as the shape)."""
    out = tmp_path / "out"
    args = ["--faces", str(world / "DCIM" / "Camera"), "--occluders", str(world / "cutouts")]
    assert _export(out, PRESETS / preset, *args, count=3) == 0
    err = capsys.readouterr().err
    assert "faces: photos, 3 usable" in err and "occluders: rgba, 3 usable" in err
    assert len(manifest_rows(out)) == 3
    job = json.loads((out / "job.json").read_text())
    auto = job["sources"]["faces"]["automatic_masks"]
    assert auto["method"] and set(auto["models"]) == {
        "face_detection_short_range.tflite",
        "face_landmark.tflite",
    }
    assert job["sources"]["faces"]["masks"] is None


def test_photos_export_is_byte_identical_with_one_or_two_workers(
    world: Path, tmp_path: Path
) -> None:
    args = ["--faces", str(world / "DCIM" / "Camera"), "--occluders", str(world / "cutouts")]
    preset = PRESETS / "natocc-objects.yaml"
    assert _export(tmp_path / "one", preset, *args, "--workers", "1", count=6) == 0
    assert _export(tmp_path / "two", preset, *args, "--workers", "2", count=6) == 0
    one, two = output_files(tmp_path / "one"), output_files(tmp_path / "two")
    assert len(one) == 18 and one == two
    assert manifest_rows(tmp_path / "one") == manifest_rows(tmp_path / "two")


def test_photos_export_survives_kill_9_and_resumes_byte_identically(
    world: Path, tmp_path: Path
) -> None:
    args = ["--faces", str(world / "DCIM" / "Camera"), "--occluders", str(world / "cutouts")]
    preset = str(PRESETS / "natocc-hands.yaml")
    count = ["--count", "24"]
    assert _export(tmp_path / "ref", Path(preset), *args, "--workers", "1", count=24) == 0
    out = tmp_path / "out"
    proc = start_export([preset, "--out", str(out), *args, *count, "--workers", "2"])
    wait_for_progress(proc, 2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < len(manifest_rows(out)) < 24
    assert _export(out, Path(preset), *args, "--workers", "2", "--resume", count=24) == 0
    assert output_files(out) == output_files(tmp_path / "ref")
    assert manifest_rows(out) == manifest_rows(tmp_path / "ref")


def test_a_photo_without_a_face_is_a_failure_row(tmp_path: Path) -> None:
    photos = replicas.phone_photos(tmp_path, with_non_face=True)
    cutouts = replicas.rgba_cutouts(tmp_path)
    out = tmp_path / "out"
    preset = PRESETS / "natocc-objects.yaml"
    assert _export(out, preset, "--faces", str(photos), "--occluders", str(cutouts)) == 0
    failures = failure_rows(out)
    assert [(f["index"], Path(f["path"]).name) for f in failures] == [
        (3, "IMG_20240501_130000.jpg")
    ]
    assert "no face found" in failures[0]["reason"]
    # --count 4 means 4 samples: the failed draw 3 is replaced by draw 4 (the next past the plan)
    assert [r["index"] for r in manifest_rows(out)] == [0, 1, 2, 4]


def test_resume_refuses_a_source_whose_layout_changed(world: Path, tmp_path: Path, capsys) -> None:
    photos = replicas.phone_photos(tmp_path)
    args = ["--faces", str(photos), "--occluders", str(world / "cutouts")]
    out = tmp_path / "out"
    preset = PRESETS / "natocc-objects.yaml"
    assert _export(out, preset, *args, count=2) == 0
    assert _export(out, preset, *args, "--resume", count=2) == 0
    capsys.readouterr()
    # images/ + masks/ appear inside the photo folder: it now reads as an images+masks pair
    replicas.image_mask_pair(photos, n=1)
    assert _export(out, preset, *args, "--resume", count=2) == 2
    err = capsys.readouterr().err
    assert "cannot resume a different job: sources.faces.layout is 'images+masks' now" in err
    assert "'photos' in the job" in err


def test_refs_for_a_dropped_folder(world: Path) -> None:
    assert set(refs_for_path(world / "dataset", "occluders")) == {"faces", "occluders", "textures"}
    assert set(refs_for_path(world / "CelebAMask-HQ", "textures")) == {"faces"}
    coco = world / "coco" / "annotations" / "instances_val2017.json"
    assert set(refs_for_path(coco, "faces")) == {"occluders"}
    assert set(refs_for_path(world / "cutouts", "occluders")) == {"occluders"}
    with pytest.raises(InputError, match="cannot carry an alpha"):
        refs_for_path(world / "11k" / "Hands", "occluders")


def test_coco_categories_from_the_preset(world: Path, tmp_path: Path) -> None:
    from studio.core.model.preset import SourcesSpec
    from studio.core.sources import open_ref, refs_from_preset

    spec = SourcesSpec(
        occluders="coco/annotations/instances_val2017.json", occluder_categories=("book",)
    )
    source = open_ref(refs_from_preset(spec, world)["occluders"])
    assert source.ids() == ["000000000139.jpg#2"]


#: The input layer's own modules: the only ones that may build sources from folders.
SOURCE_CLASSES = {
    "FolderFaceSource",
    "FolderOccluderSource",
    "TextureFolder",
    "CelebAMaskSource",
    "AutoMaskFaceSource",
    "CocoOccluderSource",
}
FOLDER_LISTERS = {"scan_images", "list_images", "MaskIndex", "recognise"}


def test_no_module_outside_the_input_layer_opens_a_source_folder() -> None:
    offenders = []
    for path in sorted((REPO / "studio").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("studio/core/sources/"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: set[str] = set()
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "studio.core.sources"
            ):
                names = {a.name for a in node.names}
            elif isinstance(node, ast.Attribute):
                names = {node.attr}
            bad = names & (SOURCE_CLASSES | FOLDER_LISTERS)
            if bad:
                offenders.append(f"{rel}:{node.lineno}: {sorted(bad)}")
    assert offenders == []
