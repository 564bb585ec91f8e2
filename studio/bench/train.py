"""Training benchmarks (``studio bench --suite train``): training images/s of the compact
U-Net (width 16, batch 8) at 128 and 256 px, at torch's default thread count and at one thread
side by side; evaluate images/s; and the wall time of a small ``studio compare`` (count 300,
a 2-minute baseline, two presets) on procedural faces, tested on other procedural faces
occluded by procedural hands no preset uses (its scores are printed in the note: a toy).

Everything runs through the real code paths (``train``, ``evaluate``, ``compare``) on data
written to a temporary folder. CUDA rows are measured where torch sees a GPU (``--backend cuda``
or ``auto``), otherwise they say why not.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

from studio.bench.common import BenchRow
from studio.core.sources.synthetic import write_face_folder, write_occluder_folder
from studio.integrations.train import prepare_torch_env

SUITE = "train"
NATOCC = """name: bench-natocc
mode: natocc
sources: {occluders: occluders, occluder_kind: hand}
rotation: {point_at_face: true}
color: {method: sot, probability: 1.0}
"""
RANDOCC = """name: bench-randocc
mode: randocc
shape: {canvas: 256}
blend: {opacity_probability: 0.3, opacity: {min: 0.4, max: 0.7}}
"""


def _missing(name: str, unit: str, note: str) -> BenchRow:
    return BenchRow(SUITE, name, math.nan, unit, note=note)


def _train_rate(root: Path, tag: str, size: int, steps: int, device: str, threads: int | None):
    """Training images/s of ``steps`` steps (after a 3-step warm-up run), data included."""
    from studio.integrations.train.loop import TrainConfig, train

    def run(name: str, n: int):
        cfg = TrainConfig(
            [str(root / "faces")],
            str(root / "runs" / f"{tag}-{name}"),
            size=size,
            steps=n,
            device=device,
            threads=threads,
        )
        return train(cfg)

    run("warm", 3)
    result = run("timed", steps)
    return result.steps * 8 / result.seconds, root / "runs" / f"{tag}-timed"


def _compare_wall(root: Path, quick: bool, device: str) -> tuple[float, str]:
    from studio.integrations.train.compare import CompareConfig, compare

    (root / "natocc.yaml").write_text(NATOCC)
    (root / "randocc.yaml").write_text(RANDOCC)
    count, budget = (40, {"steps": 20}) if quick else (300, {"minutes": 2.0})
    config = CompareConfig(
        presets=[str(root / "natocc.yaml"), str(root / "randocc.yaml")],
        faces=str(root / "faces"),
        test=str(root / "test"),
        out=str(root / "compare"),
        count=count,
        size=128,
        device=device,
        **budget,
    )
    t0 = time.perf_counter()
    summary = compare(config)
    wall = time.perf_counter() - t0
    what = "steps 20" if quick else "2 min baseline"
    scores = ", ".join(f"{r['name']} {r['miou']:.3f}" for r in summary["models"])
    note = (
        f"count {count}, {what}, 2 presets, 128 px, {summary['budget_steps']} steps each; "
        f"test mIoU (procedural faces, unseen hands): {scores}"
    )
    return wall, note


def _occluded_test_set(root: Path, count: int) -> Path:
    """Procedural faces (seeds no training face has) occluded by procedural hands of seeds no
    training preset uses, exported with NatOcc + SOT: visible-face masks, like RealOcc."""
    from studio.core.export import job_sources, make_plan, run_export
    from studio.core.io.presets import load_preset

    faces = write_face_folder(root / "test-faces", count, 256, first_seed=10_000)
    write_occluder_folder(root / "test-occluders", 4, 128, first_seed=100)
    preset_path = root / "test.yaml"
    preset_path.write_text(NATOCC.replace("occluders: occluders", "occluders: test-occluders"))
    preset = load_preset(preset_path)
    overrides = {"faces": faces / "images", "face_masks": faces / "masks"}
    sources = job_sources(preset, preset_path, overrides)
    run_export(make_plan(preset, sources, root / "test", seed=999, count=count))
    return root / "test"


def run(quick: bool, backend: str) -> list[BenchRow]:
    """Training and evaluation throughput, and one small compare."""
    names = ["train 128 px", "train 256 px", "evaluate", "compare wall time"]
    imported = "torch" in sys.modules  # then torch's OpenMP wait policy is already fixed
    prepare_torch_env()
    try:
        import torch
    except ImportError:
        note = "not measured: torch not installed"
        return [_missing(n, "img/s" if n != names[3] else "s", note) for n in names]
    steps = {128: 6 if quick else 30, 256: 3 if quick else 12}
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-train-") as tmp:
        root = Path(tmp)
        write_face_folder(root / "faces", 24 if quick else 60, 256)
        _occluded_test_set(root, 16 if quick else 40)
        write_occluder_folder(root / "occluders", 6, 128)
        threads = torch.get_num_threads()
        policy = "torch imported earlier" if imported else os.environ["OMP_WAIT_POLICY"]
        rates, runs = {}, {}
        for size in (128, 256):
            rates[size], runs[size] = _train_rate(
                root, f"cpu{size}", size, steps[size], "cpu", None
            )
            rows.append(
                BenchRow(
                    SUITE,
                    f"train {size} px, cpu",
                    rates[size],
                    "img/s",
                    note=f"{threads} threads ({policy}), batch 8, width 16, {steps[size]} steps",
                )
            )
        one, _ = _train_rate(root, "cpu128-1t", 128, steps[128], "cpu", 1)
        torch.set_num_threads(threads)
        rows.append(BenchRow(SUITE, "train 128 px, cpu, 1 thread", one, "img/s", note="same run"))
        rows.append(
            BenchRow(SUITE, f"{threads} threads / 1 thread", rates[128] / one, "x", note="128 px")
        )
        cuda = backend in ("cuda", "auto") and torch.cuda.is_available()
        for size in (128, 256):
            if cuda:
                rate, _ = _train_rate(root, f"cuda{size}", size, steps[size] * 4, "cuda", None)
                note = torch.cuda.get_device_name(0)
                rows.append(BenchRow(SUITE, f"train {size} px, cuda", rate, "img/s", note=note))
            else:
                why = "run with --backend cuda" if backend == "cpu" else "no GPU seen by torch"
                rows.append(_missing(f"train {size} px, cuda", "img/s", f"not measured: {why}"))
        from studio.integrations.train.evaluate import evaluate

        result = evaluate(runs[128], root / "test", root / "eval", device="cpu")
        rows.append(
            BenchRow(
                SUITE,
                "evaluate, cpu",
                result.rate,
                "img/s",
                note="128 px model on 256 px test images, metrics at full size",
            )
        )
        wall, note = _compare_wall(root, quick, "cpu")
        name = "small compare wall time" + (" (quick)" if quick else "")
        rows.append(BenchRow(SUITE, name, wall, "s", note=note))
    return rows
