"""The latency benchmark's GUI driver really drags the occluder and sees frames."""

import json
import os
import subprocess
import sys

from studio.bench import SUITES


def test_latency_driver_drags_and_reports():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "studio.bench.gui_latency", "--steps", "15"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["events"] == 15  # every mouse move produced a render request
    assert result["frames_shown"] >= 1
    assert result["latency_ms_median"] > 0 and result["event_loop_block_ms_max"] >= 0
    assert "gui" in SUITES


def test_strength_driver_drags_the_slider_and_reports_frame_times():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "studio.bench.gui_latency", "--strength", "--steps", "8"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    assert m["steps"] == 8 and m["requests"] == 8  # every slider value asked for a frame
    assert m["frames_shown"] >= 2
    assert m["first_frame_ms"] > 0 and m["frame_ms_median_after_first"] > 0


def test_browse_driver_opens_a_folder_and_reports(tmp_path):
    from gui_helpers import many_faces

    images = many_faces(tmp_path / "faces", 400)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CACHE_DIR=str(tmp_path / "c"))
    proc = subprocess.run(
        [sys.executable, "-m", "studio.bench.gui_browse", str(images), "--watch", "1",
         "--steps", "12"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    assert m["items"] == 400 and 0 < m["open_to_list_s"] <= m["open_to_thumbs_s"]
    assert m["rows_in_view"] <= m["thumbs_decoded"] <= 3 * m["rows_in_view"]
    assert m["drag"]["events"] == 12 and m["drag"]["thumbs_made_meanwhile"] > 0
    assert m["reopen_hits"] >= m["rows_in_view"] > m["reopen_decoded"]  # margin rows may differ
    assert m["ui_block_ms_max"] >= 0 and m["rss_peak_mib"] >= m["rss_before_mib"] > 0
