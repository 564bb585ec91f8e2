"""Presets from the GUI: save / open round trip, dirty marker, invalid files."""

import pytest
import yaml

from studio.core.io.presets import load_preset


def test_save_and_open_round_trip(window, tmp_path):
    window.panel.rows["scale.area_ratio"].range_widget.setValue((0.25, 0.75))
    window.panel.rows["color.method"].value_widget.setCurrentIndex(1)  # reinhard
    window.panel.rows["color.strength"].pinned_widget.setValue(0.4)
    assert window.doc.dirty and "*" in window.windowTitle()
    path = tmp_path / "mine.yaml"
    assert window._save(path)
    assert not window.doc.dirty and "*" not in window.windowTitle()
    assert "mine.yaml" in window.windowTitle()
    saved = load_preset(path)
    assert saved == window.doc.preset
    assert (saved.scale.area_ratio.min, saved.scale.area_ratio.max) == pytest.approx((0.25, 0.75))
    assert saved.color.method == "reinhard" and saved.color.strength == pytest.approx(0.4)

    window.doc.new()
    assert window.doc.preset.color.method == "sot"
    assert window.open_preset(path)
    assert window.doc.preset == saved
    assert window.panel.rows["color.method"].value_widget.currentData() == "reinhard"
    assert window.doc.params.color.method == "reinhard"  # the preview follows the preset
    assert str(path) in window._recent()


def test_invalid_preset_shows_a_message_not_a_crash(window, tmp_path):
    before = window.doc.preset
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"scale": {"area_ratio": {"min": 2, "max": 1}}}))
    assert not window.open_preset(bad)
    assert window.doc.preset == before
    assert "bad.yaml" in window.messages[-1] and "scale.area_ratio" in window.messages[-1]
    broken = tmp_path / "broken.yaml"
    broken.write_text("scale: [unclosed\n")
    assert not window.open_preset(broken)
    assert "not valid YAML" in window.messages[-1]
    assert not window.open_preset(tmp_path / "missing.yaml")
    assert "not found" in window.messages[-1]


def test_invalid_value_in_the_panel_is_refused_in_place(window):
    row = window.panel.rows["placement.min_coverage"]
    before = window.doc.preset
    row.value_widget.setValue(0.9)  # above max_coverage (0.6)
    assert window.doc.preset == before
    assert not row.error.isHidden()
    assert "greater than max_coverage" in row.error.text()
    assert row.value_widget.value() == pytest.approx(before.placement.min_coverage)
    row.value_widget.setValue(0.1)
    assert row.error.isHidden()
    assert window.doc.preset.placement.min_coverage == pytest.approx(0.1)


def test_randocc_mode_renders_a_shape(window):
    from gui_helpers import render

    window.panel.rows["mode"].value_widget.setCurrentIndex(1)
    assert window.doc.preset.mode == "randocc"
    frame = render(window)
    assert frame.error is None and frame.request.params.shape is not None
    first = frame.request.params.shape
    window.new_shape()
    frame = render(window)
    assert frame.request.params.shape != first
