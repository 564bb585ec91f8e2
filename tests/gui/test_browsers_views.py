"""Browsers over real folders (threaded thumbnails, filter, bad files) and view modes."""

import cv2
import numpy as np
from gui_helpers import drop, render
from PySide6.QtCore import Qt

from studio.core.sources.synthetic import synthetic_face, synthetic_occluder
from studio.gui.view_modes import VIEW_MODES, compose_view


def write_faces(root, n=3):
    (root / "faces").mkdir()
    (root / "face_masks").mkdir()
    for i in range(n):
        face = synthetic_face(96, seed=i)
        cv2.imwrite(str(root / "faces" / f"f{i}.png"), face.image[:, :, ::-1])
        cv2.imwrite(str(root / "face_masks" / f"f{i}.png"), face.mask.astype(np.uint8) * 255)
    (root / "faces" / "broken.png").write_bytes(b"not an image")
    cv2.imwrite(str(root / "face_masks" / "broken.png"), np.full((96, 96), 255, np.uint8))


def test_open_face_folder_loads_thumbnails_in_the_background(window, qtbot, tmp_path):
    write_faces(tmp_path)
    window.open_path(str(tmp_path / "faces"), "faces")
    assert window.faces.ids() == ["broken.png", "f0.png", "f1.png", "f2.png"]
    qtbot.waitUntil(lambda: window.faces.pending == 0, timeout=30_000)
    model = window.faces.model
    broken = model.index(model.row_of("broken.png"))
    assert broken.data().startswith("⚠")
    assert "not an image" in broken.data(Qt.ItemDataRole.ToolTipRole)
    window.faces.filter.setText("f1")
    assert model.rows == ["f1.png"] and window.faces.count.text() == "1 of 4"
    window.choose_face("f1.png")
    assert window.face.id == "f1.png"
    assert render(window).request.face.id == "f1.png"
    window.choose_face("broken.png")  # a message, not a crash; the face stays
    assert window.face.id == "f1.png" and "broken.png" in window.messages[-1]


def test_open_occluder_folder(window, qtbot, tmp_path):
    occ = synthetic_occluder(64, seed=3)
    rgba = np.dstack([occ.image, occ.alpha])
    (tmp_path / "occ").mkdir()
    cv2.imwrite(str(tmp_path / "occ" / "hand.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    window.open_path(str(tmp_path / "occ"), "occluders")
    window.choose_occluder("hand.png")
    assert render(window).request.occluder.id == "hand.png"


def test_view_modes_show_the_engine_labels(window):
    frame = window.preview.last_frame
    composite = compose_view(frame, "Composite")
    occl = compose_view(frame, "Occlusion mask")
    on = frame.result.occlusion_mask > 0
    assert on.any()
    assert not np.array_equal(composite[on], occl[on])  # tinted where the label is on
    assert np.array_equal(composite[~on], occl[~on])  # untouched elsewhere
    assert compose_view(frame, "Alpha").ndim == 2
    for mode in VIEW_MODES:
        window.set_view_mode(mode)
        assert window.canvas.view_mode == mode and window.view_combo.currentText() == mode
        assert not window.canvas.pixmap_item.pixmap().isNull()


def test_last_folders_are_remembered(window, qtbot, settings, tmp_path):
    from studio.gui.library import Library
    from studio.gui.window import MainWindow

    write_faces(tmp_path)
    window.open_path(str(tmp_path / "faces"), "faces")
    settings.sync()
    again = MainWindow(
        library=Library.default(tmp_path / "none"), settings=settings, synchronous=True
    )
    again.ask_before_discarding = False
    qtbot.addWidget(again)
    try:
        assert again.faces.ids() == ["broken.png", "f0.png", "f1.png", "f2.png"]
        assert again.face.id == "f0.png"  # the first loadable face ("broken.png" is not)
    finally:
        again.shutdown()


def test_dropping_a_folder_or_file_opens_it(window, tmp_path):
    write_faces(tmp_path)
    drop(window.faces, tmp_path / "faces")
    assert "f2.png" in window.faces.ids()
    drop(window.faces, tmp_path / "faces" / "f2.png")
    assert window.face.id == "f2.png"
