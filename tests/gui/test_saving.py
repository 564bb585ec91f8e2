"""Shipped presets are read-only templates, and saving records what the studio shows: Ctrl+S on
a shipped preset asks where (the user's presets folder) and never writes into the install; the
saved file names the browsers' sources and rounded values, so `studio export SAVED.yaml` draws
the first nine samples of the Samples tab pixel for pixel."""

import hashlib
import json
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml
from gui_helpers import render
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from test_samples_export import open_folders
from test_tuning import rotate_a_quarter, scale_by

from studio.core.io.paths import presets_dir, resources_dir


def install_digest() -> dict[str, str]:
    """Every shipped preset and bundled resource file, by path: its bytes' digest."""
    out = {}
    for root in (presets_dir(), resources_dir()):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def asked(window):
    """Answer the save dialog with the path it suggests (or one set in ``asked["answer"]``);
    the suggestions are recorded."""
    record = {"suggested": [], "answer": None}

    def ask(suggested):
        record["suggested"].append(suggested)
        return record["answer"] or suggested

    window.ask_save_path = ask
    return record


def press_ctrl_s(window):
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def test_ctrl_s_on_a_shipped_preset_asks_where_and_leaves_the_install_alone(
    window, asked, data_dir
):
    before = install_digest()
    assert window.doc.template == "demo" and window.doc.path is None
    assert "a copy of the shipped demo" in window.windowTitle()
    press_ctrl_s(window)  # even with no change
    mine = data_dir / "presets" / "demo-copy.yaml"
    assert asked["suggested"] == [mine]
    assert mine.is_file() and window.doc.path == mine and window.doc.template is None
    assert install_digest() == before
    window.panel.rows["color.strength"].pinned_widget.setValue(0.5)
    press_ctrl_s(window)  # now it has a file of its own: saved there, nothing asked
    assert len(asked["suggested"]) == 1 and yaml.safe_load(mine.read_text())["color"]["strength"]
    assert install_digest() == before


def test_saving_into_the_install_is_refused(window, asked):
    before = install_digest()
    asked["answer"] = presets_dir() / "demo.yaml"
    assert not window.save_preset()
    assert "inside the studio's install" in window.messages[-1]
    assert install_digest() == before and window.doc.path is None


def test_save_writes_the_browsers_sources_relative_below_the_file(window, asked, tmp_path):
    open_folders(window, tmp_path)
    asked["answer"] = tmp_path / "mine.yaml"  # the folders lie below it: relative
    assert window.save_preset()
    sources = yaml.safe_load((tmp_path / "mine.yaml").read_text())["sources"]
    assert sources["faces"] == "faces"  # its masks folder is found beside it, as at opening
    assert sources["occluders"] == "occ"
    elsewhere = tmp_path / "presets" / "mine.yaml"
    elsewhere.parent.mkdir()
    asked["answer"] = elsewhere  # not below: absolute
    assert window.save_preset_as()
    sources = yaml.safe_load(elsewhere.read_text())["sources"]
    assert sources["faces"] == str(tmp_path / "faces")
    # the textures browser shows the synthetic samples: the preset's own value, moved along
    assert sources["textures"] == str(resources_dir() / "samples" / "textures")


def test_unsaved_changes_dialog_offers_save(window, asked, tmp_path, qtbot):
    window.ask_before_discarding = True  # the real question
    window.panel.rows["color.strength"].pinned_widget.setValue(0.4)
    asked["answer"] = tmp_path / "kept.yaml"
    clicked = {}

    def click_save():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        clicked["buttons"] = [b.text().replace("&", "") for b in box.buttons()]
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Save), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click_save)
    window.new_preset()
    assert set(clicked["buttons"]) >= {"Save", "Discard", "Cancel"}
    assert (tmp_path / "kept.yaml").is_file()
    assert yaml.safe_load((tmp_path / "kept.yaml").read_text())["color"]["strength"] == 0.4
    assert window.doc.preset.name == "untitled"  # then the new preset


def test_saved_preset_exports_the_samples_tab_pixel_for_pixel(window, asked, tmp_path, qtbot):
    open_folders(window, tmp_path)  # 96 px faces: a tile is drawn at full resolution
    fmt = window.panel.rows["output.image_format"].value_widget
    fmt.setCurrentIndex(fmt.findData("png"))  # lossless, to compare pixels
    render(window)
    rotate_a_quarter(window)  # a fixed angle, tuned on the canvas
    render(window)
    scale_by(window, 1.5)  # outside the area range: widened with the row's button
    row = window.panel.rows["scale.area_ratio"]
    window.show_tab("preview")
    qtbot.mouseClick(row.widen_button, Qt.MouseButton.LeftButton)
    window.panel.rows["color.strength"].range_widget.setValue((0.50920245398773, 0.9))
    window.samples.seed.setValue(11)
    window.show_tab("samples")
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    shown = dict(window.samples.images)
    infos = dict(window.samples.samples)
    saved = tmp_path / "saved.yaml"
    asked["answer"] = saved
    assert window.save_preset()
    text = saved.read_text()
    assert not re.search(r"\d\.\d{4,}", text), "a value beyond its row's precision"
    out = tmp_path / "export"
    command = [sys.executable, "-m", "studio.cli", "export", str(saved), "--out", str(out)]
    command += ["--count", "9", "--seed", "11", "--workers", "1"]
    done = subprocess.run(command, cwd=tmp_path / "occ", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in (out / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        rows[row["index"]] = row
    failures = [json.loads(x)["index"] for x in (out / "failures.jsonl").read_text().splitlines()]
    # each of the first nine indices is the tile's sample, or a failure the tile showed (the
    # export then makes a replacement past the nine: index 9, 10, ...)
    assert all((i in rows) != (i in failures) for i in range(9)) and rows
    for index in range(9):
        if index in failures:
            assert infos[index].params is None  # the tile said it could not be drawn
            continue
        exported = cv2.imread(str(out / rows[index]["files"]["image"]), cv2.IMREAD_COLOR)[
            :, :, ::-1
        ]
        assert exported.shape == shown[index].shape
        assert np.array_equal(exported, shown[index]), f"sample {index} differs"
        assert infos[index].params.rotation == rows[index]["params"]["rotation"]
    saved_preset = yaml.safe_load(text)
    angle, area = saved_preset["rotation"]["angle"], saved_preset["scale"]["area_ratio"]
    assert all(r["params"]["rotation"] == angle for r in rows.values())
    assert area["max"] > 1.0  # widened on the canvas's row, and saved so
    assert all(area["min"] <= r["params"]["area_ratio"] <= area["max"] for r in rows.values())


def test_studio_presets_lists_what_the_studio_saved(window, asked, data_dir, capsys):
    press_ctrl_s(window)
    from studio.cli import main

    assert main(["presets"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^demo-copy\s+yours\s+natocc", listing, re.M)
    assert main(["validate", "demo-copy"]) == 0  # the name resolves to the user's preset
