"""Crash safety with real processes: kill -9 mid-run, SIGTERM (the GUI's stop), then --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from export_helpers import (
    make_inputs,
    manifest_rows,
    output_files,
    start_export,
    wait_for_progress,
    write_preset,
)

from studio.cli import main

COUNT = 300  # enough that a signal after the second progress event lands mid-run


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Inputs, a preset, and an uninterrupted one-worker export as the reference."""
    root = make_inputs(tmp_path_factory.mktemp("inputs"), faces=8)
    preset = write_preset(root / "p.yaml")
    ref = tmp_path_factory.mktemp("ref") / "out"
    assert (
        main(
            [
                "export",
                str(preset),
                "--out",
                str(ref),
                "--count",
                str(COUNT),
                "--workers",
                "1",
                "--progress",
                "none",
            ]
        )
        == 0
    )
    return preset, ref


def _start(preset: Path, out: Path, workers: int) -> subprocess.Popen[str]:
    args = [str(preset), "--out", str(out), "--count", str(COUNT), "--workers", str(workers)]
    return start_export(args)


def _resume_and_compare(preset: Path, out: Path, ref: Path) -> None:
    code = main(
        [
            "export",
            str(preset),
            "--out",
            str(out),
            "--count",
            str(COUNT),
            "--workers",
            "2",
            "--resume",
            "--progress",
            "none",
        ]
    )
    assert code == 0
    assert output_files(out) == output_files(ref)
    assert manifest_rows(out) == manifest_rows(ref)
    assert not list(out.rglob("*.tmp"))


def test_kill_9_then_resume_gives_the_same_files(job: tuple[Path, Path], tmp_path: Path) -> None:
    preset, ref = job
    out = tmp_path / "out"
    proc = _start(preset, out, workers=2)
    wait_for_progress(proc, 2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-run
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < len(manifest_rows(out)) < COUNT
    assert not (out / "stats.json").exists()
    _resume_and_compare(preset, out, ref)
    assert json.loads((out / "stats.json").read_text())["written"] == COUNT


def test_sigterm_stops_cleanly_and_resumes(job: tuple[Path, Path], tmp_path: Path) -> None:
    preset, ref = job
    out = tmp_path / "out"
    proc = _start(preset, out, workers=1)
    wait_for_progress(proc, 2)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    events = [json.loads(line) for line in rest.splitlines()]
    assert proc.returncode == 130, err
    assert events[-1]["event"] == "done" and events[-1]["cancelled"] is True
    assert "continue with --resume" in err and "Traceback" not in err
    written = len(manifest_rows(out))
    assert written == events[-1]["written"] and 0 < written < COUNT
    _resume_and_compare(preset, out, ref)
