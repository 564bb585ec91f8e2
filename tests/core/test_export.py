"""The batch exporter: determinism, records, failures, resume refusal, layouts, sheet."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from export_helpers import (
    failure_rows,
    make_inputs,
    manifest_rows,
    output_files,
    plan_for,
    write_preset,
)

from studio.cli import main
from studio.core.export import (
    InProcessEngine,
    LocalEngine,
    export_events,
    make_plan,
    run_export,
)
from studio.core.export.sheet import write_contact_sheet
from studio.core.io.paths import shipped_presets
from studio.core.io.presets import load_preset
from studio.core.model.errors import InputError, StudioError
from studio.core.sources import refs_from_preset

_plan = plan_for


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_inputs(tmp_path_factory.mktemp("inputs"))
    write_preset(root / "p.yaml")
    return root


@pytest.fixture(scope="module")
def reference(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted one-worker export of 12 samples (2 per face)."""
    out = tmp_path_factory.mktemp("ref") / "out"
    summary = run_export(_plan(inputs / "p.yaml", out, count=12), InProcessEngine())
    assert summary.written + summary.failed == 12 and not summary.cancelled
    return out


def test_layout_and_records(reference: Path) -> None:
    rows = manifest_rows(reference)
    assert [r["index"] for r in rows] == list(range(12))
    for row in rows:
        for rel in row["files"].values():
            assert (reference / rel).is_file()
        assert row["files"]["image"].startswith("images/") and row["stem"].startswith(
            f"{row['index']:07d}_face.0"
        )
        assert 0.05 <= row["coverage"] <= 0.7
        assert row["params"]["face_id"] == row["face_id"] and row["occluder_id"].startswith("o")
    job = json.loads((reference / "job.json").read_text())
    assert job["count"] == 12 and job["seed"] == 0 and job["preset"]["name"] == "test"
    assert set(job["inputs"]) == {"faces", "occluders"} and "masks" in job["inputs"]["faces"]
    assert job["sources"]["faces"]["layout"] == "images+masks"
    assert job["sources"]["occluders"]["layout"] == "rgba"
    stats = json.loads((reference / "stats.json").read_text())
    assert stats["written"] == 12 and sum(stats["coverage_histogram"]["counts"]) == 12
    mask = cv2.imread(str(reference / rows[0]["files"]["mask"]), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) <= {0, 255}
    # face names keep their dots: "face.00" is never cut to "face"
    assert {r["face_id"] for r in rows} == {f"face.{i:02d}.jpg" for i in range(6)}


def test_two_workers_give_identical_bytes(inputs: Path, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_export(_plan(inputs / "p.yaml", out, count=12), LocalEngine(2))
    assert output_files(out) == output_files(reference)
    assert manifest_rows(out) == manifest_rows(reference)
    assert (out / "job.json").read_bytes() == (reference / "job.json").read_bytes()


def test_workers_started_before_planning_give_identical_bytes(
    inputs: Path, reference: Path, tmp_path: Path
) -> None:
    engine = LocalEngine(2)
    engine.start()  # as the command does, before the plan exists
    out = tmp_path / "out"
    run_export(_plan(inputs / "p.yaml", out, count=12), engine)
    assert output_files(out) == output_files(reference)
    assert manifest_rows(out) == manifest_rows(reference)


def test_workers_see_the_environment_of_the_job_not_of_their_start(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from studio.core.export import engines

    run_export(_plan(inputs / "p.yaml", tmp_path / "before", count=6), LocalEngine(2))
    engine = LocalEngine(2)  # its workers come from the fork server the first job started
    plan = _plan(inputs / "p.yaml", tmp_path / "out", count=6)
    for folder in plan.folders.values():
        (tmp_path / "out" / folder).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("STUDIO_MAX_PIXELS", "5000")  # over the faces (128 px), not the occluders
    monkeypatch.setattr(engines._Pool, "all_ready", property(lambda _: True))  # workers only
    outcomes = list(engine.run(plan, range(6), threading.Event()))
    assert len(outcomes) == 6 and all(o.pid != os.getpid() for o in outcomes)
    assert all(o.row is None and "decompression-bomb" in o.failures[0]["reason"] for o in outcomes)


def test_a_worker_killed_mid_job_stops_it_with_one_clear_error(
    inputs: Path, tmp_path: Path
) -> None:
    import os
    import signal

    plan = _plan(inputs / "p.yaml", tmp_path / "out", count=200)
    for folder in plan.folders.values():
        (tmp_path / "out" / folder).mkdir(parents=True, exist_ok=True)
    outcomes = LocalEngine(2).run(plan, range(200), threading.Event())
    with pytest.raises(StudioError, match=r"a worker process died .* resumable with --resume"):
        for outcome in outcomes:
            if outcome.pid != os.getpid():
                os.kill(outcome.pid, signal.SIGKILL)


class _NoProcesses:
    """A start method whose processes cannot start (a process limit, no memory)."""

    def Pipe(self):
        import multiprocessing

        return multiprocessing.Pipe()

    def Process(self, **_kwargs):
        class Refused:
            def start(self):
                raise OSError("Resource temporarily unavailable")

        return Refused()


def test_the_driver_makes_every_sample_when_no_worker_starts(
    inputs: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from studio.core.export import engines

    monkeypatch.setattr(engines, "_context", _NoProcesses)
    plan = _plan(inputs / "p.yaml", tmp_path / "out", count=12)
    (tmp_path / "out").mkdir()
    for folder in plan.folders.values():
        (tmp_path / "out" / folder).mkdir(exist_ok=True)
    outcomes = list(LocalEngine(2).run(plan, range(12), threading.Event()))
    assert sorted(o.index for o in outcomes) == list(range(12))
    assert {o.pid for o in outcomes} == {os.getpid()}
    run_export(_plan(inputs / "p.yaml", tmp_path / "job", count=12), LocalEngine(2))
    assert output_files(tmp_path / "job") == output_files(reference)


def test_a_job_of_no_more_samples_than_workers_starts_no_process(
    inputs: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.core.export import engines

    def refuse(*_args):
        raise AssertionError("a process was started")

    monkeypatch.setattr(engines, "_Pool", refuse)
    engine = LocalEngine(2)
    engine.start(count=2)
    out = tmp_path / "out"
    run_export(_plan(inputs / "p.yaml", out, count=2), engine)
    first_two = ("/0000000_", "/0000001_")
    expected = {
        k: v for k, v in output_files(reference).items() if k.startswith(first_two, k.find("/"))
    }
    assert output_files(out) == expected and len(expected) == 6


def test_another_seed_gives_other_samples(inputs: Path, reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_export(_plan(inputs / "p.yaml", out, count=12, seed=7))
    assert output_files(out).keys() == output_files(reference).keys()
    assert output_files(out) != output_files(reference)


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'occlusion-studio[cluster]')",
)
def test_ray_engine_gives_identical_bytes(inputs: Path, reference: Path, tmp_path: Path) -> None:
    from studio.core.export import RayEngine

    out = tmp_path / "out"
    run_export(_plan(inputs / "p.yaml", out, count=12), RayEngine(workers=2, batch=2))
    assert output_files(out) == output_files(reference)
    assert manifest_rows(out) == manifest_rows(reference)


def test_cancel_then_resume_gives_identical_bytes(
    inputs: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    plan = _plan(inputs / "p.yaml", out, count=12)
    cancel = threading.Event()
    events = []
    for event in export_events(plan, InProcessEngine(), cancel=cancel):
        events.append(event)
        if event.kind == "progress":
            cancel.set()
    assert events[0].kind == "start" and events[-1].kind == "done"
    assert events[-1].cancelled and 0 < events[-1].written < 12
    assert not (out / "stats.json").exists()
    # a torn last manifest line and a stray temp file, as a kill mid-write leaves them
    with open(out / "manifest.jsonl", "a") as fh:
        fh.write('{"index": 11, "stem": "00')
    (out / "images" / ".0000011_face.05.jpg.x1.tmp").write_bytes(b"half")
    run_export(plan, InProcessEngine(), resume=True)
    assert output_files(out) == output_files(reference)
    assert manifest_rows(out) == manifest_rows(reference)
    assert not list(out.rglob("*.tmp"))


def test_resume_refuses_a_different_job(inputs: Path, reference: Path, tmp_path: Path) -> None:
    changed = write_preset(inputs / "changed.yaml", "blend:\n  opacity_probability: 0.5\n")
    with pytest.raises(InputError, match=r"preset\.blend\.opacity_probability is 0\.5 now, 0\.0"):
        run_export(_plan(changed, reference, count=12), resume=True)
    with pytest.raises(InputError, match="count is 11 now, 12 in the job"):  # a job only grows
        run_export(_plan(inputs / "p.yaml", reference, count=11), resume=True)
    more = make_inputs(tmp_path / "more", faces=7)
    preset = load_preset(inputs / "p.yaml")
    sources = refs_from_preset(
        preset.sources, inputs, {"faces": more / "faces", "face_masks": more / "face_masks"}
    )
    plan = make_plan(preset, sources, reference, count=12)
    with pytest.raises(InputError, match=r"sources\.faces\.path is .*more/faces. now"):
        run_export(plan, resume=True)


def test_resume_refuses_changed_input_files(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=2)
    preset_path = write_preset(root / "p.yaml")
    out = tmp_path / "out"
    run_export(_plan(preset_path, out, count=2))
    extra = synthetic_face_file(root / "faces" / "face.09.jpg", root / "face_masks" / "face.09.png")
    assert extra.exists()
    with pytest.raises(InputError, match="faces input has 3 files now, 2 in the job"):
        run_export(_plan(preset_path, out, count=2), resume=True)


def synthetic_face_file(image: Path, mask: Path) -> Path:
    from studio.core.sources.synthetic import synthetic_face

    f = synthetic_face(64, seed=9)
    cv2.imwrite(str(image), f.image[:, :, ::-1])
    cv2.imwrite(str(mask), f.mask.astype(np.uint8) * 255)
    return image


def test_output_folder_rules(inputs: Path, reference: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="inside the faces input folder"):
        _plan(inputs / "p.yaml", inputs / "faces" / "out")
    with pytest.raises(InputError, match="already holds an export job"):
        run_export(_plan(inputs / "p.yaml", reference, count=12))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        run_export(_plan(inputs / "p.yaml", busy, count=2))
    with pytest.raises(InputError, match="nothing to resume"):
        run_export(_plan(inputs / "p.yaml", tmp_path / "fresh", count=2), resume=True)


def test_unusable_inputs_are_recorded_with_reasons(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=3, occluders=2)
    (root / "faces" / "broken.jpg").write_bytes(b"not a jpeg")
    (root / "face_masks" / "broken.png").write_bytes(b"")
    cv2.imwrite(str(root / "faces" / "nomask.jpg"), np.full((64, 64, 3), 90, np.uint8))
    cv2.imwrite(str(root / "occluders" / "empty.png"), np.zeros((32, 32, 4), np.uint8))
    preset_path = write_preset(root / "p.yaml")
    out = tmp_path / "out"
    summary = run_export(_plan(preset_path, out))
    # unusable faces are input failures found while listing: the job plans the usable ones
    assert summary.written == summary.total == 3 and summary.failed == 0
    failures = failure_rows(out)
    by_path = {Path(f["path"]).name: f for f in failures}
    assert "no mask named broken" in by_path["broken.jpg"]["reason"]
    assert by_path["broken.png"]["reason"] == "0-byte file"
    assert "no mask named nomask" in by_path["nomask.jpg"]["reason"]
    assert summary.failed_inputs == len(failures) >= 3
    # a resumed job does not record them twice
    run_export(_plan(preset_path, out), resume=True)
    assert len(failure_rows(out)) == len(failures)
    assert all(
        f["stem"].startswith(f"{f['index']:07d}_") for f in failures if f["index"] is not None
    )
    for row in manifest_rows(out):
        assert row["occluder_id"] != "empty.png"
    empty = [f for f in failures if Path(f["path"]).name == "empty.png"]
    assert all("empty" in f["reason"] for f in empty) and len(empty) <= 1


def test_labels_without_label_maps_are_refused_before_any_work(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=2)
    preset_path = write_preset(root / "p.yaml", "output:\n  labels: true\n")
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"faces: output\.labels is on, but the faces \(images"):
        _plan(preset_path, out)
    assert not out.exists()


def test_seed_layout_and_01_masks(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=2)
    preset_path = write_preset(root / "p.yaml", "mask_max: 1\n")
    out = tmp_path / "out"
    run_export(_plan(preset_path, out, layout="seed"))
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"img", "mask", "occlusion_mask"}
    mask = cv2.imread(str(next((out / "mask").iterdir())), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask)) == {0, 1}


def test_randocc_with_textures(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=2)
    preset_path = write_preset(root / "p.yaml", mode="randocc")
    out = tmp_path / "out"
    run_export(_plan(preset_path, out, count=4))
    rows = manifest_rows(out)
    assert len(rows) == 4 and all(r["occluder_id"].startswith("shape:") for r in rows)
    assert any(r["texture_id"] in ("t0.jpg", "t1.jpg") for r in rows)


def test_write_failure_stops_the_job_with_a_clear_error(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=2)
    preset_path = write_preset(root / "p.yaml")
    out = tmp_path / "out"
    plan = _plan(preset_path, out)
    cancel = threading.Event()
    cancel.set()
    run_export(plan, cancel=cancel)  # job.json only
    (out / "images").write_text("a file where the image folder should be")
    with pytest.raises(StudioError, match="cannot write"):
        run_export(plan, resume=True)
    assert not (out / "manifest.jsonl").read_text()


def test_contact_sheet(reference: Path, tmp_path: Path) -> None:
    path = write_contact_sheet(reference, tmp_path / "sheet.png", count=6, side=64)
    sheet = cv2.imread(str(path))
    assert sheet.shape == (2 * 64, 3 * 64, 3)
    assert main(["sheet", str(tmp_path)]) == 2  # not an export folder


def test_cli_export_exit_codes(inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    args = ["export", str(inputs / "p.yaml"), "--out", str(out), "--count", "3"]
    assert main([*args, "--workers", "1", "--progress", "jsonl"]) == 0
    captured = capsys.readouterr()
    events = [json.loads(line) for line in captured.out.splitlines()]
    assert events[0] == {"event": "start", "total": 3, "out": str(out), "done": 0}
    done = events[-1]
    assert {k: done[k] for k in ("event", "done", "total", "written", "failed", "out")} == {
        "event": "done",
        "done": 3,
        "total": 3,
        "written": 3,
        "failed": 0,
        "out": str(out),
    }
    assert done["cancelled"] is False and done["rate"] > 0
    assert {"done", "total", "failed", "rate", "eta"} <= set(events[-2])
    assert main(args) == 2
    assert "already holds an export job" in capsys.readouterr().err
    assert main(["export", str(inputs / "nope.yaml"), "--out", str(tmp_path / "x")]) == 2


def test_demo_preset_runs_on_the_bundled_samples(tmp_path: Path) -> None:
    """The shipped demo.yaml exports from resources/samples without a single failure."""
    demo = shipped_presets()["demo"]
    out = tmp_path / "out"
    args = [
        "export",
        str(demo),
        "--out",
        str(out),
        "--workers",
        "1",
        "--progress",
        "none",
        "--count",
        "4",
    ]
    assert main(args) == 0
    assert len(manifest_rows(out)) == 4
    assert failure_rows(out) == []


def test_engine_choice_errors() -> None:
    from studio.core.export import make_engine
    from studio.core.model.errors import BackendError

    with pytest.raises(BackendError, match="needs the ray engine"):
        make_engine("local", 2, "auto")
    with pytest.raises(BackendError, match="unknown engine"):
        make_engine("dask", 2)
    assert isinstance(make_engine("local", 1), InProcessEngine)
    assert make_engine("local", 2).workers == 2


def test_the_backend_is_part_of_the_job(inputs: Path, reference: Path, tmp_path: Path) -> None:
    import dataclasses

    plan = _plan(inputs / "p.yaml", reference, count=12)
    assert plan.backend == "cpu"
    assert json.loads((reference / "job.json").read_text())["backend"] == "cpu"
    with pytest.raises(InputError, match="backend is 'cuda' now, 'cpu' in the job"):
        run_export(dataclasses.replace(plan, backend="cuda"), resume=True)


def test_export_backend_cuda_without_a_gpu_is_one_line(
    inputs: Path, tmp_path: Path, capsys
) -> None:
    from studio.core.ops.backend import cuda_available

    if cuda_available():
        pytest.skip("a usable CUDA GPU is present")
    args = ["export", str(inputs / "p.yaml"), "--out", str(tmp_path / "o"), "--backend", "cuda"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cuda" in err[0].lower()
    assert not (tmp_path / "o").exists()
