"""The preview pipeline: requests, coalescing, stale frames, drags and sliders."""

import numpy as np
import pytest
from gui_helpers import render
from PySide6.QtCore import QPointF

from studio.core.engine.coords import center_pixels
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder
from studio.gui.preview import PreviewController


def occluder_center(win) -> QPointF:
    return win.canvas.center()


def test_first_frame_is_rendered_and_shown(window):
    frame = window.preview.last_frame
    assert frame is not None and frame.error is None
    assert window.canvas.pixmap_item.pixmap().width() == frame.result.image.shape[1]
    assert len(window.canvas.corners) == 4


def test_dragging_the_occluder_changes_placement_and_preview(window):
    before = window.preview.last_frame
    face = before.request.face
    c = occluder_center(window)
    window.canvas.begin_drag("move", c)
    window.canvas.drag_to(c + QPointF(40, 20))
    window.canvas.end_drag()
    x0, y0, x1, y1 = face.bbox
    cx, cy = window.doc.params.center_rel  # kept at the rows' precision (3 decimals)
    assert cx == pytest.approx(0.5 + 40 / (x1 - x0), abs=5e-4)
    assert cy == pytest.approx(0.5 + 20 / (y1 - y0), abs=5e-4)
    after = render(window)
    assert after.generation > before.generation
    assert after is window.preview.last_frame
    bx = before.result.stats["occluder_bbox"]
    ax = after.result.stats["occluder_bbox"]
    assert ax[0] - bx[0] == pytest.approx(40, abs=2)
    assert ax[1] - bx[1] == pytest.approx(20, abs=2)
    assert not np.array_equal(before.result.image, after.result.image)


def test_drag_with_real_mouse_events(window, qtbot):
    from PySide6.QtCore import QEvent, QPoint, Qt

    from studio.bench.gui_latency import send_mouse

    view = window.canvas
    start = view.mapFromScene(occluder_center(window))
    end = start + QPoint(30, 0)
    vp = view.viewport()

    def send(kind, pos, buttons):
        send_mouse(vp, kind, pos, buttons)

    rel0 = window.doc.params.center_rel
    send(QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseMove, end, Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)
    assert window.doc.params.center_rel[0] > rel0[0]
    assert window.doc.params.center_rel[1] == pytest.approx(rel0[1], abs=0.02)


def test_point_at_face_rotation_follows_the_drag(window):
    row = window.panel.rows["rotation.point_at_face"]
    row.value_widget.setChecked(True)
    assert window.doc.preset.rotation.point_at_face
    frame = render(window)
    face = frame.request.face
    # drag the occluder to the right of the face: a hand whose up side is "up" turns to +90
    c = occluder_center(window)
    target = center_pixels(face, (1.2, 0.5))
    window.canvas.begin_drag("move", c)
    window.canvas.drag_to(c + QPointF(target[0] - c.x(), target[1] - c.y()))
    window.canvas.end_drag()
    params = window.doc.params
    assert params.aim_up == "up"
    assert params.rotation == pytest.approx(90.0 + params.aim_jitter, abs=3.0)
    frame = render(window)
    assert frame.request.params.rotation == pytest.approx(params.rotation, abs=1e-6)


def test_scale_and_rotate_handles(window):
    c = occluder_center(window)
    corner = window.canvas.corners[2]
    area0 = window.doc.params.area_ratio
    window.canvas.begin_drag("scale", corner)
    window.canvas.drag_to(c + (corner - c) * 2.0)
    window.canvas.end_drag()
    assert window.doc.params.area_ratio == pytest.approx(area0 * 4.0, rel=1e-3)
    _, knob = window.canvas._rotate_anchor()
    window.canvas.begin_drag("rotate", knob)
    # a quarter turn counter-clockwise on screen: the knob moves from above to the left
    radius = abs(knob.y() - c.y())
    window.canvas.drag_to(QPointF(c.x() - radius, c.y()))
    window.canvas.end_drag()
    assert window.doc.params.rotation == pytest.approx(90.0, abs=2.0)


def test_slider_change_reaches_the_preview(window):
    before = window.preview.last_frame
    row = window.panel.rows["color.strength"]
    row.pinned_widget.setValue(0.0)
    assert window.doc.params.color.strength == 0.0
    # the preset's strength is a fixed value, so it follows the pinned slider
    assert window.doc.preset.color.strength == 0.0
    frame = render(window)
    assert frame.request.params.color.strength == 0.0
    assert not np.array_equal(before.result.image, frame.result.image)


def test_range_slider_edits_the_preset_not_the_preview(window):
    row = window.panel.rows["scale.area_ratio"]
    area = window.doc.params.area_ratio
    row.range_widget.setValue((0.3, 0.9))
    rng = window.doc.preset.scale.area_ratio
    assert (rng.min, rng.max) == pytest.approx((0.3, 0.9))
    assert window.doc.params.area_ratio == area
    assert window.doc.dirty and window.windowTitle().split(" —")[0].endswith("*")


def test_undo_and_redo_a_drag(window):
    rel0 = window.doc.params.center_rel
    c = occluder_center(window)
    window.canvas.begin_drag("move", c)
    for step in range(1, 6):
        window.canvas.drag_to(c + QPointF(5 * step, 0))
    window.canvas.end_drag()
    moved = window.doc.params.center_rel
    assert moved != rel0
    window.doc.undo_stack.undo()  # the whole drag is one undo step
    assert window.doc.params.center_rel == rel0
    window.doc.undo_stack.redo()
    assert window.doc.params.center_rel == moved


def test_stale_frames_are_dropped_synchronous():
    from studio.core.model.params import RenderParams

    ctrl = PreviewController(synchronous=True)
    shown = []
    ctrl.frameShown.connect(shown.append)
    face, occ = synthetic_face(128), synthetic_occluder(64)
    params = RenderParams(area_ratio=0.3)
    for i in range(3):  # a burst: only the newest is rendered
        ctrl.request(face, occ, params.replace(center_rel=(0.3 + 0.1 * i, 0.5)))
    frame = ctrl.worker.run_pending()
    assert ctrl.worker.rendered == [3]
    assert [f.generation for f in shown] == [3]
    assert frame.request.params.center_rel == pytest.approx((0.5, 0.5))
    # frame 4 finishes while request 5 waits: it is newer than the screen, so it is shown
    ctrl.request(face, occ, params.replace(center_rel=(0.6, 0.5)))
    request4 = ctrl.worker.pending
    ctrl.request(face, occ, params.replace(center_rel=(0.7, 0.5)))
    ctrl.worker._render(request4)
    assert [f.generation for f in shown] == [3, 4]
    assert ctrl.worker.run_pending().generation == 5
    assert [f.generation for f in shown] == [3, 4, 5]
    # a frame arriving after a newer one is on screen is stale: dropped, never shown
    ctrl.worker._render(request4)
    ctrl.worker._render(frame.request)
    assert [f.generation for f in shown] == [3, 4, 5] and ctrl.dropped == 2
    assert ctrl.last_frame.generation == 5


def test_strict_mode_drops_frames_older_than_the_newest_request():
    from studio.core.model.params import RenderParams

    ctrl = PreviewController(synchronous=True, drop_superseded=True)
    shown = []
    ctrl.frameShown.connect(shown.append)
    face, occ = synthetic_face(128), synthetic_occluder(64)
    ctrl.request(face, occ, RenderParams(area_ratio=0.3))
    request1 = ctrl.worker.pending
    ctrl.request(face, occ, RenderParams(area_ratio=0.4))
    ctrl.worker._render(request1)
    assert shown == [] and ctrl.dropped == 1
    assert ctrl.worker.run_pending().generation == 2
    assert [f.generation for f in shown] == [2]


def test_threaded_worker_shows_the_newest_frame(qtbot):
    from studio.core.model.params import RenderParams

    ctrl = PreviewController(synchronous=False)
    shown = []
    ctrl.frameShown.connect(shown.append)
    face, occ = synthetic_face(160), synthetic_occluder(64)
    try:
        for i in range(20):
            last = ctrl.request(
                face, occ, RenderParams(area_ratio=0.3, center_rel=(0.2 + i * 0.03, 0.5))
            )
        qtbot.waitUntil(lambda: bool(shown) and shown[-1].generation == last, timeout=30_000)
        gens = [f.generation for f in shown]
        assert gens == sorted(set(gens))  # never an older frame after a newer one
        assert shown[-1].request.params.center_rel == pytest.approx((0.2 + 19 * 0.03, 0.5))
    finally:
        ctrl.shutdown()


def test_cache_makes_drags_skip_colour_transfer(window):
    cache = window.preview.worker.cache
    c = occluder_center(window)
    window.canvas.begin_drag("move", c)
    window.canvas.drag_to(c + QPointF(10, 0))
    render(window)
    misses = cache.misses
    window.canvas.drag_to(c + QPointF(20, 0))
    render(window)
    assert cache.misses == misses  # SOT, augmentation and reductions all came from the cache
