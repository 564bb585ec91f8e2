"""Sample grid (click loads exact params) and the export panel driving the runner."""

import sys
from pathlib import Path

from gui_helpers import render

from studio.core.io.presets import load_preset
from studio.gui.export_runner import ExportRunner

FAKE = str(Path(__file__).with_name("fake_export.py"))


def open_folders(window, root):
    """Real face and occluder folders (the synthetic samples are preview-only)."""
    import cv2
    import numpy as np
    from test_browsers_views import write_faces

    from studio.core.sources.synthetic import synthetic_occluder

    write_faces(root)
    (root / "occ").mkdir()
    occ = synthetic_occluder(64)
    rgba = cv2.cvtColor(np.dstack([occ.image, occ.alpha]), cv2.COLOR_RGBA2BGRA)
    cv2.imwrite(str(root / "occ" / "hand.png"), rgba)
    window.open_path(str(root / "faces"), "faces")
    window.open_path(str(root / "occ"), "occluders")


def test_sample_grid_fills_and_a_click_loads_the_exact_params(window, qtbot):
    window.show_tab("samples")
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    grid = window.samples
    assert len(grid.samples) == 9
    ok = [i for i, s in grid.samples.items() if s.params is not None]
    assert ok, [s.error for s in grid.samples.values()]
    distinct = {grid.samples[i].params.center_rel for i in ok}
    assert len(distinct) == len(ok)  # random samples, not one repeated
    info = grid.samples[ok[0]]
    grid.tiles[ok[0]].click()
    assert window.doc.params == info.params
    assert window.face.id == info.face_id and window.occluder.id == info.occluder_id
    frame = render(window)
    assert frame.request.params.center_rel == info.params.center_rel
    assert frame.request.params.area_ratio == info.params.area_ratio


def test_reseed_draws_other_samples(window, qtbot):
    window.show_tab("samples")
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    before = {i: s.params for i, s in window.samples.samples.items()}
    window.samples.seed.setValue(window.samples.seed.value() + 1)
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    after = {i: s.params for i, s in window.samples.samples.items()}
    assert before != after


def test_export_panel_runs_a_job_with_a_snapshot_of_the_preset(window, qtbot, tmp_path):
    panel = window.export_panel
    panel.runner.command = [sys.executable, FAKE, "--delay", "0"]
    window.new_preset()  # the synthetic samples only (preview only): Export is off, and says why
    assert not panel.start_button.isEnabled()
    assert "synthetic faces (preview only)" in panel.blocker_label.text()
    panel.start()
    assert "synthetic faces" in panel.status.text() and not panel.runner.running
    open_folders(window, tmp_path)
    window.panel.rows["color.strength"].pinned_widget.setValue(0.3)
    panel.count.setValue(7)
    panel.out.setText(str(tmp_path / "out"))
    panel.start()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert "Done: 7 written" in panel.status.text()
    assert panel.bar.value() == panel.bar.maximum()
    assert panel.open_button.isEnabled()
    # the stand-in writes no report.html: nothing is opened, the button stays off
    assert panel.opened == [] and not panel.report_button.isEnabled()
    sheet = panel.sheet.pixmap()  # contact sheet of the first images (masks left out)
    assert not sheet.isNull() and sheet.width() > 3 * 88 and sheet.height() > 88 * 2
    snapshot = load_preset(panel.job().preset)
    assert snapshot.color.strength == 0.3  # the exporter gets the edited preset
    assert snapshot.sources.faces == str((tmp_path / "faces").resolve())
    assert snapshot.sources.occluders == str((tmp_path / "occ").resolve())


def test_export_panel_without_matplotlib_asks_for_no_report(window, qtbot, tmp_path):
    panel = window.export_panel
    panel.runner.command = [sys.executable, FAKE, "--delay", "0"]
    open_folders(window, tmp_path)
    assert panel.job().report  # the report extra is installed here
    panel.make_report = False  # as without matplotlib
    assert not panel.job().report
    panel.count.setValue(2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "job.json").write_text("{}")  # an unfinished job, with an old report
    (tmp_path / "out" / "report.html").write_text("an old report")
    panel.out.setText(str(tmp_path / "out"))
    panel.resume.setChecked(True)
    panel.start()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert "Done: 2 written" in panel.status.text() and "pip install" in panel.status.text()
    assert panel.opened == []  # an old report is not opened as if it were this job's
    assert panel.report_button.isEnabled()  # but it can be opened by hand
def test_export_panel_defaults_to_every_core_and_remembers_the_folder(window, qtbot, tmp_path):
    import os

    from studio.gui.export_panel import ExportPanel

    panel = window.export_panel
    assert panel.workers.value() == os.cpu_count()  # as `studio export` without --workers
    panel.runner.command = [sys.executable, FAKE, "--delay", "0"]
    open_folders(window, tmp_path)
    panel.count.setValue(2)
    panel.out.setText(str(tmp_path / "somewhere"))
    panel.start()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    later = ExportPanel(window.export_preset, settings=window.settings)  # the next session
    qtbot.addWidget(later)
    assert later.out.text() == str(tmp_path / "somewhere")


def test_export_panel_cancel_offers_resume(window, qtbot, tmp_path):
    panel = window.export_panel
    panel.runner.command = [sys.executable, FAKE, "--delay", "0.05"]
    open_folders(window, tmp_path)
    panel.count.setValue(500)
    panel.out.setText(str(tmp_path / "out"))
    panel.start()
    qtbot.waitUntil(lambda: panel.bar.value() >= 2, timeout=30_000)
    assert "img/s" in panel.status.text() and "ETA" in panel.status.text()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert "Cancelled" in panel.status.text()
    assert panel.resume.isChecked() and panel.job().resume
    assert isinstance(panel.runner, ExportRunner)


def test_export_panel_runs_the_real_exporter(window, qtbot, tmp_path):
    """The panel drives the real `studio export` (not the stand-in) to completion, on exactly
    the sources the browsers show: every file the manifest names exists, and the unusable face
    of the open folder is a failure row."""
    import json

    panel = window.export_panel
    open_folders(window, tmp_path)
    out = tmp_path / "real-out"
    panel.count.setValue(6)
    panel.out.setText(str(out))
    panel.start()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=120_000)
    # the demo preset uses each face twice: broken.png fails samples 0 and 1, replaced by
    # samples 6 and 7 (the next past the plan: f2.png): 6 samples, as asked
    assert "Done: 6 written, 2 failed" in panel.status.text(), panel.status.text()
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    faces = sorted(r["face_id"] for r in rows)
    assert faces == ["f0.png", "f0.png", "f1.png", "f1.png", "f2.png", "f2.png"]
    for row in rows:
        assert row["occluder_id"] == "hand.png"
        for rel in row["files"].values():
            assert (out / rel).is_file()
    failures = [json.loads(x) for x in (out / "failures.jsonl").read_text().splitlines()]
    assert sorted(f["index"] for f in failures) == [0, 1]  # in any order with 2+ workers
    assert all(f["path"] == str(tmp_path / "faces" / "broken.png") for f in failures)
    job = json.loads((out / "job.json").read_text())
    assert job["count"] == 6
    # the sample grid draws exactly what the export made, for the same seed
    window.samples.seed.setValue(job["seed"])
    window.show_tab("samples")
    qtbot.waitUntil(lambda: not window.samples.busy(), timeout=60_000)
    for row in rows:
        tile = window.samples.samples[row["index"]]
        assert (tile.face_id, tile.occluder_id) == (row["face_id"], row["occluder_id"])
        assert json.loads(json.dumps(tile.params.to_dict())) == row["params"]
    assert all(window.samples.samples[f["index"]].params is None for f in failures)
    assert job["sources"]["faces"]["path"] == str(tmp_path / "faces")
    assert job["sources"]["occluders"]["layout"] == "rgba"
    # the exporter wrote the report before its "done" line, and the panel opened it
    report = out / "report.html"
    assert report.is_file() and (out / "report.png").is_file()
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["samples"] == 6  # written (2 draws failed and were replaced)
    assert [u.toLocalFile() for u in panel.opened] == [str(report.resolve())]
    assert panel.report_button.isEnabled()
    panel.report_button.click()
    assert len(panel.opened) == 2


def test_export_panel_offers_webdataset_shards(window):
    from studio.commands.export import arguments

    panel = window.export_panel
    assert panel.job().format == "folder"  # the default, as the command's
    panel.format.setCurrentIndex(panel.format.findData("webdataset"))
    job = panel.job()
    assert job.format == "webdataset" and job.shards() is not None
    assert arguments(job)[arguments(job).index("--format") + 1] == "webdataset"
