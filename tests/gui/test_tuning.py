"""One model of tuning, driven with real mouse and key events: a canvas drag or a panel edit
goes through one path; a fixed value follows its pinned value; a pinned value outside its range
is said under the row, and one click widens the range; the Samples tab draws what the panel
shows."""

import pytest
from gui_helpers import drag, on_canvas, render, wheel
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from studio.gui import parameters as P


def rotate_a_quarter(window):
    """Drag the rotation knob a quarter turn clockwise on screen."""
    canvas = window.canvas
    knob, center = canvas.rotate_item.pos(), canvas.center()
    d = knob - center
    drag(
        canvas.viewport(),
        on_canvas(window, knob),
        on_canvas(window, center + QPointF(-d.y(), d.x())),
    )


def scale_by(window, factor):
    """Drag the first corner handle away from the centre (``factor`` times the distance)."""
    canvas = window.canvas
    corner, center = canvas.corners[0], canvas.center()
    drag(
        canvas.viewport(),
        on_canvas(window, corner),
        on_canvas(window, center + (corner - center) * factor),
    )


def move_by(window, dx, dy):
    canvas = window.canvas
    center = canvas.center()
    drag(canvas.viewport(), on_canvas(window, center), on_canvas(window, center + QPointF(dx, dy)))


def row_says(window, key):
    row = window.panel.rows[key]
    return row.outside.text() if not row.outside_line.isHidden() else ""


def samples_drawn(window, qtbot):
    window.show_tab("samples")
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    return [s.params for s in window.samples.samples.values() if s.params is not None]


def test_canvas_rotation_on_a_fixed_angle_is_what_the_samples_draw(window, qtbot):
    assert window.doc.preset.rotation.angle == 0.0  # the demo's angle is fixed
    rotate_a_quarter(window)
    pinned = window.doc.params.rotation
    assert pinned == pytest.approx(-90.0, abs=2.0)
    assert window.doc.preset.rotation.angle == pinned  # the fixed value followed the knob
    assert pinned == round(pinned, 1)  # at the row's precision
    row = window.panel.rows["rotation.angle"]
    assert row.range_label.text() == f"{pinned:.1f}" and row_says(window, "rotation.angle") == ""
    drawn = samples_drawn(window, qtbot)
    assert drawn and all(p.rotation == pinned for p in drawn)
    assert window.samples.note.isHidden()
    window.doc.undo_stack.undo()  # the whole drag is one step, preset and pinned value together
    assert window.doc.preset.rotation.angle == 0.0 and window.doc.params.rotation == 0.0


def test_canvas_scale_outside_the_range_is_said_and_one_click_widens_it(window, qtbot):
    assert (window.doc.preset.scale.area_ratio.min, window.doc.preset.scale.area_ratio.max) == (
        0.5,
        1.0,
    )
    scale_by(window, 1.6)
    area = window.doc.params.area_ratio
    assert area > 1.0 and area == round(area, 3)
    said = row_says(window, "scale.area_ratio")
    assert f"{area:.3f} is outside the exported range 0.500–1.000" in said
    row = window.panel.rows["scale.area_ratio"]
    assert row.widen_button.isVisibleTo(window)
    assert window.doc.preset.scale.area_ratio.max == 1.0  # a range does not follow
    assert "Area ratio" in window.outside_note()
    drawn = samples_drawn(window, qtbot)
    assert all(0.5 <= p.area_ratio <= 1.0 for p in drawn)
    assert not window.samples.note.isHidden() and "Area ratio" in window.samples.note.text()
    window.show_tab("preview")
    qtbot.mouseClick(row.widen_button, Qt.MouseButton.LeftButton)
    spec = window.doc.preset.scale.area_ratio
    assert (spec.min, spec.max) == (0.5, area)
    assert row_says(window, "scale.area_ratio") == "" and window.outside_note() == ""
    drawn = samples_drawn(window, qtbot)
    assert any(p.area_ratio > 1.0 for p in drawn)  # the samples draw from the widened range


def test_canvas_move_on_ranged_and_fixed_centres(window):
    move_by(window, 25, 0)  # inside the range 0..1: nothing to say, the range stays
    cx, cy = window.doc.params.center_rel
    assert cx > 0.55 and window.doc.preset.placement.center_x.min == 0.0
    assert row_says(window, "placement.center_x") == ""
    centre_x = window.panel.rows["placement.center_x"]
    centre_x.range_widget.setValue((0.3, 0.3))  # fixed
    assert window.doc.preset.placement.center_x == 0.3
    render(window)
    move_by(window, -30, 10)
    cx2, cy2 = window.doc.params.center_rel
    assert window.doc.preset.placement.center_x == cx2 == round(cx2, 3)  # followed
    assert cy2 != cy and window.doc.preset.placement.center_y.max == 1.0  # still a range


def test_wheel_over_the_occluder_scales_a_fixed_area(window):
    row = window.panel.rows["scale.area_ratio"]
    row.range_widget.setValue((0.6, 0.6))
    render(window)
    canvas = window.canvas
    wheel(canvas.viewport(), on_canvas(window, canvas.center()), steps=2)
    area = window.doc.params.area_ratio
    assert area == pytest.approx(0.6 * 1.1**2, abs=1e-3)
    assert window.doc.preset.scale.area_ratio == area


def test_panel_pinned_value_typed_follows_on_a_fixed_value(window, qtbot):
    box = window.panel.rows["rotation.angle"].pinned_widget._label  # the slider's value box
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    QTest.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(box, "-12.5")
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert window.doc.params.rotation == -12.5
    assert window.doc.preset.rotation.angle == -12.5  # the fixed value followed


def test_range_edits_are_kept_at_the_rows_precision(window):
    row = window.panel.rows["color.strength"]
    row.range_widget.setValue((0.50920245398773, 0.9))
    spec = window.doc.preset.color.strength
    assert (spec.min, spec.max) == (0.51, 0.9)


def test_a_loaded_sample_leaves_the_preset_alone_and_off_steps_are_not_outside(window, qtbot):
    before = window.doc.preset
    drawn = samples_drawn(window, qtbot)
    ok = [i for i, s in window.samples.samples.items() if s.params is not None]
    qtbot.mouseClick(window.samples.tiles[ok[0]], Qt.MouseButton.LeftButton)
    assert window.doc.params == window.samples.samples[ok[0]].params and drawn
    assert window.doc.preset == before
    for param in P.PARAMS:  # a sample the preset drew is inside every range (or "off")
        if param.pinned is not None and param.kind == "num":
            assert "outside" not in row_says(window, param.key), param.key


def test_point_at_face_angle_is_derived_not_outside(window):
    window.panel.rows["rotation.point_at_face"].value_widget.setChecked(True)
    render(window)
    move_by(window, 60, 0)
    assert window.doc.preset.rotation.angle == 0.0  # the aimed angle is not the free angle
    said = row_says(window, "rotation.angle")
    assert "point at face" in said and "outside" not in said


def shown(row):
    """What a panel row shows: its values, range text and what it says."""
    widgets = (row.pinned_widget, row.range_widget, row.value_widget)
    read = ("value", "currentIndex", "isChecked")
    values = [getattr(w, next(r for r in read if hasattr(w, r)))() for w in widgets if w]
    says = row.outside.text() if row.outside is not None else ""
    hidden = row.outside_line.isHidden() if row.outside_line is not None else None
    return values, row.range_label.text() if row.range_label else "", says, hidden


def test_the_panel_refreshes_only_changed_rows_yet_shows_every_edit(window):
    from studio.gui.row_state import RowStates

    doc = window.doc
    scale_by(window, 1.6)  # outside a range
    window.panel.rows["color.strength"].pinned_widget.setValue(0.4)  # a fixed value follows
    window.panel.rows["rotation.point_at_face"].value_widget.setChecked(True)
    window.panel.rows["placement.center_x"].range_widget.setValue((0.2, 0.2))
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.redo()
    rows = window.panel.rows
    before = {key: shown(row) for key, row in rows.items()}
    for row in rows.values():
        row.refresh(force=True)  # every row made again from the document
    assert {key: shown(row) for key, row in rows.items()} == before
    assert "outside" in before["scale.area_ratio"][2]
    fresh = RowStates().of(doc.preset, doc.params)
    assert window._row_states.of(doc.preset, doc.params) == fresh
    assert "Area ratio" in window.outside_note()


def whole_preset_with(preset, param, value):
    """The preset with ``param`` set, the whole preset validated (or the InputError)."""
    from studio.core.model.errors import InputError
    from studio.core.model.preset import preset_from_dict

    if isinstance(value, tuple):
        value = value[0] if value[0] == value[1] else {"min": value[0], "max": value[1]}
    data = preset.model_dump(mode="python")
    node = data
    for part in param.spec_path[:-1]:
        node = node[part]
    node[param.spec_path[-1]] = value
    try:
        return preset_from_dict(data, "preset")
    except InputError as err:
        return err.reason


def test_a_preset_value_set_validates_as_the_whole_preset_does():
    from studio.core.io.paths import shipped_presets
    from studio.core.io.presets import load_preset
    from studio.core.model.errors import InputError

    preset = load_preset(shipped_presets()["demo"])
    for param in P.PARAMS:
        if param.kind == "num":
            lo, hi = param.limits or (param.lo, param.hi)
            tries = [(lo, hi), (hi, hi), (hi, lo), (hi + 1.0, hi + 1.0)]
        elif param.kind == "choice":
            tries = [*param.choices, "no such choice"]
        elif param.kind == "bool":
            tries = [True, False]
        else:
            tries = [param.lo, param.hi, param.hi + 1, -1]
        for value in tries:
            try:
                made = P.with_spec_value(preset, param, value)
            except InputError as err:
                made = err.reason
            assert made == whole_preset_with(preset, param, value), (param.key, value)
    coverage = P.with_spec_value(preset, next(p for p in P.PARAMS if p.key == "scale.area_ratio"),
                                 (0.6, 0.6))  # fmt: skip
    assert coverage.placement is preset.placement  # the parts not edited are shared
