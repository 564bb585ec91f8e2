"""The report of a small export opens in headless Chromium, and its screenshot is not blank."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from export_helpers import make_inputs, plan_for, write_preset
from PIL import Image

from studio.core.export import run_export

CHROMIUM = Path("/usr/bin/chromium")
ACCENT = np.array([47, 107, 216])  # the plots' bar colour (studio.report.plots.ACCENT)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs /usr/bin/chromium (Debian package chromium; make test installs it as root)",
    ),
    pytest.mark.timeout(180),
]


def screenshot(page: Path, png: Path, profile: Path, size: str = "1280,4000") -> np.ndarray:
    """A headless Chromium screenshot of ``page`` as an RGB array."""
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
        f"--window-size={size}", page.resolve().as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.is_file(), proc.stderr[-2000:]
    return np.asarray(Image.open(png).convert("RGB"))


def test_report_opens_in_chromium_and_is_not_blank(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the report needs matplotlib (the report extra)")
    from studio.report import write_report

    root = make_inputs(tmp_path / "in", faces=3, occluders=2)
    preset_path = write_preset(root / "p.yaml", "rotation:\n  angle: {min: -30.0, max: 30.0}\n")
    out = tmp_path / "out"
    run_export(plan_for(preset_path, out, count=9))
    report = write_report(out, samples_per_bin=2)
    shot = screenshot(report.html, tmp_path / "shot.png", tmp_path / "profile")
    assert shot.shape[:2] == (4000, 1280)  # the whole page, samples included
    colours = len(np.unique(shot.reshape(-1, 3), axis=0))
    assert shot.std() > 20 and colours > 500, (shot.std(), colours)
    # the inline SVG plots were drawn: their bar colour covers a visible part of the page
    bars = (np.abs(shot.astype(int) - ACCENT).sum(axis=2) < 30).mean()
    assert bars > 0.005, bars
    # the thumbnails (files beside the page) were loaded: the page holds the samples' pixels
    blank = screenshot(_without_images(report.html), tmp_path / "blank.png", tmp_path / "p2")
    changed = np.abs(shot.astype(int) - blank.astype(int)).sum(axis=2) > 60
    assert changed.sum() > 6 * 100 * 100, changed.sum()  # six thumbnails, at least 100x100


def _without_images(page: Path) -> Path:
    """The same page with its thumbnails pointing nowhere (for comparison)."""
    text = page.read_text(encoding="utf-8").replace('src="report/thumbs/', 'src="missing/')
    copy = page.with_name("report-no-thumbs.html")
    copy.write_text(text, encoding="utf-8")
    return copy
