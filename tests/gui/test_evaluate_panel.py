"""The Evaluate tab: compare / evaluate jobs run in the background, curves and table fill as
events come, cancel, errors, gallery; a real `studio evaluate` run through the panel."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.cli import build_parser
from studio.commands.compare import config_from_args as compare_config
from studio.commands.evaluate import config_from_args as evaluate_config
from studio.gui.evaluate_panel import EvaluatePanel, job_arguments
from studio.gui.process_runner import ProcessRunner
from studio.integrations.train.config import CompareConfig, EvaluateConfig

FAKE = str(Path(__file__).with_name("fake_compare.py"))


def fake_panel(qtbot, delay: float = 0.0) -> EvaluatePanel:
    runner = ProcessRunner(command=[sys.executable, FAKE, "--delay", str(delay)])
    panel = EvaluatePanel(runner=runner)
    qtbot.addWidget(panel)
    return panel


def fill_compare(panel: EvaluatePanel, tmp_path: Path, presets=("natocc.yaml",)) -> None:
    for p in presets:
        panel.presets.addItem(str(tmp_path / p))
    panel.faces.setText(str(tmp_path / "faces"))
    panel.test.setText(str(tmp_path / "test"))
    panel.compare_out.setText(str(tmp_path / "out"))


def test_jobs_are_the_commands_own_configs():
    """The panel's command line, parsed back by the command, is the same config."""
    job = CompareConfig(["a.yaml", "b.yaml"], "faces", "test", "out", 40, 1.5, size=64, seed=3)
    args = build_parser().parse_args(job_arguments(job, resume=True))
    assert args.command == "compare" and args.resume
    assert compare_config(args) == job
    ev = EvaluateConfig("run", "test", "rep", device="cpu", limit=5)
    args = build_parser().parse_args(job_arguments(ev))
    assert args.command == "evaluate" and evaluate_config(args) == ev


def test_compare_fills_curves_and_table_as_events_come(qtbot, tmp_path, monkeypatch):
    panel = fake_panel(qtbot)
    fill_compare(panel, tmp_path, ("natocc.yaml", "randocc.yaml"))
    seen_rows = []
    panel.runner.event.connect(
        lambda e: seen_rows.append(panel.table.rowCount()) if e.kind == "epoch" else None
    )
    panel.start()
    assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert seen_rows and seen_rows[0] == 3  # rows from the plan, before any result
    names = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert names == ["baseline", "natocc", "randocc"]
    assert panel.table.item(0, 3).text() == "0.7000"
    assert panel.table.item(2, 4).text() == "+0.0400"  # Δ mIoU against the baseline
    assert panel.table.item(0, 4).text() == ""
    assert [len(panel.chart.series[n]) for n in names] == [3, 3, 3]
    assert panel.chart.series["natocc"][-1] == (6.0, pytest.approx(0.71))
    assert panel.status.text().startswith("Done")
    opened = []
    monkeypatch.setattr(
        "studio.gui.evaluate_panel.QDesktopServices.openUrl", lambda url: opened.append(url)
    )
    panel.table.selectRow(1)
    assert panel.gallery_button.isEnabled()
    panel.open_gallery()
    assert opened[0].toLocalFile() == str(tmp_path / "out/eval/natocc/gallery.png")


def test_cancel_stops_the_compare_and_offers_resume(qtbot, tmp_path):
    panel = fake_panel(qtbot, delay=0.05)
    fill_compare(panel, tmp_path)
    panel.start()
    qtbot.waitUntil(lambda: bool(panel.chart.series.get("baseline")), timeout=30_000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert "Cancelled" in panel.status.text() and panel.resume.isChecked()
    assert not panel.runner.running
    assert "--resume" in panel.arguments()


def test_errors_are_one_line_and_missing_fields_are_named(qtbot, tmp_path):
    panel = fake_panel(qtbot)
    panel.start()
    assert "test set" in panel.status.text() and not panel.runner.running
    panel.test.setText(str(tmp_path / "test"))
    panel.start()
    assert "preset" in panel.status.text()
    fill_compare(panel, tmp_path, ("bad.yaml",))
    panel.start()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=30_000)
    assert panel.status.text() == f"⚠ {tmp_path / 'bad.yaml'}: mode: unknown value"


def test_the_window_has_an_evaluate_tab_that_takes_the_current_preset(window, tmp_path):
    from studio.core.io.presets import load_preset

    window.show_tab("evaluate")
    assert window.center_tabs.currentWidget() is window.evaluate_panel
    path = window.evaluate_panel.add_current_preset()
    assert load_preset(path).mode == window.doc.preset.mode
    assert window.evaluate_panel.presets.count() == 1
    window.evaluate_panel.add_current_preset()  # the same file is listed once
    assert window.evaluate_panel.presets.count() == 1


def test_a_real_evaluate_runs_through_the_panel(qtbot, tmp_path):
    torch = pytest.importorskip("torch", reason="the real evaluate needs torch")
    from studio.core.io.writers import write_image
    from studio.integrations.train.data import Target
    from studio.integrations.train.model import ModelConfig, UNet
    from studio.integrations.train.weights import model_record, save_torch

    net = UNet(ModelConfig(2, width=4, depth=2))
    with torch.no_grad():  # predicts "face" everywhere: face IoU = mask area / image area
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([0.0, 1.0]))
    save_torch(tmp_path / "run/model.pt", model_record(net, Target.of("face"), 32))
    mask = np.zeros((40, 40), np.uint8)
    mask[:10] = 255  # a quarter of the image
    write_image(tmp_path / "test/images/a.png", np.full((40, 40, 3), 90, np.uint8))
    write_image(tmp_path / "test/masks/a.png", mask)

    panel = EvaluatePanel()
    qtbot.addWidget(panel)
    panel.mode.setCurrentIndex(1)
    panel.run_dir.setText(str(tmp_path / "run"))
    panel.test.setText(str(tmp_path / "test"))
    panel.start()
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=120_000)
    assert panel.status.text().startswith("Done"), panel.status.text()
    assert panel.table.item(0, 0).text() == "run" and panel.table.item(0, 2).text() == "0.2500"
    report = json.loads((tmp_path / "run/evaluate/report.json").read_text())
    assert report["face_iou"] == 0.25
    assert panel.selected_row().gallery == str(tmp_path / "run/evaluate/gallery.png")
