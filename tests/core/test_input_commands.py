"""`studio facemask`, `studio inspect`, `studio render` without --face-mask, and the
automatic-mask face source with its cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from badcorpus import build_corpus, png_bytes

from studio.cli import main
from studio.core.io import facemask, imageio
from studio.core.io.paths import samples
from studio.core.model.errors import InputError
from studio.core.sources import open_source
from studio.core.sources.automask import AutoMaskFaceSource, cache_dir

RES = samples().root
HOPPER = RES / "faces" / "images" / "grace_hopper.jpg"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_facemask_command_writes_a_0_255_mask(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m" / "hopper.png"
    assert main(["facemask", str(HOPPER), "--out", str(out)]) == 0
    mask = imageio.read_image(out)[:, :, 0]
    image = imageio.read_image(HOPPER)
    assert mask.shape == image.shape[:2]
    assert set(np.unique(mask)) == {0, 255}
    truth = imageio.read_mask(RES / "faces" / "masks" / "grace_hopper.png")
    assert ((mask > 0) & truth).sum() / ((mask > 0) | truth).sum() > 0.9
    assert "1 face" in capsys.readouterr().out


def test_facemask_command_errors_are_one_line(tmp_path: Path, capsys) -> None:
    texture = RES / "textures" / "brick.jpg"
    assert main(["facemask", str(texture), "--out", str(tmp_path / "m.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"studio: error: {texture}: no face found"
    assert not (tmp_path / "m.png").exists()
    assert main(["facemask", str(HOPPER), "--out", str(tmp_path / "m.jpg")]) == 2
    assert "must be written as .png" in capsys.readouterr().err


def test_inspect_bundled_samples(capsys) -> None:
    assert main(["inspect", str(RES / "faces")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("faces: images+masks:") and "3 usable items, 0 problems" in out
    assert "recognised as: images/ + masks/ inside" in out
    assert main(["inspect", str(RES / "occluders"), "--as", "occluders", "--check"]) == 0
    assert "8 usable items, 0 problems" in capsys.readouterr().out
    assert main(["inspect", str(RES / "textures"), "--as", "textures", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["count"] == 6 and report["layout"] == "textures"


def test_inspect_bad_corpus_lists_every_problem(tmp_path: Path, capsys) -> None:
    expect = build_corpus(tmp_path)
    assert (
        main(
            [
                "inspect",
                str(tmp_path / "faces"),
                "--masks",
                str(tmp_path / "masks"),
                "--check",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    bad = [name for name, (outcome, _) in expect.items() if outcome == "error"]
    assert report["count"] == len(expect) - len(bad)
    assert len(report["problems"]) == len(bad)
    assert all(p["reason"] and p["path"] for p in report["problems"])


def test_inspect_empty_folder_and_missing_path(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["inspect", str(tmp_path / "empty"), "--as", "textures"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"studio: error: {tmp_path / 'empty'}: no images found"
    assert main(["inspect", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == f"studio: error: {tmp_path / 'nope'}: not found"


def test_render_without_face_mask_uses_the_cached_automatic_mask(
    tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    occluder = RES / "occluders" / "cup.png"
    args = ["render", "--face", str(HOPPER), "--occluder", str(occluder), "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    cached = list((private_cache / "facemasks").glob("*.png"))
    assert len(cached) == 1
    face_mask = imageio.read_mask(tmp_path / "a" / "mask.png")
    auto = facemask.face_mask(imageio.read_image(HOPPER))
    # the written face mask is the automatic mask minus what the occluder covers
    assert (face_mask <= auto).all() and face_mask.sum() > 0.3 * auto.sum()

    def no_model(*a: object, **k: object) -> None:
        raise AssertionError("mask recomputed instead of read from the cache")

    monkeypatch.setattr(facemask, "face_masks", no_model)
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in ("image.jpg", "mask.png", "occlusion_mask.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_render_without_face_mask_and_no_face(tmp_path: Path, capsys) -> None:
    texture = RES / "textures" / "grass.jpg"
    occluder = RES / "occluders" / "cup.png"
    code = main(
        [
            "render",
            "--face",
            str(texture),
            "--occluder",
            str(occluder),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "no face found for the automatic face mask" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_automask_source_saves_masks_and_reports(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    shutil.copy(HOPPER, photos / "sub" / "hopper.v2.jpg")
    shutil.copy(RES / "textures" / "brick.jpg", photos / "brick.jpg")
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 nope")
    source = open_source(photos, save_masks=tmp_path / "saved")
    assert isinstance(source, AutoMaskFaceSource)
    assert source.ids() == ["brick.jpg", "broken.jpg", "sub/hopper.v2.jpg"]
    face = source.load("sub/hopper.v2.jpg")
    saved = imageio.read_mask(tmp_path / "saved" / "sub" / "hopper.v2.png")
    assert (saved == face.mask).all()
    report = source.report(check=True)
    assert report.count == 1
    assert sorted((Path(p.path).name, p.reason) for p in report.problems) == [
        ("brick.jpg", "no face found (automatic face mask)"),
        ("broken.jpg", "truncated JPEG"),
    ]
    assert len(list(cache_dir().glob("*.png"))) == 2  # hopper and the face-less brick


def test_automask_every_face_ids(tmp_path: Path) -> None:
    a = imageio.read_image(RES / "faces" / "images" / "astronaut.jpg")
    b = imageio.read_image(HOPPER)
    canvas = np.full((700, 1100, 3), 128, np.uint8)
    canvas[50:562, 20:532] = a
    canvas[50:650, 560:1072] = b
    (tmp_path / "two.png").write_bytes(png_bytes(canvas))
    source = AutoMaskFaceSource(tmp_path, every_face=True)
    assert source.ids() == ["two.png#0", "two.png#1"]
    big, small = source.load("two.png#0"), source.load("two.png#1")
    assert big.mask.sum() > small.mask.sum() and not (big.mask & small.mask).any()
    with pytest.raises(InputError, match="no face #2"):
        source.load("two.png#2")
