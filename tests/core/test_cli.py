"""The `studio` command: render/demo/bench contracts and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from studio.cli import main
from studio.core import Face, Occluder, RenderParams, render
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    face = synthetic_face(200, seed=4)
    occ = synthetic_occluder(100, seed=5)
    paths = {
        "face": tmp_path / "face.v2.jpg",
        "mask": tmp_path / "face.v2.png",
        "occ": tmp_path / "hand.png",
    }
    cv2.imwrite(str(paths["face"]), face.image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 98])
    cv2.imwrite(str(paths["mask"]), face.mask.astype(np.uint8) * 255)
    rgba = np.dstack([occ.image[:, :, ::-1], occ.alpha])
    cv2.imwrite(str(paths["occ"]), rgba)
    return paths


def _render_args(files, out, *extra):
    return [
        "render",
        "--face",
        str(files["face"]),
        "--face-mask",
        str(files["mask"]),
        "--occluder",
        str(files["occ"]),
        "--seed",
        "3",
        "--out",
        str(out),
        *extra,
    ]


def test_render_writes_the_four_files_and_they_reproduce(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_render_args(files, out)) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["image.jpg", "mask.png", "occlusion_mask.png", "params.json"]
    record = json.loads((out / "params.json").read_text())
    params = RenderParams.from_dict(record["params"])
    mask = cv2.imread(str(out / "mask.png"), cv2.IMREAD_UNCHANGED)
    occ_mask = cv2.imread(str(out / "occlusion_mask.png"), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) <= {0, 255} and set(np.unique(occ_mask)) <= {0, 255}
    # re-rendering from params.json gives the written labels exactly
    face_img = cv2.imread(str(files["face"]))[:, :, ::-1]
    face_mask = cv2.imread(str(files["mask"]), cv2.IMREAD_GRAYSCALE) > 0
    rgba = cv2.imread(str(files["occ"]), cv2.IMREAD_UNCHANGED)
    again = render(
        Face(np.ascontiguousarray(face_img), face_mask),
        Occluder(np.ascontiguousarray(rgba[:, :, 2::-1]), rgba[:, :, 3]),
        params,
    )
    assert np.array_equal(again.face_mask, mask)
    assert np.array_equal(again.occlusion_mask, occ_mask)
    assert params.face_id == "face.v2.jpg"  # the full name, never cut at the first dot
    # same seed, same bytes
    out2 = tmp_path / "out2"
    assert main(_render_args(files, out2)) == 0
    for name in names:
        assert (out / name).read_bytes() == (out2 / name).read_bytes()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_errors_are_one_line_naming_the_file(files, tmp_path):
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.zeros((200, 200), np.uint8))
    proc = _run(
        "render",
        "--face",
        str(files["face"]),
        "--face-mask",
        str(empty),
        "--occluder",
        str(files["occ"]),
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "face mask is empty" in lines[0] and "empty.png" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_debug_shows_the_traceback(files, tmp_path):
    proc = _run(
        "--debug",
        "render",
        "--face",
        str(tmp_path / "missing.jpg"),
        "--face-mask",
        str(files["mask"]),
        "--occluder",
        str(files["occ"]),
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_bad_preset_is_one_line(files, tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("placement:\n  min_coverage: 2\n")
    proc = _run(*_render_args(files, tmp_path / "o", "--preset", str(preset)))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "p.yaml: placement.min_coverage" in proc.stderr


def test_demo_writes_a_contact_sheet(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--count", "2"]) == 0
    path = Path(capsys.readouterr().out.strip().splitlines()[-1])
    sheet = cv2.imread(str(path))
    assert path.parent == tmp_path.resolve() and sheet is not None and sheet.shape[0] > 256


def test_bench_json_reports_every_engine_figure_with_the_machine():
    proc = _run("bench", "--json", "--quick", "--suite", "engine")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["machine"]["cores"] >= 1
    rows = {r["name"]: r for r in report["rows"]}
    for name in ("sot_speedup", "sot_swd_ratio", "render_vs_jpeg", "preview_512_ms"):
        assert (
            rows[name]["value"] > 0 and rows[name]["target"] and rows[name]["ok"] in (True, False)
        )


def test_a_failed_job_ends_with_a_typed_error_event_in_jsonl_mode(tmp_path, capsys):
    """With --progress jsonl the studio reads the failure typed (its hint it words itself);
    stderr keeps the command line's line."""
    from studio.core.jobs.events import Event

    out = tmp_path / "out"
    out.mkdir()
    (out / "job.json").write_text("{}")
    argv = ["export", "demo", "--out", str(out), "--count", "2", "--progress", "jsonl"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    event = Event.from_json(json.loads(captured.out.strip().splitlines()[-1]))
    assert event.kind == "error" and event.get("hint") == "resume"
    assert event.message == f"{out}: already holds an export job"
    assert "--resume" in captured.err  # the command line's words stay on stderr
    assert main([*argv[:-2], "--progress", "none"]) == 2
    assert capsys.readouterr().out == ""  # no event without jsonl
