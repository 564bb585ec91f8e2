"""studio train / evaluate / compare on tiny procedural data (64 px, width-8 U-Nets)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.core.io.writers import write_image
from studio.core.model.errors import InputError
from studio.core.sources.synthetic import write_face_folder, write_occluder_folder

torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e .[torch])")

from studio.integrations.train.compare import CompareConfig, compare, format_table  # noqa: E402
from studio.integrations.train.data import LabelledSource, Target, TrainSet, make_occlusion  # noqa: E402
from studio.integrations.train.evaluate import evaluate  # noqa: E402
from studio.integrations.train.loop import TrainConfig, train  # noqa: E402
from studio.integrations.train.model import ModelConfig, UNet  # noqa: E402
from studio.integrations.train.weights import load_torch, model_record, save_torch  # noqa: E402

SIDE = 64
TINY = {"size": SIDE, "width": 8, "batch": 4, "threads": 1}  # 1 thread: fast on a busy machine
NATOCC = """name: tiny-natocc
mode: natocc
sources:
  occluders: occluders
  occluder_kind: hand
color:
  method: reinhard
placement:
  min_coverage: 0.1
  max_coverage: 0.5
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """faces/ (12 procedural faces), test/ (4 others), occluders/ and a NatOcc preset."""
    root = tmp_path_factory.mktemp("train-data")
    write_face_folder(root / "faces", 12, SIDE)
    write_face_folder(root / "test", 4, SIDE, first_seed=500)
    write_occluder_folder(root / "occluders", 3, 40)
    (root / "natocc.yaml").write_text(NATOCC)
    return root


def weights(run: Path) -> dict:
    return load_torch(run / "model.pt")["state_dict"]


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_loss_falls_and_cpu_runs_are_deterministic(data, tmp_path):
    runs, notes = {}, []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        cfg = TrainConfig([str(data / "faces")], str(tmp_path / name), epochs=4, seed=seed, **TINY)
        runs[name] = train(cfg, on_event=lambda e: e.kind == "note" and notes.append(e))
    losses = [row["loss"] for row in runs["a"].history]
    assert len(losses) == 4 and losses[-1] < 0.8 * losses[0]
    assert (tmp_path / "a/metrics.jsonl").read_bytes() == (
        tmp_path / "b/metrics.jsonl"
    ).read_bytes()
    assert same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert (tmp_path / "a/model.pt").read_bytes() == (tmp_path / "b/model.pt").read_bytes()
    assert not same_weights(weights(tmp_path / "a"), weights(tmp_path / "c"))
    rows = [json.loads(x) for x in (tmp_path / "a/metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3] and rows[-1]["steps"] == 12
    config = json.loads((tmp_path / "a/config.json").read_text())
    assert config["sources"][0]["layout"] == "images+masks" and config["sources"][0]["images"] == 12
    assert (tmp_path / "a/curve.png").stat().st_size > 0
    try:
        import onnx  # noqa: F401

        assert (tmp_path / "a/model.onnx").exists() or notes
    except ImportError:  # no model.onnx, and a note that says why
        assert not (tmp_path / "a/model.onnx").exists()
        assert any("onnx package is not installed" in (n.message or "") for n in notes)


def constant_run(run: Path, face_everywhere: bool, size: int = 32) -> Path:
    """A model.pt whose network predicts one class everywhere (head weights 0, biased)."""
    net = UNet(ModelConfig(2, width=4, depth=2))
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([0.0, 1.0] if face_everywhere else [1.0, 0.0]))
    save_torch(run / "model.pt", model_record(net, Target.of("face"), size))
    return run


def hand_made_test_set(root: Path) -> dict[str, np.ndarray]:
    """Two images of different sizes (not the model's) with masks of known area."""
    masks = {}
    rng = np.random.default_rng(0)
    for name, (h, w), box in (("a", (40, 48), (5, 25, 10, 30)), ("b", (64, 64), (0, 16, 0, 64))):
        mask = np.zeros((h, w), np.uint8)
        y0, y1, x0, x1 = box
        mask[y0:y1, x0:x1] = 255
        write_image(root / "images" / f"{name}.png", rng.integers(0, 255, (h, w, 3), np.uint8))
        write_image(root / "masks" / f"{name}.png", mask)
        masks[name] = mask > 0
    return masks


def test_evaluate_iou_is_exact_on_hand_made_masks(tmp_path):
    masks = hand_made_test_set(tmp_path / "test")
    face_run = constant_run(tmp_path / "face", True)
    result = evaluate(face_run, tmp_path / "test", tmp_path / "report-face")
    report = json.loads((tmp_path / "report-face/report.json").read_text())
    assert report == result.report
    rows = {r["id"]: r for r in report["per_image"]}
    for name, mask in masks.items():
        area, total = int(mask.sum()), mask.size
        row = rows[f"{name}.png"]
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (area, total - area, 0, 0)
        assert row["face_iou"] == area / total and row["background_iou"] == 0.0
    ious = [masks[n].sum() / masks[n].size for n in ("a", "b")]
    assert report["face_iou"] == pytest.approx(np.mean(ious))
    assert report["miou"] == pytest.approx(np.mean(ious) / 2)
    pooled = sum(m.sum() for m in masks.values()) / sum(m.size for m in masks.values())
    assert report["face_iou_pooled"] == pytest.approx(pooled)
    assert report["count"] == 2 and report["failed"] == 0
    assert (tmp_path / "report-face/gallery.png").stat().st_size > 0

    bg = evaluate(constant_run(tmp_path / "bg", False), tmp_path / "test", tmp_path / "r-bg")
    assert bg.report["face_iou"] == 0.0
    bg_ious = [1 - masks[n].sum() / masks[n].size for n in ("a", "b")]
    assert bg.report["miou"] == pytest.approx(np.mean(bg_ious) / 2)


def test_evaluate_lists_unusable_test_images(tmp_path):
    hand_made_test_set(tmp_path / "test")
    write_image(tmp_path / "test/images/c.png", np.zeros((20, 20, 3), np.uint8))
    write_image(tmp_path / "test/masks/c.png", np.zeros((20, 20), np.uint8))  # empty mask
    result = evaluate(constant_run(tmp_path / "run", True), tmp_path / "test", tmp_path / "r")
    assert result.report["count"] == 2 and result.report["failed"] == 1
    assert result.report["failures"][0]["reason"].startswith("face mask is empty")
    with pytest.raises(InputError, match=r"no model\.pt"):
        evaluate(tmp_path / "test", tmp_path / "test")
    write_image(tmp_path / "photos/a.png", np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(InputError, match="needs its own masks"):  # photos only: no truth
        evaluate(tmp_path / "run", tmp_path / "photos")


def test_resume_after_kill_9_continues_from_the_checkpoint(data, tmp_path):
    run = tmp_path / "killed"
    args = ["train", str(data / "faces"), "--out", str(run), "--epochs", "6", "--length", "16"]
    args += [
        "--size",
        str(SIDE),
        "--width",
        "8",
        "--batch",
        "4",
        "--device",
        "cpu",
        "--threads",
        "1",
    ]
    cmd = [sys.executable, "-m", "studio.cli", *args, "--progress", "jsonl"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.pt").exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = load_torch(run / "checkpoint.pt")["state"]
    assert 1 <= saved["epoch"] < 6 and not (run / "model.pt").exists()

    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    events = [json.loads(x) for x in resumed.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[0]["done"] == saved["steps"] > 0
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == list(range(saved["epoch"], 6))
    epochs = [json.loads(x)["epoch"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert epochs == list(range(6))

    config = TrainConfig(
        [str(data / "faces")], str(tmp_path / "whole"), epochs=6, length=16, device="cpu", **TINY
    )
    train(config)
    assert same_weights(weights(run), weights(tmp_path / "whole"))
    assert (run / "metrics.jsonl").read_bytes() == (tmp_path / "whole/metrics.jsonl").read_bytes()


def test_resume_refuses_another_config_and_a_run_needs_resume(data, tmp_path):
    cfg = TrainConfig([str(data / "faces")], str(tmp_path / "r"), steps=2, **TINY)
    train(cfg)
    with pytest.raises(InputError, match="holds a training run") as refused:
        train(cfg)
    assert refused.value.hint == "resume"
    other = TrainConfig([str(data / "faces")], str(tmp_path / "r"), steps=2, seed=3, **TINY)
    with pytest.raises(InputError, match="seed is 3 now, 0 in the run"):
        train(other, resume=True)
    again = train(cfg, resume=True)  # a finished run: nothing to do
    assert again.finished and again.steps == 2


class CancelAfter:
    """A stand-in for threading.Event that turns set on its (n+1)-th check (once per step)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_cancel_checkpoints_mid_epoch_and_resume_replays_exactly(data, tmp_path):
    cfg = dict(epochs=2, length=24, **TINY)  # 6 steps per epoch
    faces = [str(data / "faces")]
    first = train(TrainConfig(faces, str(tmp_path / "c"), **cfg), cancel=CancelAfter(3))
    assert not first.finished and first.steps == 4 and first.history == []
    state = load_torch(tmp_path / "c/checkpoint.pt")["state"]
    assert (state["epoch"], state["batch"], state["steps"]) == (0, 4, 4)
    assert not (tmp_path / "c/model.pt").exists()
    done = train(TrainConfig(faces, str(tmp_path / "c"), **cfg), resume=True)
    assert done.finished and done.steps == 12
    whole = train(TrainConfig(faces, str(tmp_path / "w"), **cfg))
    assert same_weights(weights(tmp_path / "c"), weights(tmp_path / "w"))
    assert done.history == whole.history


def test_online_occlusion_changes_targets_deterministically(data):
    target = Target.of("face")
    sets = [LabelledSource(data / "faces", target)]
    occlusion = make_occlusion(data / "natocc.yaml", target, p=1.0, seed=5)
    ds = TrainSet(sets, SIDE, seed=5, occlusion=occlusion, flip=False)
    plain = TrainSet(sets, SIDE, seed=5, flip=False)
    ds.set_epoch(0)
    image, mask = ds[0]
    base_image, base_mask = plain[0]
    assert mask.sum() < base_mask.sum()  # part of the face is now hidden
    assert not torch.equal(image, base_image)
    assert torch.equal(ds[0][1], mask)  # same (seed, epoch, index): same sample
    ds.set_epoch(1)
    assert not torch.equal(ds[0][1], mask)


def test_export_occlusion_masks_are_the_occlusion_target(data, tmp_path):
    from export_helpers import plan_for

    from studio.core.export import run_export

    faces = {"faces": data / "faces/images", "face_masks": data / "faces/masks"}
    run_export(plan_for(data / "natocc.yaml", tmp_path / "export", faces, seed=0, count=3))
    occ = LabelledSource(tmp_path / "export", Target.of("occlusion"))
    face = LabelledSource(tmp_path / "export", Target.of("face"))
    from studio.core.io.imageio import read_mask

    for item_id in occ.ids():
        stem = item_id.rsplit(".", 1)[0]
        want = read_mask(tmp_path / "export/occlusion_masks" / f"{stem}.png")
        assert np.array_equal(occ.load(item_id).target > 0, want)
        assert np.array_equal(
            face.load(item_id).target > 0, read_mask(tmp_path / "export/masks" / f"{stem}.png")
        )
    plain = LabelledSource(data / "faces", Target.of("occlusion"))  # no occluder masks: none
    assert not plain.load(plain.ids()[0]).target.any()
    with pytest.raises(InputError, match="label maps"):
        LabelledSource(data / "faces", Target.of("classes")).load(plain.ids()[0])


def test_compare_writes_its_table(data, tmp_path):
    config = CompareConfig(
        presets=[str(data / "natocc.yaml")],
        faces=str(data / "faces"),
        test=str(data / "test"),
        out=str(tmp_path / "cmp"),
        count=8,
        steps=4,
        size=SIDE,
        width=8,
        batch=4,
        workers=1,
        threads=1,
        device="cpu",
    )
    events = []
    summary = compare(config, on_event=events.append)
    saved = json.loads((tmp_path / "cmp/compare.json").read_text())
    assert [m["name"] for m in saved["models"]] == ["baseline", "natocc"]
    for m in saved["models"]:
        assert m["steps"] == 4 and 0.0 <= m["miou"] <= 1.0 and m["test_images"] == 4
        assert Path(m["report"]).is_file() and Path(m["gallery"]).is_file()
    assert saved["models"][1]["delta_miou"] == pytest.approx(
        saved["models"][1]["miou"] - saved["models"][0]["miou"]
    )
    assert len(saved["models"][1]["data"]) == 2 and saved["models"][1]["items_per_epoch"] == 16
    assert len(list((tmp_path / "cmp/data/natocc/images").iterdir())) == 8
    table = format_table(summary["models"])
    assert "baseline" in table and "natocc" in table and "d mIoU" in table
    assert (tmp_path / "cmp/compare.png").stat().st_size > 0
    kinds = [e.kind for e in events]
    assert kinds[0] == "plan" and kinds[-1] == "done" and kinds.count("result") == 2
    assert {e.model for e in events if e.kind == "epoch"} == {"baseline", "natocc"}
    results = {e.model: e for e in events if e.kind == "result"}  # what the studio reads
    assert results["natocc"].get("miou") == saved["models"][1]["miou"]
    assert results["natocc"].get("gallery") == saved["models"][1]["gallery"]
    with pytest.raises(InputError, match="is not empty") as refused:
        compare(config)
    assert refused.value.hint == "resume"


def celebamask_folder(root: Path, count: int = 4) -> Path:
    """A tiny CelebAMask-HQ layout from procedural faces: skin, both eyes, hair."""
    from studio.core.sources.synthetic import synthetic_face

    for n in range(count):
        face = synthetic_face(SIDE, n)
        write_image(root / "CelebA-HQ-img" / f"{n}.jpg", face.image)
        anno = root / "CelebAMask-HQ-mask-anno" / "0"
        parts = {"skin": face.mask, "hair": np.zeros_like(face.mask)}
        parts["hair"][:8] = True
        for side, x0 in (("l_eye", 18), ("r_eye", 38)):
            eye = np.zeros_like(face.mask)
            eye[26:32, x0 : x0 + 8] = True
            parts[side] = eye
        for part, mask in parts.items():
            write_image(anno / f"{n:05d}_{part}.png", mask.astype(np.uint8) * 255)
    return root


def test_a_mirrored_item_swaps_left_and_right_classes():
    from studio.integrations.train.data import Item, mirror

    labels = np.array([[4, 5, 1, 0], [6, 7, 8, 9]], np.uint8)
    image = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    item = Item("x", image, labels > 0, labels)
    flipped = mirror(item, Target.of("classes"))
    assert flipped.target.tolist() == [[0, 1, 4, 5], [8, 9, 6, 7]]
    assert np.array_equal(flipped.image, image[:, ::-1])
    assert mirror(item, Target.of("face")).target.tolist() == [[0, 1, 5, 4], [9, 8, 7, 6]]


def test_classes_target_with_online_occlusion_trains_and_evaluates(data, tmp_path):
    celeba = celebamask_folder(tmp_path / "celeba")
    target = Target.of("classes")
    occlusion = make_occlusion(data / "natocc.yaml", target, p=1.0, occluders=data / "occluders")
    ds = TrainSet([LabelledSource(celeba, target)], SIDE, occlusion=occlusion, flip=False)
    _, labels = ds[0]
    assert {0, 1, 13, 19} <= set(labels.unique().tolist())  # background, skin, hair, occluder
    cfg = TrainConfig([str(celeba)], str(tmp_path / "run"), target="classes", steps=2, **TINY)
    cfg.occlude, cfg.occluders = str(data / "natocc.yaml"), str(data / "occluders")
    train(cfg)
    record = load_torch(tmp_path / "run/model.pt")
    assert record["classes"] == 20 and record["target"] == "classes"
    assert record["state_dict"]["head.weight"].shape[0] == 20
    report = evaluate(tmp_path / "run", data / "test", tmp_path / "rep").report
    assert report["count"] == 4 and report["positive"] == "face"  # scored on face classes


def test_dataloader_workers_give_the_same_batches(data):
    target = Target.of("face")
    occlusion = make_occlusion(data / "natocc.yaml", target, p=1.0, seed=2)
    ds = TrainSet([LabelledSource(data / "faces", target)], SIDE, seed=2, occlusion=occlusion)
    ds.set_epoch(3)
    batches = [[0, 5, 7], [2, 11]]

    def load(workers: int) -> list:
        loader = torch.utils.data.DataLoader(ds, batch_sampler=batches, num_workers=workers)
        return [(x.clone(), y.clone()) for x, y in loader]

    inline, forked = load(0), load(2)
    for (xa, ya), (xb, yb) in zip(inline, forked, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_loss_is_cross_entropy_plus_dice_of_the_face():
    from studio.integrations.train.loop import segmentation_loss

    targets = torch.zeros(1, 8, 8, dtype=torch.long)
    targets[0, :2, :2] = 1  # a face of 4 pixels out of 64
    right = torch.stack([(targets[0] == 0).float(), (targets[0] == 1).float()])[None] * 40 - 20
    assert segmentation_loss(right, targets).item() == pytest.approx(0.0, abs=1e-6)
    all_background = torch.zeros(1, 2, 8, 8)
    all_background[:, 0] = 20  # cross-entropy alone: 4/64 of the pixels wrong
    # cross-entropy: 4 of 64 pixels wrong by a margin of 20; Dice (smoothed by 1): 1 - 1 / 5
    assert segmentation_loss(all_background, targets).item() == pytest.approx(
        20 * 4 / 64 + (1 - 1 / 5), abs=1e-4
    )
