"""The small ones: refit on a face change behind another tab, no row cut under a browser's
header, a class-map view for faces with class maps, long text that never widens the window, and
a wheel that scrolls the panel unless a value has the focus."""

import cv2
import numpy as np
import pytest
import replicas
from gui_helpers import many_faces, render, wheel
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.core.sources.synthetic import synthetic_face
from studio.gui.class_map import OCCLUDER_RGB, PALETTE
from studio.gui.view_modes import CLASS_MAP, VIEW_MODES


def write_face(folder, name, side):
    face = synthetic_face(side, seed=side)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(exist_ok=True)
    cv2.imwrite(str(folder / "images" / name), face.image[:, :, ::-1])
    cv2.imwrite(str(folder / "masks" / name), face.mask.astype(np.uint8) * 255)


def fitted_scale(canvas):
    w, h = canvas.face.size
    view = canvas.viewport().rect()
    return min(view.width() / (w + 16), view.height() / (h + 16))


def test_the_canvas_refits_a_new_face_chosen_behind_another_tab(window, tmp_path, qtbot):
    write_face(tmp_path / "faces", "big.png", 320)
    write_face(tmp_path / "faces", "small.png", 96)
    window.open_path(str(tmp_path / "faces"), "faces")
    render(window)
    window.show_tab("samples")
    window.resize(1500, 950)  # the hidden canvas learns its new size only when shown
    qtbot.wait(50)
    other = "small.png" if window.face.id == "big.png" else "big.png"
    window.faces.list.setFocus()
    window.choose_face(other)
    render(window)
    window.show_tab("preview")
    qtbot.wait(50)
    assert window.canvas.face.id == other
    assert window.canvas.transform().m11() == pytest.approx(fitted_scale(window.canvas), rel=0.01)


def test_no_thumbnail_row_is_cut_under_the_header(window, tmp_path, qtbot):
    images = many_faces(tmp_path / "many", 40, side=64)
    window.open_path(str(images.parent), "faces")
    browser = window.faces
    grid = browser.list.gridSize().height()
    browser.list.setFocus()
    QTest.keyClick(browser.list, Qt.Key.Key_Home)
    for _ in range(9):  # down the rows with the keys: the view follows
        QTest.keyClick(browser.list, Qt.Key.Key_Down)
        bar = browser.list.verticalScrollBar()
        assert bar.value() % grid == 0 or bar.value() == bar.maximum()
        current = browser.list.currentIndex()
        rect = browser.list.visualRect(current)
        assert rect.top() >= 0 and rect.bottom() <= browser.list.viewport().height()
    assert browser.list.verticalScrollBar().value() > 0
    browser.select("f00033.jpg")  # chosen elsewhere (a sample, a preset)
    assert browser.list.verticalScrollBar().value() % grid == 0


def test_faces_with_class_maps_have_a_class_map_view(window, tmp_path):
    combo = window.view_combo
    index = VIEW_MODES.index(CLASS_MAP)
    assert not combo.model().item(index).isEnabled()  # the synthetic faces have none
    assert not window.view_actions[CLASS_MAP].isEnabled()
    celeba = replicas.celebamask_hq(tmp_path)
    window.open_path(str(celeba), "faces")
    frame = render(window)
    assert window.face.labels is not None
    assert combo.model().item(index).isEnabled()
    combo.setCurrentIndex(index)
    canvas = window.canvas
    assert canvas.view_mode == CLASS_MAP and canvas.legend.isVisibleTo(window)
    legend = canvas.legend.text()
    assert "skin" in legend and "occluder" in legend and "background" in legend
    from gui_helpers import qimage_array

    shown = qimage_array(canvas.pixmap_item.pixmap())
    labels = frame.result.labels
    occluded = labels == frame.request.params.occluder_class
    skin = labels == 1
    image = frame.result.image.astype(np.int32)
    assert occluded.any() and skin.any()
    expect_occ = (np.array(OCCLUDER_RGB) * 2 + image[occluded]) // 3
    assert np.abs(shown[occluded].astype(np.int32) - expect_occ).max() <= 1
    expect_skin = (PALETTE[1].astype(np.int32) * 2 + image[skin]) // 3
    assert np.abs(shown[skin].astype(np.int32) - expect_skin).max() <= 1
    window.open_path(str(replicas.image_mask_pair(tmp_path / "plain")), "faces")
    render(window)
    assert canvas.view_mode == VIEW_MODES[0] and not canvas.legend.isVisibleTo(window)


def test_long_text_never_widens_the_window(window, tmp_path, qtbot):
    width = window.width()
    long_name = "x" * 120
    faces = tmp_path / "faces"
    write_face(faces, "ok.png", 96)
    for i in range(4):  # unusable items: long one-line warnings on the tiles
        (faces / "images" / f"{long_name}{i}.png").write_bytes(b"not an image")
        cv2.imwrite(str(faces / "masks" / f"{long_name}{i}.png"), np.zeros((96, 96), np.uint8))
    window.open_path(str(faces), "faces")
    window.show_tab("samples")
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    qtbot.wait(50)
    assert any(s.error for s in window.samples.samples.values())
    assert window.width() == width and window.minimumSizeHint().width() < 1400
    tile = next(
        t
        for t, s in zip(window.samples.tiles, window.samples.samples.values(), strict=False)
        if s.error
    )
    assert "…" in tile.text() and long_name in tile.toolTip()
    assert any("could not be drawn" in m for m in window.messages)  # the full text is kept
    window.show_message(f"/{'very/' * 80}long/path: cannot be read")
    qtbot.wait(50)
    assert window.width() == width and window.unread.width() <= window.unread.WIDTH
    window.export_panel.status.setText(f"Done → /{'deep/' * 60}folder")
    window.show_tab("export")
    qtbot.wait(50)
    assert window.width() == width


def test_the_wheel_scrolls_the_panel_and_changes_a_value_only_with_focus(window, qtbot):
    panel = window.panel
    bar = panel.verticalScrollBar()
    row = panel.rows["color.strength"]
    slider = row.pinned_widget._slider
    panel.ensureWidgetVisible(slider)
    before_value, before_scroll = row.pinned_widget.value(), bar.value()
    center = slider.rect().center()
    wheel(slider, center, steps=-2)  # over the slider, which has no focus
    assert row.pinned_widget.value() == before_value
    assert bar.value() != before_scroll  # the panel scrolled instead
    combo = panel.rows["color.method"].value_widget
    method = combo.currentIndex()
    wheel(combo, combo.rect().center(), steps=-1)
    assert combo.currentIndex() == method
    panel.ensureWidgetVisible(slider)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(2, slider.height() // 2))
    assert slider.hasFocus()
    value = row.pinned_widget.value()
    wheel(slider, slider.rect().center(), steps=1)
    assert row.pinned_widget.value() != value  # focused: the wheel changes it


def test_a_preview_placement_the_export_never_keeps_says_so(window, qtbot):
    """The preview's coverage outside the preset's coverage bounds is flagged in the status
    bar (the export draws again until a placement lies inside them)."""

    def shown() -> str:
        label = window.coverage_label
        return label.toolTip() or label.text()

    def bounds(low: float, high: float) -> None:
        preset = window.doc.preset
        placement = preset.placement.model_copy(update={"min_coverage": low, "max_coverage": high})
        window.doc.edit("Coverage", preset.model_copy(update={"placement": placement}))
        render(window)

    bounds(0.0, 1.0)
    qtbot.waitUntil(lambda: shown().startswith("coverage: "), timeout=10_000)
    assert "outside" not in shown()
    bounds(0.0, 0.01)
    qtbot.waitUntil(lambda: "outside 0%–1%" in shown(), timeout=10_000)
    assert "never keeps" in shown()
    bounds(0.0, 1.0)
    qtbot.waitUntil(lambda: "outside" not in shown(), timeout=10_000)
