"""Small on-disk inputs for export tests, made with studio.core.sources.synthetic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

FACE_SIDE = 128


def make_inputs(root: Path, faces: int = 6, occluders: int = 3, textures: int = 2) -> Path:
    """faces/, face_masks/, occluders/ (RGBA) and textures/ under ``root``."""
    for d in ("faces", "face_masks", "occluders", "textures"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(faces):
        f = synthetic_face(FACE_SIDE, seed=i)
        cv2.imwrite(str(root / f"faces/face.{i:02d}.jpg"), f.image[:, :, ::-1])
        cv2.imwrite(str(root / f"face_masks/face.{i:02d}.png"), f.mask.astype(np.uint8) * 255)
    for i in range(occluders):
        o = synthetic_occluder(FACE_SIDE // 2, seed=i)
        cv2.imwrite(str(root / f"occluders/o{i}.png"), np.dstack([o.image[:, :, ::-1], o.alpha]))
    for i in range(textures):
        t = synthetic_texture(64, seed=i)
        cv2.imwrite(str(root / f"textures/t{i}.jpg"), t.image[:, :, ::-1])
    return root


def write_preset(path: Path, extra: str = "", mode: str = "natocc") -> Path:
    """A small preset whose sources are relative to its own folder."""
    text = (
        f"name: test\nmode: {mode}\n"
        "sources:\n  faces: faces\n  face_masks: face_masks\n  occluders: occluders\n"
        "  textures: textures\n"
        "color:\n  samples: 512\n  steps: 4\n"
        "placement:\n  min_coverage: 0.05\n  max_coverage: 0.7\n" + extra
    )
    path.write_text(text)
    return path


def export_cli(preset: Path, out: Path | str, *args: str, count: int) -> int:
    """``studio export PRESET --out OUT --count COUNT`` with one worker and no progress."""
    from studio.cli import main

    base = ["export", str(preset), "--out", str(out), "--count", str(count)]
    return main([*base, "--workers", "1", "--progress", "none", *args])


def reference_job(factory: Any, faces: int, count: int) -> tuple[Path, Path]:
    """A preset on ``faces`` small inputs and its uninterrupted export of ``count`` samples."""
    root = make_inputs(factory.mktemp("inputs"), faces=faces)
    preset = write_preset(root / "p.yaml")
    ref = factory.mktemp("ref") / "out"
    assert export_cli(preset, ref, count=count) == 0
    return preset, ref


def output_files(out: Path) -> dict[str, bytes]:
    """Every sample file of an export, by relative path (job records excluded)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".jpg", ".png") and p.name != "sheet.png"
    }


def manifest_rows(out: Path) -> list[dict]:
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines() if x]
    return sorted(rows, key=lambda r: r["index"])


def failure_rows(out: Path) -> list[dict]:
    path = out / "failures.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines() if x] if path.exists() else []
    return sorted(rows, key=lambda r: (r["index"] is None, r["index"] or 0, r["path"]))


def _one_cpu() -> None:
    """Run the export (and its spawned workers) on one CPU, so that the test process, on the
    other, reads its progress and signals it well before it ends."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[-1]})


def start_export(args: list[str]) -> subprocess.Popen[str]:
    """``studio export ARGS --progress jsonl`` in its own process group (for signals)."""
    cmd = [sys.executable, "-m", "studio.cli", "export", *args, "--progress", "jsonl"]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_one_cpu,
    )


def wait_for_progress(proc: subprocess.Popen[str], done: int) -> list[dict]:
    """Read the job's events until ``done`` samples are reported."""
    events = []
    assert proc.stdout is not None
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "progress" and events[-1]["done"] >= done:
            return events
    raise AssertionError(f"job ended before {done} samples: {events}")


def plan_for(preset_path: Path, out: Path, overrides: dict | None = None, **kw):
    """The export plan of a preset file whose sources are relative to its own folder (with
    the command line's ``--faces``-like ``overrides``)."""
    from studio.core.export import make_plan
    from studio.core.io.presets import load_preset
    from studio.core.sources import refs_from_preset

    preset = load_preset(preset_path)
    refs = refs_from_preset(preset.sources, preset_path.parent, overrides)
    return make_plan(preset, refs, out, **kw)
