"""No silent substitution: a source that does not open is shown as failed (header, canvas
sentence, Export off with the reason) until another opens; the bundled samples only on the very
first start, and said. Every error and warning goes to the messages panel."""

import json

import replicas
from gui_helpers import render
from PySide6.QtCore import QSettings, Qt

from studio.core.sources import SourceRef
from studio.gui.library import BUNDLED, Library
from studio.gui.window import MainWindow


def make_window(qtbot, settings, library=None):
    win = MainWindow(library=library or Library.default(), settings=settings, synchronous=True)
    win.ask_before_discarding = False
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    render(win)
    return win


def handles_shown(window):
    canvas = window.canvas
    return any(
        item.isVisible() for item in (canvas.outline, canvas.rotate_item, *canvas.corner_items)
    )


def test_a_failed_source_is_shown_until_fixed_and_export_is_off(window, qtbot, tmp_path):
    masks = replicas.image_mask_pair(tmp_path / "pair") / "masks"
    empty = tmp_path / "empty"
    empty.mkdir()
    # what `main.py --faces <a mask folder> --occluders <an empty folder>` does
    window.open_path(str(masks), "faces", replace=True)
    window.open_path(str(empty), "occluders", replace=True)
    assert window.faces.where.text() == "⚠ masks: did not open · 0 items"
    assert "is the mask folder of" in window.faces.problem.toolTip()
    assert window.faces.problem.isVisibleTo(window)
    assert "no images found" in window.occluders.problem.toolTip()
    assert window.face is None and window.faces.ids() == []
    assert window.canvas.notice.isVisibleTo(window)
    assert "Nothing to preview" in window.canvas.notice.text()
    assert not handles_shown(window) and window.canvas.pixmap_item.pixmap().isNull()
    panel = window.export_panel
    assert not panel.start_button.isEnabled()
    assert "the Faces browser's folder did not open" in panel.blocker_label.toolTip()
    assert not panel.blocker_label.isHidden()
    window.show_tab("export")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.runner.running  # nothing is written: no bundled stand-in
    # both failures are kept, with their source, not only flashed in the status bar
    texts = window.messages
    assert any("is the mask folder of" in t for t in texts)
    assert any("no images found" in t for t in texts)
    assert {m.source for m in window.log.items} >= {"Faces", "Occluders"}
    # fixed: a folder that opens replaces the failure everywhere
    window.open_path(str(masks.parent / "images"), "faces")
    assert window.faces.where.text() == "images+masks · 3 items" and window.faces.problem.isHidden()
    assert "Occluders" in panel.blocker  # still off: the occluders failed
    window.open_path(str(replicas.rgba_cutouts(tmp_path)), "occluders")
    assert panel.blocker is None and panel.start_button.isEnabled()
    assert not window.canvas.notice.isVisibleTo(window)
    assert render(window).error is None and handles_shown(window)
    refs = window.library.refs()
    assert refs["faces"].path == str(masks.parent / "images")


def test_a_failed_open_keeps_the_browser_and_says_why_in_its_header(window, tmp_path):
    before = window.occluders.ids()
    hands = replicas.eleven_k_hands_raw(tmp_path)
    assert not window.open_path(str(hands), "occluders")  # Open… or a drop
    assert window.occluders.ids() == before
    assert not window.occluders.problem.isHidden()  # (its tab is behind the Faces tab)
    assert "cannot carry an alpha" in window.occluders.problem.toolTip()
    window.open_path(str(replicas.rgba_cutouts(tmp_path)), "occluders")
    assert window.occluders.problem.isHidden()


def test_first_start_shows_the_bundled_samples_and_says_so(qtbot, settings):
    win = make_window(qtbot, settings)
    try:
        assert win.faces.where.text().startswith(f"{BUNDLED} · ")
        assert win.occluders.where.text().startswith(f"{BUNDLED} · ")
        assert win.export_panel.blocker is None  # the bundled samples are real folders
    finally:
        win.shutdown()


def test_a_remembered_source_that_moved_is_failed_not_bundled(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    gone = SourceRef("faces", str(tmp_path / "moved-away"))
    settings.setValue("sources/faces", json.dumps(gone.to_dict()))
    win = make_window(qtbot, settings)
    try:
        assert win.faces.where.text() == "⚠ moved-away: did not open · 0 items"
        assert BUNDLED not in win.faces.where.text()
        assert win.library.failed("faces") is not None
        assert win.occluders.where.text().startswith(BUNDLED)  # nothing remembered there
        assert "Faces" in win.export_panel.blocker
    finally:
        win.shutdown()


def test_a_presets_sources_that_do_not_open_are_failed(window, tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("name: p\nsources:\n  faces: nowhere/faces\n  occluders: nowhere/occ\n")
    assert window.open_preset(preset)
    assert window.faces.where.text() == "⚠ faces: did not open · 0 items"
    assert "faces" not in window.library.refs() and "occluders" not in window.library.refs()
    assert not window.export_panel.start_button.isEnabled()


def test_the_bundled_samples_can_be_chosen_again(qtbot, settings, tmp_path):
    win = make_window(qtbot, settings)
    try:
        win.open_path(str(tmp_path / "nothing"), "faces", replace=True)
        assert win.library.failed("faces") is not None
        win.faces.bundledWanted.emit()  # the Open… menu's "Bundled samples"
        assert win.faces.where.text().startswith(BUNDLED)
        assert win.export_panel.blocker is None
    finally:
        win.shutdown()


def test_messages_panel_keeps_every_message_and_counts_the_unread(window, qtbot, tmp_path):
    window.open_path(str(tmp_path / "a"), "faces")
    window.open_path(str(tmp_path / "b"), "occluders")
    window.open_path(str(tmp_path / "b"), "occluders")  # a repeat counts up
    window.export_panel.message.emit("the exporter stopped", "error")
    window.evaluate_panel.message.emit("choose a test set", "error")
    log = window.log
    assert [m.source for m in log.items] == ["Faces", "Occluders", "Export", "Evaluate"]
    assert log.items[1].count == 2 and log.unread == 5
    button = window.unread
    assert button.isVisibleTo(window) and button.text().startswith("⚠ 5 unread messages")
    assert button.width() <= button.WIDTH
    assert window.statusBar().currentMessage() == ""  # nothing shown only for a while
    dock = window.messages_dock
    assert dock.isHidden()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert dock.isVisible() and log.unread == 0 and button.isHidden()
    rows = [dock.tree.topLevelItem(i) for i in range(dock.tree.topLevelItemCount())]
    assert [r.text(1) for r in rows] == ["Faces", "Occluders", "Export", "Evaluate"]
    assert rows[1].text(2).endswith("(×2)") and ":" in rows[0].text(0)
    window.export_panel.message.emit("later", "warning")  # seen at once while the panel is open
    assert log.unread == 0 and dock.tree.topLevelItemCount() == 5
