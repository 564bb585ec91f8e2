"""Browsers at data-set scale: thumbnails for the rows in view only, cancelled when scrolled
away, cached on disk; the filter keeps the selection; keyboard navigation; a 100,000-item
source; choosing never decodes on the UI thread."""

import threading
import time

from gui_helpers import many_faces
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.core.io.thumbnails import ThumbnailStore
from studio.core.sources import open_source
from studio.gui.browsers import Browser
from studio.gui.item_model import ID_ROLE, ItemModel


def browser(qtbot, source=None, yield_to=None, size=(300, 420)):
    b = Browser("Faces", ThumbnailStore(), yield_to)
    qtbot.addWidget(b)
    b.resize(*size)
    b.show()
    qtbot.waitExposed(b)
    if source is not None:
        b.set_source(source, "test")
    return b


def settled(b):
    return b.pending == 0 and b.thumbs.pending() == 0


def in_view_brute_force(b):
    view = b.list.viewport().rect()
    return {
        item_id
        for row, item_id in enumerate(b.model.rows)
        if b.list.visualRect(b.model.index(row)).intersects(view)
    }


def test_only_the_rows_in_view_get_thumbnails(qtbot, tmp_path):
    source = open_source(many_faces(tmp_path, 600), "faces")
    b = browser(qtbot, source)
    qtbot.waitUntil(lambda: settled(b), timeout=30_000)
    in_view = set(b.visible_ids(0))
    assert in_view == in_view_brute_force(b) and 6 <= len(in_view) < 40
    assert all(b.model.has_thumbnail(i) for i in in_view)
    started = set(b.thumbs.started)
    assert in_view <= started <= set(b.visible_ids())  # the view and its margin rows only
    assert b.thumbs.made == len(started) < 60
    bar = b.list.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # scrolling makes the new rows' thumbnails
    qtbot.waitUntil(lambda: settled(b), timeout=30_000)
    assert set(b.visible_ids(0)) == in_view_brute_force(b)
    assert all(b.model.has_thumbnail(i) for i in b.visible_ids(0))
    assert b.thumbs.made < 120


def test_a_scroll_cancels_the_thumbnails_scrolled_away(qtbot, tmp_path):
    source = open_source(many_faces(tmp_path, 600), "faces")
    hold = [True]  # the preview is busy: the worker waits, the wishes queue up
    b = browser(qtbot, source, yield_to=lambda: hold[0])
    qtbot.waitUntil(lambda: len(b.thumbs.queued()) > 6, timeout=10_000)
    first = set(b.thumbs.queued())
    bar = b.list.verticalScrollBar()
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: not set(b.thumbs.queued()) & first, timeout=10_000)
    assert b.thumbs.cancelled >= len(first) and b.thumbs.made == 0
    hold[0] = False
    qtbot.waitUntil(lambda: settled(b), timeout=30_000)
    assert not set(b.thumbs.started) & first  # rows scrolled away were never made
    assert set(b.visible_ids(0)) <= set(b.thumbs.started)


def test_a_hidden_browser_makes_no_thumbnails(qtbot, tmp_path):
    source = open_source(many_faces(tmp_path, 50), "faces")
    b = browser(qtbot)
    b.hide()
    b.set_source(source, "test")
    qtbot.wait(200)
    assert b.thumbs.started == [] and b.pending == 0


def test_the_thumbnail_cache_is_hit_on_a_second_opening(qtbot, tmp_path):
    folder = many_faces(tmp_path, 300)
    one = browser(qtbot, open_source(folder, "faces"))
    qtbot.waitUntil(lambda: settled(one), timeout=30_000)
    assert one.thumbs.made > 6 and one.thumbs.hits == 0
    two = browser(qtbot, open_source(folder, "faces"))  # a new source object, same files
    qtbot.waitUntil(lambda: settled(two), timeout=30_000)
    assert two.thumbs.made == 0 and two.thumbs.hits == one.thumbs.made


def test_the_filter_keeps_the_selection_in_its_place(qtbot, tmp_path):
    b = browser(qtbot, open_source(many_faces(tmp_path, 600), "faces"))
    b.select("f00123.jpg")
    top = b._row_top("f00123.jpg")
    assert top is not None
    with qtbot.assertNotEmitted(b.chosen):
        b.filter.setText("F001")  # case-insensitive: f00100 … f00199
        assert len(b.model.rows) == 100 and b.count.text() == "100 of 600"
        assert b.list.currentIndex().data(ID_ROLE) == "f00123.jpg"
        assert b.list.selectionModel().isSelected(b.list.currentIndex())
        assert b._row_top("f00123.jpg") == top  # at the same height on screen
        b.filter.setText("f002")  # the selected item is filtered out …
        assert b.list.currentIndex().data(ID_ROLE) != "f00123.jpg"
        b.filter.setText("")  # … and selected again when it comes back
        assert b.list.currentIndex().data(ID_ROLE) == "f00123.jpg"
        assert b.count.isHidden()


def test_a_source_of_100000_items_opens_and_filters(qtbot):
    class Names:  # names only: its items cannot be loaded
        def ids(self):
            return [f"d{i // 1000:03d}/{i:06d}.jpg" for i in range(100_000)]

        def load(self, item_id):
            from studio.core.model.errors import InputError

            raise InputError("names only", item_id)

    b = browser(qtbot, Names())
    assert b.model.rowCount() == 100_000 and len(b.visible_ids(0)) < 40
    b.filter.setText("99")
    expected = [i for i in Names().ids() if "99" in i]
    assert b.model.rows == expected and b.count.text() == f"{len(expected):,} of 100,000"
    qtbot.waitUntil(lambda: settled(b), timeout=30_000)
    assert len(b.thumbs.started) < 60  # never a thumbnail job per item


def test_the_model_asks_python_only_for_the_rows_painted(qtbot):
    model = ItemModel()
    model.set_ids([f"{i:06d}.jpg" for i in range(30_000)])
    assert model.rowCount() == 30_000 and model.id_at(29_999) == "029999.jpg"
    assert model.row_of("000123.jpg") == 123
    assert model.index(5).data() == "000005.jpg"
    assert model.index(5).data(Qt.ItemDataRole.ToolTipRole) == "000005.jpg"


def test_keyboard_navigation_chooses_faces(window, qtbot, tmp_path):
    window.open_path(str(many_faces(tmp_path, 40)), "faces")
    assert window.face.id == "f00000.jpg"
    view = window.faces.list
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert window.face.id == "f00001.jpg"
    QTest.keyClick(view, Qt.Key.Key_End)
    assert window.face.id == "f00039.jpg"
    window.faces.filter.setText("f0002")
    QTest.keyClick(window.faces.filter, Qt.Key.Key_Return)  # Enter: to the list
    assert view.hasFocus()
    QTest.keyClick(view, Qt.Key.Key_Home)
    assert window.face.id == "f00020.jpg"


def test_choosing_decodes_on_a_worker_thread(qtbot, settings, tmp_path):
    from test_browsers_views import write_faces

    from studio.gui.library import Library
    from studio.gui.window import MainWindow

    win = MainWindow(library=Library.default(tmp_path / "none"), settings=settings)
    win.ask_before_discarding = False
    qtbot.addWidget(win)
    try:
        write_faces(tmp_path)  # broken.png sorts first
        win.open_path(str(tmp_path / "faces"), "faces")
        qtbot.waitUntil(lambda: win.face is not None and win.face.id == "f0.png", timeout=30_000)
        assert win.faces.current_id() == "f0.png"  # the first loadable face
        source = win.library.faces
        load, threads = source.load, []

        def spy(item_id):
            threads.append(threading.current_thread())
            time.sleep(0.2)  # a slow disk: the burst is submitted long before one ends
            return load(item_id)

        source.load = spy
        for name in ("f1.png", "f2.png", "f1.png", "f2.png", "f1.png", "f2.png"):
            win.choose_face(name)  # a burst: only the newest choice is decoded and shown
        assert win.face.id == "f0.png"  # nothing decoded here: the result comes later
        qtbot.waitUntil(lambda: win.face.id == "f2.png" and not win.jobs.pending(), timeout=30_000)
        assert threads and threading.main_thread() not in threads
        assert len(threads) <= 3  # the choices superseded before they started were skipped
        assert win.faces.current_id() == "f2.png"
    finally:
        win.shutdown()
