"""The Review window: grid, filters, sort, keys X/F/Ctrl+Z, compare, Open in editor, and the
ways it opens (File menu, a dropped folder, the end of an export, main.py --review)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import drop, render
from review_helpers import real_export

from studio.core.export.review import decisions as D
from studio.core.export.review.query import select

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """Two exports of one seed (harmonisation off and on) and a RandOcc one."""
    root = tmp_path_factory.mktemp("review-gui")
    harmonized = "harmonize:\n  enabled: true\n  shadow:\n    probability: 1.0\n"
    return {
        "plain": real_export(root, "plain", count=12),
        "harmonized": real_export(root, "harmonized", harmonized, count=12),
        "randocc": real_export(root, "randocc", mode="randocc", count=4),
    }


@pytest.fixture
def review(qtbot, exports):
    from studio.gui.review.window import ReviewWindow

    window = ReviewWindow(synchronous=True)
    qtbot.addWidget(window)
    window.open(exports["plain"])
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    grid = window.view.grids[0]
    qtbot.waitUntil(lambda: grid.model.rowCount() == 12 and not window.view.busy(), timeout=30_000)
    yield window
    window.close()


def samples_shown(grid) -> list[int]:
    return [grid.model.sample_at(r) for r in range(grid.model.rowCount())]


def test_the_grid_shows_every_sample_with_thumbnails_in_view(review):
    grid = review.view.grids[0]
    assert sorted(samples_shown(grid)) == list(range(12))
    assert grid.visible_rows(0) and all(
        grid.model.has_thumbnail(grid.model.position_at(r)) for r in grid.visible_rows(0)
    )
    assert not grid.model.errors
    assert "12 of 12 samples" in review.view.count.text()
    assert review.view.detail.title.text() == f"Sample {grid.model.sample_at(0)}"


def test_a_filter_and_a_sort_drive_the_grid_and_the_counts(review, qtbot):
    view, grid = review.view, review.view.grids[0]
    session = view.sessions[0]
    widget = view.filters.filters["coverage"]
    values = session.index.numbers["coverage"]
    low, high = np.quantile(values, [0.25, 0.75])
    widget.set_range(low, high)
    qtbot.waitUntil(lambda: "coverage" in session.filters, timeout=5_000)
    flt = session.filters["coverage"]
    kept = select(session.index, [flt])
    assert samples_shown(grid) == [int(session.index.index[p]) for p in kept]
    assert 0 < len(kept) < 12 and f"{len(kept)} of 12 samples" in view.count.text()
    view.sort_combo.setCurrentIndex(view.sort_combo.findData("coverage"))
    view.descending.setChecked(True)
    shown = [float(values[grid.model.position_at(r)]) for r in range(grid.model.rowCount())]
    assert shown == sorted(shown, reverse=True)
    assert grid.model.data(grid.model.index(0, 0)).endswith(f"{shown[0]:.3f}")  # the value shown
    widget.clear()
    assert grid.model.rowCount() == 12


def test_keys_reject_flag_and_undo_into_review_jsonl(review, qtbot):
    from PySide6.QtCore import Qt

    from studio.gui.review.model import DECISION_ROLE

    view, grid = review.view, review.view.grids[0]
    out = view.sessions[0].out
    grid.list.setFocus()
    grid.select_row(0)
    first = grid.model.sample_at(0)
    qtbot.keyClick(grid.list, Qt.Key.Key_X)
    assert D.read_decisions(out).by_index == {first: "reject"}
    grid.select_row(1)
    second = grid.model.sample_at(1)
    qtbot.keyClick(grid.list, Qt.Key.Key_F)
    assert D.read_decisions(out).by_index == {first: "reject", second: "flag"}
    assert "1 rejected · 1 flagged" in view.count.text()
    assert grid.model.data(grid.model.index(0, 0), DECISION_ROLE) == "reject"
    qtbot.keyClick(grid.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert D.read_decisions(out).by_index == {first: "reject"}
    qtbot.keyClick(grid.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert D.read_decisions(out).by_index == {}
    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(grid.list, Qt.Key.Key_Z, redo)
    assert D.read_decisions(out).by_index == {first: "reject"}
    lines = [json.loads(x) for x in (out / D.REVIEW).read_text().splitlines()]
    assert [x["decision"] for x in lines] == ["reject", "flag", "clear", "clear", "reject"]
    # the decision is a filter too
    decision = view.filters.filters["decision"]
    decision.set_choices({"rejected"})
    assert samples_shown(grid) == [first]
    decision.clear()
    (out / D.REVIEW).unlink()


def test_a_failed_sample_is_a_tile_with_its_reason(qtbot, exports, tmp_path):
    import shutil

    from studio.gui.review.window import ReviewWindow

    out = tmp_path / "copy"
    shutil.copytree(exports["plain"], out)
    with (out / "failures.jsonl").open("a") as fh:
        fh.write(json.dumps({"index": 12, "path": "faces/x.jpg", "reason": "no placement"}) + "\n")
    window = ReviewWindow(synchronous=True)
    qtbot.addWidget(window)
    window.open(out)
    window.show()
    view, grid = window.view, window.view.grids[0]
    qtbot.waitUntil(lambda: grid.model.rowCount() == 13 and not view.busy(), timeout=30_000)
    assert "outcome" in view.filters.filters and "failure" in view.filters.filters
    row = samples_shown(grid).index(12)
    grid.select_row(row)
    qtbot.waitUntil(lambda: "not made" in view.detail.title.text(), timeout=10_000)
    assert "no placement" in view.detail.title.text()
    qtbot.waitUntil(lambda: grid.model.has_thumbnail(grid.model.position_at(row)))
    assert "no placement" in grid.model.data(grid.model.index(row, 0), 3)  # the tooltip
    window.close()


def test_compare_shows_the_same_samples_of_two_exports_side_by_side(review, exports, qtbot):
    view = review.view
    review.open(exports["harmonized"], compare=True)
    a, b = view.grids
    qtbot.waitUntil(lambda: b.model.rowCount() == 12 and b.pending == 0, timeout=30_000)
    view.sort_combo.setCurrentIndex(view.sort_combo.findData("coverage"))
    assert samples_shown(a) == samples_shown(b)  # tile for tile, the same sample index
    a.select_row(5)
    assert b.current_row() == 5
    a.list.verticalScrollBar().setValue(40)
    assert b.list.verticalScrollBar().value() == a.list.verticalScrollBar().value()
    titles = [t.text() for t in view.detail.images.titles if t.isVisible()]
    assert titles == ["A: image", "B: image"]
    view.set_view("occlusion")
    qtbot.waitUntil(lambda: len([t for t in view.detail.images.titles if t.isVisible()]) == 4)
    assert "B" in view.detail.params.headerItem().text(2)


def test_open_in_editor_loads_the_sample_and_renders_the_exported_pixels(window, exports, qtbot):
    """The Preview at full resolution renders the pixels the export wrote (compared before
    any encoding: the export wrote PNG)."""
    from studio.core.io.imageio import read_image
    from studio.core.model.params import RenderParams

    for name in ("harmonized", "randocc"):
        out = exports[name]
        review = window.open_review(out)
        grid = review.view.grids[0]
        qtbot.waitUntil(lambda grid=grid: grid.model.rowCount() > 0, timeout=30_000)
        grid.select_row(grid.model.rowCount() - 1)
        review.view.open_in_editor()  # -> the main window, synchronously here
        row = review.view.sessions[0].index.row(grid.model.position_at(grid.current_row()))
        params = RenderParams.from_dict(row["params"])
        assert window.doc.params == params and window.doc.preset.mode == params.mode
        assert window.face.id == params.face_id
        if name == "randocc":
            assert (window.texture.id if window.texture else None) == params.texture_id
        else:
            assert window.occluder.id == params.occluder_id
        frame = render(window)
        assert frame.request.params == params  # resolved with the job's preset: unchanged
        h, w = window.face.image.shape[:2]
        assert window.preview.request_region(window.face, (0, 0, w, h)) is not None
        render(window)
        full = window.preview.region_frame.result.image
        assert np.array_equal(full, read_image(out / row["files"]["image"]))
        review.close()


def test_an_export_opens_from_a_drop_and_when_an_export_ends(window, exports, tmp_path):
    from studio.core.jobs.events import Event

    drop(window, exports["plain"])
    assert [w.view.sessions[0].out for w in window.review_windows()] == [exports["plain"]]
    drop(window, tmp_path)  # not an export: said, nothing opened
    assert len(window.review_windows()) == 1
    assert "drop an export folder" in window.messages[-1]
    panel = window.export_panel
    panel.out_dir = str(exports["harmonized"])
    panel._on_done(Event.make("done", written=12, failed=0, out=str(exports["harmonized"])))
    assert window.review_windows()[-1].view.sessions[0].out == exports["harmonized"]
    assert panel.review_button.isEnabled()
    window.close_reviews()
    assert window.review_windows() == []


def test_main_review_screenshot_waits_for_the_thumbnails(exports, tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "review.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    args = ["--review", str(exports["plain"]), "--view", "occlusion",
            "--filter", "coverage=0.2:0.9", "--screenshot", str(out)]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = QImage(str(out))
    assert image.width() >= 1200
    bad = subprocess.run(
        [sys.executable, "main.py", "--review", str(tmp_path)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "not an export folder" in bad.stderr


def test_an_export_in_a_store_is_reviewed_by_its_url(qtbot, exports, window, monkeypatch):
    """A URL (s3://, a real S3 endpoint on 127.0.0.1) opens like a folder: its rows and
    thumbnails in the grid, and a key's decision written to the store's review.jsonl."""
    from studio.bench.export_storage import local_s3

    s3fs = pytest.importorskip("s3fs", reason="the cloud extra")
    # file systems are cached by their arguments, not by the endpoint the environment names:
    # none made for another endpoint (another test's) may serve this one, nor this one later
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        with local_s3() as endpoint:
            if endpoint is None:
                pytest.skip("the dev extra (moto)")
            review_a_store(qtbot, exports, s3fs.S3FileSystem())
            open_a_url_from_the_file_menu(qtbot, window, monkeypatch)
    finally:
        s3fs.S3FileSystem.clear_instance_cache()


def review_a_store(qtbot, exports, fs) -> None:
    """The plain export copied to a bucket, reviewed by its URL."""
    from PySide6.QtCore import Qt

    from studio.core.export.records import is_export
    from studio.gui.review.window import ReviewWindow

    fs.mkdir("review-gui")
    url = "s3://review-gui/plain"
    for path in sorted(exports["plain"].rglob("*")):
        if path.is_file() and path.name != D.REVIEW:
            fs.pipe_file(f"review-gui/plain/{path.relative_to(exports['plain'])}",
                         path.read_bytes())  # fmt: skip
    assert is_export(url)
    window = ReviewWindow(synchronous=True)
    qtbot.addWidget(window)
    window.open(url)
    window.show()
    grid = window.view.grids[0]
    qtbot.waitUntil(lambda: grid.model.rowCount() == 12 and not window.view.busy(),
                    timeout=30_000)  # fmt: skip
    assert sorted(samples_shown(grid)) == list(range(12))
    qtbot.waitUntil(lambda: all(grid.model.has_thumbnail(grid.model.position_at(r))
                                for r in grid.visible_rows(0)), timeout=30_000)  # fmt: skip
    assert "plain" in window.windowTitle()
    grid.list.setFocus()
    grid.select_row(0)
    first = grid.model.sample_at(0)
    qtbot.keyClick(grid.list, Qt.Key.Key_X)
    assert D.read_decisions(url).by_index == {first: "reject"}
    assert not (exports["plain"] / D.REVIEW).exists()  # the store's, not the folder's
    window.close()
    shot = exports["plain"].parent / "store-review.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "main.py", "--review", url, "--screenshot", str(shot)], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]


def open_a_url_from_the_file_menu(qtbot, window, monkeypatch) -> None:
    """File > Open export URL...: the URL asked for opens a Review window; a URL that holds
    no export is said, and nothing opens."""
    from PySide6.QtWidgets import QInputDialog

    answers = iter(["s3://review-gui/plain ", "s3://review-gui/nothing"])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (next(answers), True))
    window.act_review_url.trigger()
    (review,) = window.review_windows()
    assert review.view.sessions[0].out == "s3://review-gui/plain"
    grid = review.view.grids[0]
    qtbot.waitUntil(lambda: grid.model.rowCount() == 12, timeout=30_000)
    window.act_review_url.trigger()
    assert len(window.review_windows()) == 1
    assert "s3://review-gui/nothing: not an export (no manifest.jsonl)" in window.messages[-1]
    window.close_reviews()
