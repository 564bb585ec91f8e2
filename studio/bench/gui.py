"""`studio bench` suite "gui": drag-to-frame latency and event-loop blocking of the studio.

Runs ``python -m studio.gui.latency`` in a subprocess (offscreen Qt), once idle and once while
a real `studio export` of the demo preset runs (every core, at the studio's lower priority).
Skipped with a note when PySide6 is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from studio.bench.common import BenchRow

SUITE = "gui"
LATENCY_TARGET_MS = 30.0
BLOCK_TARGET_MS = 50.0


def _measure(steps: int, load: bool) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # 1024 px faces: previews at the 512 px cap, like real photos
    cmd = [sys.executable, "-m", "studio.gui.latency", "--steps", str(steps), "--face-size", "1024"]
    proc = subprocess.run(
        [*cmd, "--load"] if load else cmd, env=env, capture_output=True, text=True, timeout=600
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"latency run failed: {tail}")
    return json.loads(lines[-1])


def run(quick: bool, backend: str) -> list[BenchRow]:
    if importlib.util.find_spec("PySide6") is None:
        return [BenchRow(SUITE, "skipped", 0.0, "", note="PySide6 is not installed (gui extra)")]
    steps = 60 if quick else 200
    rows: list[BenchRow] = []
    for load, suffix in ((False, ""), (True, "_during_export")):
        m = _measure(steps, load)
        note = (
            f"{steps} drag steps at 60 Hz, preview {m['preview_size'][0]}x{m['preview_size'][1]}"
            + (", while a real studio export runs" if load else "")
        )
        median, block = m["latency_ms_median"], m["event_loop_block_ms_max"]
        rows.append(
            BenchRow(SUITE, f"drag_to_frame_median{suffix}", median, "ms",
                     f"< {LATENCY_TARGET_MS:g}", median < LATENCY_TARGET_MS, note)
        )  # fmt: skip
        if m["latency_ms_p95"] is not None:
            rows.append(BenchRow(SUITE, f"drag_to_frame_p95{suffix}", m["latency_ms_p95"], "ms"))
        rows.append(
            BenchRow(SUITE, f"event_loop_block_max{suffix}", block, "ms",
                     f"< {BLOCK_TARGET_MS:g}", block < BLOCK_TARGET_MS, note)
        )  # fmt: skip
    return rows
