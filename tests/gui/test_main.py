"""`python main.py`: no display -> one clear line; --screenshot under Xvfb."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_display_it_fails_with_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_screenshot_under_xvfb(tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    env = dict(os.environ, HOME=str(tmp_path))  # fresh settings
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, "main.py",
         "--screenshot", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = QImage(str(out))
    assert image.width() >= 1000 and image.height() >= 600
    # not a blank grab: the canvas shows a rendered face (many distinct colours)
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 200


def test_sources_from_the_shell_are_opened_before_the_screenshot(tmp_path):
    """`main.py --faces DIR --textures DIR --screenshot OUT`: the face folder (any layout)
    opens; a folder that does not is named on stderr and the rest still works."""
    import cv2
    import numpy as np
    from PySide6.QtGui import QImage

    faces = tmp_path / "data" / "faces_img"  # the X_img + X_mask layout
    masks = tmp_path / "data" / "faces_mask"
    faces.mkdir(parents=True)
    masks.mkdir()
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 90, 255, -1)
    for name, channel in (("a", 0), ("b", 1)):  # a red face, a green one
        image = np.zeros((300, 300, 3), np.uint8)
        image[:, :, channel] = 220
        cv2.imwrite(str(faces / f"{name}.png"), image[:, :, ::-1])
        cv2.imwrite(str(masks / f"{name}.png"), mask)
    out = tmp_path / "shot.png"
    env = dict(os.environ, HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    env["STUDIO_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run(
        [sys.executable, "main.py", "--faces", str(faces), "--face", "b.png",
         "--textures", str(tmp_path / "missing"), "--screenshot", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"{tmp_path / 'missing'}: not found" in proc.stderr
    image = QImage(str(out))
    colours = [
        image.pixelColor(x, y)
        for x in range(0, image.width(), 4)
        for y in range(0, image.height(), 4)
    ]
    greens = sum(1 for c in colours if c.green() > 180 and c.red() < 60 and c.blue() < 60)
    reds = sum(1 for c in colours if c.red() > 180 and c.green() < 60 and c.blue() < 60)
    assert greens > 2000 and reds < 1000  # --face b.png fills the canvas; a is a thumbnail
    assert len(list((tmp_path / "cache" / "thumbnails").rglob("*.jpg"))) == 2
