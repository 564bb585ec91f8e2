"""The latency benchmark's GUI driver really drags the occluder and sees frames."""

import json
import os
import subprocess
import sys

from studio.bench import SUITES


def test_latency_driver_drags_and_reports():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "studio.gui.latency", "--steps", "15"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["events"] == 15  # every mouse move produced a render request
    assert result["frames_shown"] >= 1
    assert result["latency_ms_median"] > 0 and result["event_loop_block_ms_max"] >= 0
    assert "gui" in SUITES
