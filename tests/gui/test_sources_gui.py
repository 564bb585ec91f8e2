"""The studio opens every layout of the input layer: Open…, drag and drop, presets; the browser
headers show layout and counts, and the export gets exactly the browsers' sources."""

import replicas
from gui_helpers import drop

from studio.gui.presets_io import export_snapshot


def test_dropping_the_reference_dataset_folder_fills_every_browser(window, tmp_path):
    data = replicas.reference_dataset(tmp_path)
    drop(window.occluders, data)
    assert window.faces.where.text() == "images+masks · 4 items"
    assert "CelebAMask-HQ-WO-Train_mask" in window.faces.where.toolTip()
    assert window.occluders.where.text() == "images+masks · 3 items"
    assert window.textures.where.text() == "textures · 4 items"
    assert window.face.id == "0.jpg" and window.occluder.id == "Hand_0000002.jpg"
    refs = window.library.refs()
    assert refs["occluders"].path == str(data / "11k-hands_img")
    assert refs["occluders"].kind == "hand"
    snap = export_snapshot(window.doc.preset, refs).sources
    assert snap.faces == str(data / "CelebAMask-HQ-WO-Train_img")
    assert snap.occluders == str(data / "11k-hands_img") and snap.textures.endswith("DTD")


def test_celebamask_root_coco_file_and_photos(window, tmp_path):
    celeba = replicas.celebamask_hq(tmp_path)
    drop(window.textures, celeba)  # a CelebAMask-HQ folder is faces, wherever it lands
    assert window.faces.where.text() == "celebamask-hq · 4 items"
    assert window.face.labels is not None
    coco = replicas.coco_instances(tmp_path)
    drop(window.faces, coco)  # a COCO file is occluders
    assert window.occluders.where.text() == "coco · 2 items"
    assert window.occluders.ids() == ["000000000139.jpg#1", "000000000139.jpg#2"]
    photos = replicas.phone_photos(tmp_path)
    assert window.open_path(str(photos), "faces")
    assert window.faces.where.text() == "photos · 3 items"


def test_an_unusable_folder_is_named_and_changes_nothing(window, tmp_path):
    before = window.occluders.ids()
    hands = replicas.eleven_k_hands_raw(tmp_path)
    assert not window.open_path(str(hands), "occluders")
    assert window.messages[-1].startswith(f"{hands}: 3 JPEG/BMP images cannot carry an alpha")
    assert window.occluders.ids() == before


def test_opening_a_preset_opens_its_sources(window, tmp_path):
    data = replicas.reference_dataset(tmp_path)
    preset = tmp_path / "p.yaml"
    preset.write_text(
        "name: p\nsources:\n  faces: dataset/CelebAMask-HQ-WO-Train_img\n"
        "  occluders: dataset/object_image_sr\n"
    )
    assert window.open_preset(preset)
    assert window.faces.where.text() == "images+masks · 4 items"
    assert window.library.refs()["occluders"].path == str(data / "object_image_sr")


def test_sources_of_the_last_session_are_reopened(qtbot, settings, tmp_path):
    from studio.gui.library import Library
    from studio.gui.window import MainWindow

    coco = replicas.coco_instances(tmp_path)
    first = MainWindow(library=Library.default(tmp_path / "none"), settings=settings)
    qtbot.addWidget(first)
    first.ask_before_discarding = False
    assert first.open_path(str(coco), "occluders")  # read on a worker thread
    qtbot.waitUntil(lambda: first.occluders.where.text() == "coco · 2 items", timeout=30_000)
    first.shutdown()
    settings.sync()
    again = MainWindow(library=Library.default(tmp_path / "none"), settings=settings)
    qtbot.addWidget(again)
    again.ask_before_discarding = False
    try:
        qtbot.waitUntil(lambda: again.occluders.where.text() == "coco · 2 items", timeout=30_000)
    finally:
        again.shutdown()
