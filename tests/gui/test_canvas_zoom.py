"""1:1 shows native pixels (a full-resolution region render of the same params, dropped when
stale), the before/after divider drags, and the view toolbar fits at 1280 px."""

import numpy as np
import pytest
from gui_helpers import qimage_array, render
from PySide6.QtCore import QEvent, QPointF, Qt

from studio.bench.gui_latency import send_mouse
from studio.core.engine.render import RenderCache
from studio.core.engine.render import render as engine_render
from studio.gui.preview import render_request
from studio.gui.view_modes import compose_view, split_column


@pytest.fixture
def big_window(qtbot, settings):
    """The main window on 1024 px synthetic faces (previews at 512 px)."""
    from studio.gui.library import Library, SyntheticFaces
    from studio.gui.window import MainWindow

    library = Library.default(samples=settings_dir())
    library.faces = SyntheticFaces(1024)
    win = MainWindow(library=library, settings=settings, synchronous=True)
    win.ask_before_discarding = False
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    render(win)
    yield win
    win.shutdown()


def move(win):
    x, y = win.doc.params.center_rel
    win.doc.tune(win.doc.params.replace(center_rel=(x - 0.05, y + 0.05)), "Move occluder")


def settings_dir():
    from pathlib import Path

    return Path("/nonexistent-samples")


def test_one_to_one_shows_a_full_resolution_render_of_the_visible_region(big_window):
    win = big_window
    canvas, preview = win.canvas, win.preview
    assert preview.last_frame.request.face.size == (512, 512) and win.face.size == (1024, 1024)
    canvas.fit()
    canvas.zoom_by(0.5)  # the preview is not magnified: nothing to refine
    assert canvas.wanted_region() is None
    win.refiner.refine()
    assert preview.worker.pending is None and not canvas.region.item.isVisible()
    canvas.centerOn(QPointF(*preview.last_frame.request.face.center))
    canvas.actual_size()  # 1:1
    win.refiner.refine()
    request = preview.worker.pending
    shown = preview.last_frame.request
    assert request.region is not None and request.face is win.face
    assert request.params == shown.params and request.occluder is shown.occluder
    x0, y0, x1, y1 = request.region
    assert 0 <= x0 < x1 <= 1024 and 0 <= y0 < y1 <= 1024 and x1 - x0 < 1024  # a part only
    frame = render(win)  # the worker renders it
    item = canvas.region.item
    assert item.isVisible() and preview.region_frame is frame
    assert (item.pixmap().width(), item.pixmap().height()) == (x1 - x0, y1 - y0)
    full = engine_render(win.face, shown.occluder, shown.params, "cpu", RenderCache())
    assert np.array_equal(frame.result.image, full.image[y0:y1, x0:x1])  # the export's pixels
    assert np.array_equal(qimage_array(item.pixmap()), full.image[y0:y1, x0:x1])
    # on screen one native pixel is one view pixel (at 1:1)
    scale = canvas.transform().m11() * item.transform().m11()
    assert scale == pytest.approx(1.0, abs=1e-3)
    # the region already covers the view: a second refine asks for nothing
    win.refiner.refine()
    assert preview.worker.pending is None
    assert item.transformationMode() == Qt.TransformationMode.SmoothTransformation
    canvas.zoom_by(2.0)  # 2 screen pixels per native pixel: drawn as blocks
    assert item.transformationMode() == Qt.TransformationMode.FastTransformation
    win.refiner.refine()
    assert preview.worker.pending is None  # a zoom in needs no new render
    move(win)  # an edit: the region of the old frame goes
    render(win)
    assert not item.isVisible()


def test_a_region_older_than_an_edit_is_dropped(big_window):
    win = big_window
    preview = win.preview
    win.canvas.actual_size()
    win.refiner.refine()
    region_request = preview.worker.pending
    assert region_request is not None and region_request.region is not None
    move(win)  # the edit replaces the region in the mailbox
    assert preview.worker.pending.region is None
    dropped = preview.dropped
    preview.accept_frame(render_request(region_request, RenderCache()))  # finished late
    assert preview.dropped == dropped + 1 and preview.region_frame is None
    assert not win.canvas.region.item.isVisible()
    # a region is never requested while an edit waits
    assert preview.request_region(win.face, (0, 0, 64, 64)) is None


def test_the_before_after_divider_drags(window):
    canvas = window.canvas
    edits = window.doc.undo_stack.count()
    window.set_view_mode("Before / after")
    handle = canvas.split_handle
    assert handle.line.isVisible() and handle.x == pytest.approx(canvas.face.size[0] / 2)
    w, h = canvas.face.size
    vp = canvas.viewport()
    start = canvas.mapFromScene(QPointF(w / 2, h / 3))
    end = canvas.mapFromScene(QPointF(w / 4, h / 3))
    send_mouse(vp, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    send_mouse(vp, QEvent.Type.MouseMove, end, Qt.MouseButton.LeftButton)
    send_mouse(vp, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    assert canvas.split == pytest.approx(0.25, abs=0.02)
    assert handle.x == pytest.approx(canvas.split * w)
    frame = window.preview.last_frame
    shown = qimage_array(canvas.pixmap_item.pixmap())
    cut = split_column(frame, canvas.split)
    assert np.array_equal(shown, compose_view(frame, "Before / after", canvas.split))
    assert np.array_equal(shown[:, :cut], frame.request.face.image[:, :cut])
    assert np.array_equal(shown[:, cut:], frame.result.image[:, cut:])
    assert window.doc.undo_stack.count() == edits  # the drag edited nothing
    window.set_view_mode("Composite")
    assert not handle.line.isVisible()


def test_the_view_toolbar_fits_at_1280_px(window):
    from PySide6.QtWidgets import QToolButton

    bar = window.view_bar
    assert window.width() == 1280
    assert bar.sizeHint().width() <= bar.width() - 40  # with room to spare
    for action in bar.actions():
        widget = bar.widgetForAction(action)
        if action.isSeparator() or widget is None:
            continue
        assert widget.isVisible(), action.iconText()
        assert widget.geometry().right() <= bar.width(), action.iconText()
    window.doc.tune(window.doc.params.replace(center_rel=(0.4, 0.4)), "Move occluder")
    assert window.act_undo.text().startswith("&Undo")  # renamed by the undo stack …
    assert bar.widgetForAction(window.act_undo).text() == "↶"  # … but not in the bar
    extension = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible()
