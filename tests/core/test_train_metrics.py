"""The metrics of studio evaluate, exact on hand-made masks (NumPy only, no torch needed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from studio.integrations.train.metrics import (
    boundary,
    boundary_f,
    boundary_radius,
    confusion,
    dilate_disk,
    image_scores,
    iou_scores,
    summarize,
)


def masks_4x4():
    truth = np.zeros((4, 4), bool)
    truth[1:3, 1:3] = True  # 4 pixels
    pred = np.zeros((4, 4), bool)
    pred[1:3, 1:4] = True  # 6 pixels, 4 of them right
    return pred, truth


def test_counts_and_ious_by_hand():
    pred, truth = masks_4x4()
    counts = confusion(pred, truth)
    assert counts == {"tp": 4, "fp": 2, "fn": 0, "tn": 10}
    scores = iou_scores(counts)
    assert scores["face_iou"] == pytest.approx(4 / 6)
    assert scores["background_iou"] == pytest.approx(10 / 12)
    assert scores["miou"] == pytest.approx((4 / 6 + 10 / 12) / 2)


def test_missed_pixels_count_as_false_negatives():
    pred, truth = masks_4x4()
    counts = confusion(truth, pred)  # roles swapped: 2 face pixels missed
    assert counts == {"tp": 4, "fp": 0, "fn": 2, "tn": 10}


def test_empty_union_is_a_perfect_score_and_shapes_must_match():
    empty = np.zeros((3, 5), bool)
    scores = image_scores(empty, empty)
    assert scores["face_iou"] == 1.0 and scores["background_iou"] == 1.0
    assert scores["boundary_f"] == 1.0
    full = ~empty
    assert image_scores(full, empty)["face_iou"] == 0.0
    with pytest.raises(ValueError, match="shape"):
        confusion(empty, np.zeros((5, 3), bool))


def test_boundary_is_the_inner_ring_and_ignores_the_frame():
    m = np.zeros((9, 9), bool)
    m[2:7, 2:7] = True
    ring = boundary(m)
    assert ring.sum() == 16 and not ring[3:6, 3:6].any() and ring[2, 2:7].all()
    assert not boundary(np.ones((6, 6), bool)).any()  # a face filling the frame has no edge
    half = np.zeros((6, 6), bool)
    half[:, :3] = True
    assert boundary(half).sum() == 6 and boundary(half)[:, 2].all()


def test_disk_dilation_matches_brute_force():
    rng = np.random.default_rng(0)
    m = rng.random((23, 31)) < 0.04
    for r in (0, 1, 2, 4):
        want = np.zeros_like(m)
        for y, x in zip(*np.nonzero(m), strict=True):
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    if dy * dy + dx * dx <= r * r and 0 <= y + dy < 23 and 0 <= x + dx < 31:
                        want[y + dy, x + dx] = True
        assert np.array_equal(dilate_disk(m, r), want), r


def test_boundary_f_tolerance():
    truth = np.zeros((20, 20), bool)
    truth[5:15, 5:15] = True
    pred = np.roll(truth, 3, axis=1)  # 3 px to the right
    assert boundary_f(truth, truth) == 1.0
    assert boundary_f(pred, truth, radius=3) == 1.0
    assert boundary_f(pred, truth, radius=2) < 1.0
    # radius 0: only the top/bottom edge pixels that coincide (x = 8..14 of 10) match
    bp = boundary(pred)
    precision = (bp & boundary(truth)).sum() / bp.sum()
    assert boundary_f(pred, truth, radius=0) == pytest.approx(precision)  # symmetric case
    assert boundary_f(np.zeros_like(truth), truth) == 0.0
    assert boundary_radius((512, 512)) == 6  # ceil(0.008 * 724.1)


def test_summary_means_and_pooled_ious():
    small_t = np.zeros((2, 2), bool)
    small_t[0, 0] = True
    small = image_scores(small_t, small_t)  # perfect, 4 pixels
    big_t = np.zeros((4, 4), bool)
    big_t[:2, :] = True  # 8 face pixels
    big = image_scores(np.zeros((4, 4), bool), big_t)  # all missed
    s = summarize([small, big])
    assert s["count"] == 2
    assert s["face_iou"] == pytest.approx((1.0 + 0.0) / 2)
    assert s["miou"] == pytest.approx((1.0 + (0 + 8 / 16) / 2) / 2)
    # pooled: tp 1, fp 0, fn 8, tn 3 + 8
    assert s["face_iou_pooled"] == pytest.approx(1 / 9)
    assert s["miou_pooled"] == pytest.approx((1 / 9 + 11 / 19) / 2)
    with pytest.raises(ValueError):
        summarize([])


@pytest.mark.parametrize("command", ["train", "evaluate", "compare"])
def test_commands_without_torch_say_how_to_install_it(command, tmp_path):
    args = {
        "train": ["train", str(tmp_path), "--out", str(tmp_path / "run")],
        "evaluate": ["evaluate", str(tmp_path), "--test", str(tmp_path)],
        "compare": ["compare", "p.yaml", "--faces", str(tmp_path), "--test", str(tmp_path)],
    }[command]
    code = (
        "import sys; sys.modules['torch'] = None\n"  # import torch now raises ImportError
        "from studio.cli import main\n"
        f"sys.exit(main({args!r}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs PyTorch" in lines[0] and "pip install" in lines[0]
    assert not (tmp_path / "run").exists()
