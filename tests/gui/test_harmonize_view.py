"""The Harmonize group of the parameter panel and the Raw paste view mode."""

import numpy as np
import pytest
from gui_helpers import render
from pydantic import BaseModel

from studio.core.model.params import HarmonizeParams
from studio.core.model.spec import HarmonizeSpec, field_bounds
from studio.gui.view_modes import RAW_PASTE, compose_view


def leaf_fields(model: type[BaseModel], prefix: str = "harmonize") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            out += leaf_fields(sub, f"{prefix}.{name}")
        else:
            out.append(f"{prefix}.{name}")
    return out


def test_harmonize_group_has_every_field_with_its_bounds_and_a_tooltip(window):
    assert "Harmonize" in window.panel.sections
    keys = leaf_fields(HarmonizeSpec)
    assert len(keys) == 17  # issue 23 added look (3), light and compression
    for key in keys:
        row = window.panel.rows[key]
        assert row.param.group == "Harmonize" and len(row.param.tooltip) > 20, key
        if row.param.kind == "num":
            *path, name = key.split(".")
            model = HarmonizeSpec
            for part in path[1:]:
                model = model.model_fields[part].annotation
            lo, hi = field_bounds(model, name)
            assert (row.range_widget.minimum(), row.range_widget.maximum()) == (lo, hi)
            assert row.pinned_widget is not None, f"{key} has no pinned value"


def test_demo_preset_harmonises_and_the_rows_show_it(window):
    assert window.doc.preset.harmonize.enabled and window.doc.params.harmonize.enabled
    row = window.panel.rows["harmonize.shading.strength"]
    lo, hi = row.range_widget.value()
    assert (lo, hi) == pytest.approx((0.5, 1.0))
    assert window.panel.rows["harmonize.enabled"].value_widget.isChecked()


def test_a_harmonize_slider_reaches_the_preview(window):
    before = window.preview.last_frame
    window.panel.rows["harmonize.shadow.opacity"].pinned_widget.setValue(0.9)
    assert window.doc.params.harmonize.shadow.opacity == pytest.approx(0.9)
    frame = render(window)
    assert frame.request.params.harmonize.shadow.opacity == pytest.approx(0.9)
    assert not np.array_equal(frame.result.image, before.result.image)
    window.panel.rows["harmonize.enabled"].value_widget.setChecked(False)
    assert not window.doc.preset.harmonize.enabled
    off = render(window)
    assert not off.request.params.harmonize.enabled
    assert not np.array_equal(off.result.image, frame.result.image)


def test_raw_paste_view_flips_between_harmonised_and_raw(window):
    window.panel.rows["harmonize.shadow.opacity"].pinned_widget.setValue(0.8)
    harmonised = render(window)
    assert harmonised.request.params.harmonize.enabled
    window.set_view_mode(RAW_PASTE)
    raw = render(window)  # a render of its own: same sample, no harmonisation
    assert raw is not None and raw.request.params.harmonize == HarmonizeParams()
    assert raw.request.params.replace(harmonize=harmonised.request.params.harmonize) == (
        harmonised.request.params
    )
    assert np.array_equal(compose_view(raw, RAW_PASTE), raw.result.image)
    assert not np.array_equal(raw.result.image, harmonised.result.image)
    assert np.array_equal(raw.result.occlusion_mask, harmonised.result.occlusion_mask)
    assert window.doc.params.harmonize.enabled  # the document is untouched
    window.set_view_mode("Composite")
    back = render(window)
    assert back.request.params.harmonize == harmonised.request.params.harmonize
    assert np.array_equal(back.result.image, harmonised.result.image)


def test_sliders_start_on_the_useful_range_and_widen_for_a_presets_own_value(window, tmp_path):
    """Bounds live in the spec: the slider starts on their useful part and a preset's value
    beyond it widens the slider (never past what the spec accepts)."""
    from studio.core.model.spec import ScaleSpec, field_bounds, field_ui_range

    row = window.panel.rows["scale.area_ratio"]
    assert (row.range_widget.minimum(), row.range_widget.maximum()) == field_ui_range(
        ScaleSpec, "area_ratio"
    )
    preset = tmp_path / "big.yaml"
    preset.write_text("name: big\nscale:\n  area_ratio: {min: 0.5, max: 5.0}\n")
    assert window.open_preset(preset)
    assert row.range_widget.maximum() == 5.0 and row.range_widget.value() == (0.5, 5.0)
    assert row.range_widget.maximum() <= field_bounds(ScaleSpec, "area_ratio")[1]
