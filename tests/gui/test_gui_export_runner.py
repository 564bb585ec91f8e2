"""The export runner against the exporter's JSON-lines contract (with a stand-in exporter)."""

import sys
from pathlib import Path

import pytest

from studio.cli import build_parser
from studio.commands.export import arguments, spec_from_args
from studio.core.export.spec import ExportSpec
from studio.gui.export_runner import ExportRunner

FAKE = str(Path(__file__).with_name("fake_export.py"))


def make_runner(delay: float) -> tuple[ExportRunner, dict]:
    runner = ExportRunner(command=[sys.executable, FAKE, "--delay", str(delay)])
    seen: dict = {"progress": [], "done": [], "failed": [], "start": []}
    runner.started.connect(lambda total, out: seen["start"].append((total, out)))
    runner.progress.connect(seen["progress"].append)
    runner.finished.connect(seen["done"].append)
    runner.failed.connect(seen["failed"].append)
    return runner, seen


@pytest.fixture
def preset_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: t\n")
    return str(path)


@pytest.mark.parametrize(
    "spec",
    [
        ExportSpec("p.yaml", "out", 50, seed=7, workers=2, resume=True),
        ExportSpec("p.yaml", "out", 5, report=True),
        ExportSpec("natocc-hands", "o", data="/d", faces="f", textures="t", engine="ray"),
        ExportSpec("p.yaml", "out", seed=0, verify=True, resume=True, backend="auto"),
        ExportSpec(
            "p.yaml",
            "s3://bucket/job",
            8,
            format="webdataset",
            shard_samples=4,
            shard_bytes=2**20,
            storage_option=["endpoint_url=http://127.0.0.1:9000", "anon=true"],
        ),
    ],
)
def test_the_studio_starts_exactly_the_job_of_its_spec(spec):
    """The studio's command line is the command's own: parsed back, it is the same job."""
    argv = arguments(spec)
    assert argv[0] == "export"
    assert spec_from_args(build_parser().parse_args(argv)) == spec


def test_export_reports_progress_and_completes(qtbot, tmp_path, preset_file):
    runner, seen = make_runner(0.0)
    out = tmp_path / "out"
    runner.start(ExportSpec(preset_file, str(out), 12))
    qtbot.waitUntil(lambda: bool(seen["done"]), timeout=30_000)
    assert seen["start"] == [(12, str(out))]
    assert [e.done for e in seen["progress"]] == list(range(1, 13))
    assert seen["done"][0].written == 12 and not seen["done"][0].cancelled
    assert len(list((out / "masks").glob("*.png"))) == 12
    qtbot.waitUntil(lambda: not runner.running, timeout=30_000)


def test_cancel_leaves_a_resumable_job(qtbot, tmp_path, preset_file):
    runner, seen = make_runner(0.05)
    out = tmp_path / "out"
    runner.start(ExportSpec(preset_file, str(out), 200))
    qtbot.waitUntil(lambda: len(seen["progress"]) >= 3, timeout=30_000)
    runner.cancel()
    qtbot.waitUntil(lambda: bool(seen["done"]), timeout=30_000)
    assert seen["done"][0].cancelled is True
    partial = len(list((out / "masks").glob("*.png")))
    assert 3 <= partial < 200
    runner2, seen2 = make_runner(0.0)
    runner2.start(ExportSpec(preset_file, str(out), 200, resume=True))
    qtbot.waitUntil(lambda: bool(seen2["done"]), timeout=60_000)
    assert seen2["done"][0].written == 200 - partial
    assert len(list((out / "masks").glob("*.png"))) == 200


def test_exporter_error_is_one_line(qtbot, tmp_path):
    runner, seen = make_runner(0.0)
    runner.start(ExportSpec(str(tmp_path / "missing.yaml"), str(tmp_path / "o"), 5))
    qtbot.waitUntil(lambda: bool(seen["failed"]), timeout=30_000)
    assert seen["failed"] == [f"{tmp_path / 'missing.yaml'}: preset file not found"]
    assert seen["done"] == []


def test_an_error_is_worded_in_the_studios_terms(qtbot, tmp_path, preset_file):
    """The exporter's error event carries the hint; the studio words it (no flag)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "job.json").write_text("{}")
    runner, seen = make_runner(0.0)
    runner.start(ExportSpec(preset_file, str(out), 5))
    qtbot.waitUntil(lambda: bool(seen["failed"]), timeout=30_000)
    assert seen["failed"] == [
        f"{out}: already holds an export job "
        "(tick Resume to continue it, or choose another folder)"
    ]
    assert "--" not in seen["failed"][0]


def test_export_process_runs_at_a_lower_priority(qtbot, tmp_path, preset_file):
    import os

    runner, seen = make_runner(0.05)
    runner.start(ExportSpec(preset_file, str(tmp_path / "out"), 100))
    qtbot.waitUntil(lambda: len(seen["progress"]) >= 1, timeout=30_000)
    pid = int(runner.process.processId())
    assert os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 1
    runner.cancel()
    qtbot.waitUntil(lambda: not runner.running, timeout=30_000)
