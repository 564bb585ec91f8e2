"""The job protocol: typed events on the wire, throttled progress, records, cancel on signals,
the shared flags and the hints' wording."""

from __future__ import annotations

import json
import math
import os
import signal
import threading
from pathlib import Path

import pytest

from studio.cli import build_parser, main
from studio.commands import compare as compare_command
from studio.commands import evaluate as evaluate_command
from studio.commands import export as export_command
from studio.commands import train as train_command
from studio.commands.flags import HINTS, error_line
from studio.core.export.spec import ExportSpec
from studio.core.jobs.cancel import cancel_on_signals
from studio.core.jobs.events import Event
from studio.core.jobs.progress import Progress
from studio.core.jobs.records import check_resumable, first_difference, read_record
from studio.core.model.errors import InputError
from studio.integrations.train.config import CompareConfig, EvaluateConfig, TrainConfig


# ---- events --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "event",
    [
        Event.make("start", total=10, done=2, out="/o", unit="img"),
        Event.make("progress", done=5, total=10, failed=1, rate=3.25, eta=1.5, loss=0.25),
        Event.make("done", written=9, failed=1, cancelled=False, table=[{"model": "a"}]),
        Event.make("result", model="natocc", stage="evaluate", miou=0.5),
        Event.make("note", message="resume: 2 recorded samples damaged: made again"),
    ],
)
def test_an_event_survives_the_wire(event: Event) -> None:
    line = json.dumps(event.to_json())
    assert Event.from_json(json.loads(line)) == event


def test_the_wire_is_strict_json_and_bad_lines_are_refused() -> None:
    wire = Event.make("progress", done=1, rate=math.inf, eta=math.nan, loss=math.nan).to_json()
    assert wire == {"event": "progress", "done": 1, "rate": None, "eta": None, "loss": None}
    json.dumps(wire, allow_nan=False)
    for bad in ({"event": "launch"}, {"done": 1}, {"event": "progress", "done": "3"}):
        with pytest.raises(ValueError):
            Event.from_json(bad)
    with pytest.raises(ValueError):
        Event.from_json({"event": "done", "written": True})  # a bool is not a count


def test_event_get_and_replace_reach_fields_and_data() -> None:
    event = Event.make("epoch", epoch=3, loss=0.5).replace(model="baseline", loss=0.25)
    assert (event.model, event.get("epoch"), event.get("loss")) == ("baseline", 3, 0.25)
    assert event.get("failed", 0) == 0 and event.get("missing") is None


# ---- progress ------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_throttled_but_the_last_event_always_comes() -> None:
    clock = Clock()
    progress = Progress(10, done=4, interval=1.0, clock=clock)
    clock.now += 0.5
    first = progress.update(5)
    assert first is not None and first.done == 5  # the first update is shown at once
    clock.now += 0.5
    assert progress.update(6) is None  # 0.5 s after the last event
    clock.now += 0.6
    event = progress.update(7, failed=1)
    assert event is not None and event.failed == 1
    assert event.rate == pytest.approx(3 / 1.6)  # this session's units: 7 - 4
    assert event.eta == pytest.approx(3 / (3 / 1.6))
    clock.now += 0.1
    last = progress.update(10)
    assert last is not None and last.done == 10 and last.eta == 0


def test_progress_takes_the_jobs_own_rate_and_eta() -> None:
    clock = Clock()
    progress = Progress(None, clock=clock)
    assert progress.eta() is None
    event = progress.update(3, rate=12.0, eta=60.0, force=True)
    assert event is not None and (event.rate, event.eta, event.total) == (12.0, 60.0, None)


# ---- records -------------------------------------------------------------------------------
def test_records_are_read_with_one_wording(tmp_path: Path) -> None:
    good = tmp_path / "job.json"
    good.write_text('{"count": 3}')
    assert read_record(good) == {"count": 3}
    for text, reason in (
        ("{not json", "job.json is not valid JSON"),
        ("[1, 2]", "job.json is not a job record"),
    ):
        good.write_text(text)
        with pytest.raises(InputError, match=reason) as err:
            read_record(good)
        assert err.value.path == str(good)
    good.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        read_record(good)


def test_the_first_difference_follows_the_order_and_the_explanation() -> None:
    stored = {"preset": {"mode": "natocc"}, "count": 10, "seed": 1}
    current = {"preset": {"mode": "randocc"}, "count": 20, "seed": 1}
    assert first_difference(stored, current) == "preset.mode is 'randocc' now, 'natocc' in the job"
    assert first_difference(stored, current, order=("count",)) == "count is 20 now, 10 in the job"
    explained = first_difference(
        stored, current, explain=lambda k, o, n: f"{k} changed" if k == "preset.mode" else None
    )
    assert explained == "preset.mode changed"
    assert first_difference(stored, dict(stored)) is None
    with pytest.raises(InputError, match="cannot resume a different run: x"):
        check_resumable("x", "/out", holder="run")
    check_resumable(None, "/out")


# ---- cancel --------------------------------------------------------------------------------
def test_a_signal_sets_the_cancel_event_and_the_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with cancel_on_signals() as cancel:
        os.kill(os.getpid(), signal.SIGTERM)
        assert cancel.wait(5)
    assert signal.getsignal(signal.SIGTERM) == before


def test_cancel_on_signals_off_the_main_thread_sets_no_handler() -> None:
    seen: list[bool] = []

    def job() -> None:
        with cancel_on_signals() as cancel:
            seen.append(cancel.is_set())

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen == [False]


# ---- flags ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "argv_of", "spec_of"),
    [
        (
            ExportSpec("p.yaml", "o", 5, seed=3, workers=2, resume=True, backend="auto"),
            export_command.arguments,
            export_command.spec_from_args,
        ),
        (
            CompareConfig(["a.yaml"], "f", "t", "o", minutes=1.5, device="cpu", workers=3),
            compare_command.arguments,
            compare_command.config_from_args,
        ),
        (
            EvaluateConfig("run", "t", None, device="cuda", limit=4),
            evaluate_command.arguments,
            evaluate_command.config_from_args,
        ),
        (
            TrainConfig(["a", "b"], "run", steps=5, flip=False, loader_workers=2, device="cpu"),
            train_command.arguments,
            train_command.config_from_args,
        ),
    ],
)
def test_every_job_spec_round_trips_through_its_command_line(spec, argv_of, spec_of) -> None:
    assert spec_of(build_parser().parse_args(argv_of(spec))) == spec


def test_device_is_an_alias_of_backend_and_workers_means_one_thing() -> None:
    args = build_parser().parse_args(["evaluate", "run", "--test", "t", "--device", "cpu"])
    assert args.backend == "cpu"
    args = build_parser().parse_args(["train", "data", "--out", "o", "--workers", "2"])
    with pytest.raises(InputError, match="--loader-workers"):
        train_command.config_from_args(args)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "p", "--out", "o", "--workers", "0"])


def test_core_errors_carry_hints_that_the_command_line_words(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    err = InputError("already holds an export job", tmp_path, hint="resume")
    assert error_line(err) == f"{tmp_path}: already holds an export job ({HINTS['resume']})"
    assert error_line(InputError("plain")) == "plain"
    job = tmp_path / "job"
    job.mkdir()
    (job / "job.json").write_text("{}")
    assert main(["export", "demo", "--out", str(job)]) == 2
    assert "already holds an export job (pass --resume to continue it" in capsys.readouterr().err
