"""Reviewing an export (studio/core/export/review): the row index, filters and sort against
NumPy on the manifest, the fields' labels, review.jsonl, the editor's setup of a sample, and
the commands that read the decisions (review, train, evaluate, report, sheet, verify)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from review_helpers import made_up_export, real_export

from studio.core.export import ExportFolder
from studio.core.export.review import decisions as D
from studio.core.export.review import fields as F
from studio.core.export.review.builder import IndexBuilder, open_index
from studio.core.export.review.query import Column, Filter, select
from studio.core.model.knobs import KNOBS


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def made_up(tmp_path_factory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("review") / "export"
    return out, made_up_export(out, 3000, failed=(5, 77))


def manifest_column(rows: list[dict], key: str) -> list:
    """A field's values straight from the rows (json), for the NumPy side of the checks."""
    return [F.leaves(r).get(key) for r in rows]


def numbers(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in manifest_column(rows, key)])


# ---- the index -----------------------------------------------------------------------------------
def test_the_index_holds_every_row_and_field_of_the_manifest(made_up):
    out, rows = made_up
    index = open_index(out)
    assert index.complete and len(index) == len(rows) + 2  # and the two failed samples
    written = index.codes["outcome"] == index.labels["outcome"].index("written")
    assert np.array_equal(index.index[written], [r["index"] for r in rows])
    for key in ("area_ratio", "coverage", "augment.jpeg_quality", "center_rel.1", "attempts"):
        assert np.array_equal(index.numbers[key][written], numbers(rows, key), equal_nan=True)
    for key in ("color.method", "occluder_id", "flip", "texture_id"):
        got = [index.label(key, p) for p in np.flatnonzero(written)]
        assert got == [F.choice_label(v) for v in manifest_column(rows, key)]
    failed = np.flatnonzero(~written)
    assert sorted(index.index[failed]) == [5, 77]
    assert {index.label("failure", p) for p in failed} == {"no placement"}
    assert index.row(int(failed[0]))["reason"] == "no placement"
    position = index.position_of(rows[100]["index"])
    assert position is not None and index.row(position) == rows[100]
    assert index.position_of(10**9) is None


def test_a_streamed_index_grows_to_the_same_columns_and_is_cached(made_up):
    out = made_up[0]
    builder = IndexBuilder(out)
    assert not builder.load_cached()
    sizes = []
    while builder.read(700):
        sizes.append((len(builder.snapshot()), builder.snapshot().complete))
    # manifest lines in chunks, then the failures (2 samples; an input problem is no row)
    assert sizes == [(700, False), (1400, False), (2100, False), (2800, False), (3000, False),
                     (3002, False)]  # fmt: skip
    streamed = builder.snapshot()
    assert streamed.complete
    again = IndexBuilder(out)
    assert again.load_cached()  # the finished index was kept
    cached = again.snapshot()
    assert cached.complete and len(cached) == len(streamed)
    for key in streamed.numbers:
        assert np.array_equal(cached.numbers[key], streamed.numbers[key], equal_nan=True)
    for key in streamed.codes:
        assert np.array_equal(cached.codes[key], streamed.codes[key])
        assert cached.labels[key] == streamed.labels[key]
    assert [f.key for f in cached.fields] == [f.key for f in streamed.fields]
    with (out / "failures.jsonl").open("a") as fh:  # the records changed: not the cached index
        fh.write(json.dumps({"index": 4000, "path": "x", "reason": "late"}) + "\n")
    assert not IndexBuilder(out).load_cached()
    assert len(open_index(out)) == len(streamed) + 1


def test_a_large_manifest_parsed_in_a_worker_process_gives_the_same_index(made_up, monkeypatch):
    from studio.core.export.review import builder as B

    out = made_up[0]
    monkeypatch.setattr(B, "cache_path", lambda _out: None)  # read, not taken from a cache
    monkeypatch.setattr(B, "WORKER_BYTES", 1)
    here = IndexBuilder(out)
    while here.read(500):
        pass
    there = IndexBuilder(out, worker=True)
    assert there.read(500) == 500 and there.worker  # the first chunk here, the rest there
    assert there.read(500) and there.in_worker
    while there.read(500):
        pass
    a, b = here.snapshot(), there.snapshot()
    assert b.complete and np.array_equal(a.index, b.index) and np.array_equal(a.start, b.start)
    assert a.labels == b.labels and [f.key for f in a.fields] == [f.key for f in b.fields]
    for key in a.numbers:
        assert np.array_equal(a.numbers[key], b.numbers[key], equal_nan=True)
    for key in a.codes:
        assert np.array_equal(a.codes[key], b.codes[key])


def test_a_worker_process_that_stops_leaves_the_reading_here(made_up, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from studio.core.export.review import builder as B

    class Broken:  # a worker process that dies at once (no main module to start from, ...)
        def __init__(self, *args, **kwargs) -> None:
            pass

        def submit(self, *args, **kwargs):
            raise BrokenProcessPool("a process in the pool was terminated abruptly")

        def shutdown(self, **kwargs) -> None:
            pass

    out = made_up[0]
    monkeypatch.setattr(B, "cache_path", lambda _out: None)
    monkeypatch.setattr(B, "WORKER_BYTES", 1)
    monkeypatch.setattr(B, "ProcessPoolExecutor", Broken)
    builder = IndexBuilder(out, worker=True)
    while builder.read(700):
        pass
    index = builder.snapshot()
    assert index.complete and not builder.in_worker
    assert sorted(index.index) == sorted(open_index(out).index)  # every row, once


def test_a_torn_last_manifest_line_is_left_out_with_a_note(tmp_path):
    rows = made_up_export(tmp_path / "e", 20)
    with (tmp_path / "e" / "manifest.jsonl").open("a") as fh:
        fh.write('{"index": 99, "params": {"area')
    index = open_index(tmp_path / "e")
    assert len(index) == 20 and 99 not in index.index
    assert any("cut short" in n for n in index.notes)
    assert sorted(index.index) == sorted(r["index"] for r in rows)


def test_the_fields_take_labels_groups_and_help_from_the_parameter_table(made_up):
    index = open_index(made_up[0])
    by_key = {f.key: f for f in index.fields}
    for knob in KNOBS:
        field = by_key.get(knob.params or "")
        if field is not None and knob.label:
            assert (field.group, field.tip) == (knob.group.title, knob.tip)
            assert field.label == F.outcome_label(knob)
    assert by_key["flip"].label == "Flip" and by_key["flip"].kind == "choice"
    assert by_key["center_rel.0"].label == "Centre x"
    assert by_key["coverage"].group == F.STATS_GROUP and by_key["coverage"].kind == "number"
    assert by_key["occluder_bbox.2"].label == "Occluder bbox [2]"
    assert by_key["shape.points"].label == "Points"  # a list of points: how many
    assert by_key["attempts"].decimals == 0
    varying = {f.key for f in index.varying()}
    assert {"area_ratio", "color.method", "coverage", "outcome", "failure"} <= varying
    assert "color.steps" not in varying  # the same in every row


# ---- filters and sort against NumPy on the manifest ----------------------------------------------
@pytest.mark.parametrize("trial", range(6))
def test_filters_and_sort_match_numpy_on_the_manifest(made_up, trial):
    out, rows = made_up
    index = open_index(out)
    rng = np.random.default_rng(trial)
    written = rows  # in the manifest's order (the failed samples come after them)
    keep = np.ones(len(written), bool)
    filters = []
    for key in rng.choice(
        ["area_ratio", "coverage", "rotation", "augment.jpeg_quality"], 2, replace=False
    ):
        values = numbers(written, key)
        low, high = np.sort(rng.uniform(np.nanmin(values), np.nanmax(values), 2))
        filters.append(Filter(str(key), low=low, high=high))
        with np.errstate(invalid="ignore"):
            keep &= (values >= low) & (values <= high)
    methods = set(rng.choice(["sot", "reinhard", "lighting", "none"], 2, replace=False))
    labels = index.labels["color.method"]
    filters.append(Filter("color.method", codes=frozenset(labels.index(m) for m in methods)))
    keep &= np.isin(np.array(manifest_column(written, "color.method")), list(methods))
    sort = ["coverage", "rotation", "augment.jpeg_quality", "occluder_id"][trial % 4]
    descending = bool(trial % 2)
    got = select(index, filters, sort, descending)
    # NumPy on the rows read from the file: the failed samples have no values (outside)
    chosen = np.flatnonzero(keep)
    if sort == "occluder_id":  # by label; ties in the recorded order either way
        key_values = np.array(manifest_column(written, sort))[chosen]
        order = sorted(range(len(chosen)), key=lambda i: key_values[i], reverse=descending)
    else:
        key_values = numbers(written, sort)[chosen]
        missing = np.isnan(key_values)
        signed = np.where(missing, 0.0, -key_values if descending else key_values)
        order = list(np.lexsort((signed, missing)))
    expected = [written[chosen[i]]["index"] for i in order]
    assert [int(index.index[p]) for p in got] == expected
    assert len(got) == keep.sum() > 0
    by_index = select(index, filters, None, descending)  # no field: by sample index
    assert [int(index.index[p]) for p in by_index] == sorted(expected, reverse=descending)


def test_choices_of_the_review_filter_like_the_index(made_up):
    out, _ = made_up
    index = open_index(out)
    codes = np.zeros(len(index), np.int32)
    codes[:10] = 1
    extra = {F.DECISION: Column(codes, ["undecided", "rejected"])}
    kept = select(index, [Filter(F.DECISION, codes=frozenset({1}))], extra=extra)
    assert sorted(kept) == list(range(10))
    assert list(index.index[kept]) == sorted(index.index[:10])  # by sample index
    by_label = select(index, sort=F.DECISION, extra=extra)  # "rejected" before "undecided"
    assert list(by_label[:10]) == list(range(10)) and list(by_label[10:]) == list(
        range(10, len(index))
    )


# ---- review.jsonl -------------------------------------------------------------------------------
def test_decisions_are_appended_and_the_latest_holds(tmp_path):
    D.record(tmp_path, [(3, "reject"), (4, "flag"), (5, "reject")])
    D.record(tmp_path, [(5, "clear"), (4, "reject")])
    verdicts = D.read_decisions(tmp_path)
    assert verdicts.by_index == {3: "reject", 4: "reject"}
    assert verdicts.rejected == {3, 4} and verdicts.counts()["reject"] == 2
    lines = (tmp_path / D.REVIEW).read_text().splitlines()
    assert len(lines) == 5 and all(json.loads(x)["time"].endswith("Z") for x in lines)
    with pytest.raises(Exception, match="decision is one of"):
        D.record(tmp_path, [(1, "delete")])
    assert len((tmp_path / D.REVIEW).read_text().splitlines()) == 5  # nothing written


def test_a_torn_last_review_line_is_recovered(tmp_path):
    D.record(tmp_path, [(1, "reject"), (2, "flag")])
    with (tmp_path / D.REVIEW).open("ab") as fh:  # a crash in the middle of a write
        fh.write(b'{"decision": "reject", "ind')
    verdicts = D.read_decisions(tmp_path)
    assert verdicts.by_index == {1: "reject", 2: "flag"}
    assert any("cut short" in n for n in verdicts.notes)
    D.record(tmp_path, [(7, "reject")])  # the next decision starts on a line of its own
    again = D.read_decisions(tmp_path)
    assert again.by_index == {1: "reject", 2: "flag", 7: "reject"} and not again.notes
    assert (tmp_path / D.REVIEW).read_bytes().endswith(b"\n")


# ---- the editor's setup of a sample -------------------------------------------------------------
@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("review-real")
    shadow = "harmonize:\n  enabled: true\n  shadow:\n    probability: 1.0\n"
    return {
        "natocc": real_export(root, "natocc", shadow),
        "randocc": real_export(root, "randocc", mode="randocc"),
    }


@pytest.mark.parametrize("mode", ["natocc", "randocc"])
def test_the_setup_of_a_sample_renders_the_exported_pixels(exports, mode):
    from studio.core.engine.render import render
    from studio.core.export.review.editor import sample_setup
    from studio.core.io.imageio import read_image, read_mask
    from studio.core.sources import open_ref

    out = exports[mode]
    index = open_index(out)
    for position in range(len(index)):
        row = index.row(position)
        setup = sample_setup(out, row)
        face = open_ref(setup.refs["faces"]).load(setup.face_id)
        item = None
        if setup.item_id is not None:
            item = open_ref(setup.refs[setup.item_role]).load(setup.item_id)
        result = render(face, item, setup.params, backend=setup.backend)
        files = row["files"]
        assert np.array_equal(result.image, read_image(out / files["image"]))
        occluded = read_mask(out / files["occlusion_mask"])
        assert np.array_equal(result.occlusion_mask > 0, occluded)
        assert setup.preset.mode == mode


def test_views_of_a_sample(exports):
    from studio.core.export.review.overlays import read_sample, render_view, views_of

    out = exports["natocc"]
    row = open_index(out).row(0)
    assert views_of(row) == ("image", "face", "occlusion", "shadow")
    arrays = read_sample(ExportFolder(out), row)
    image = arrays.image
    occluded = render_view(arrays, "occlusion")
    assert not np.array_equal(occluded[arrays.occlusion], image[arrays.occlusion])
    shadow = render_view(arrays, "shadow")
    changed = (shadow != image).any(axis=2)
    assert changed.any() and not (changed & arrays.occlusion).any()  # beside the occluder only
    small = read_sample(ExportFolder(out), row, side=32)
    assert max(small.image.shape[:2]) <= 32 and small.occlusion.shape == small.image.shape[:2]


# ---- the commands that read the decisions -------------------------------------------------------
def studio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_review_command_lists_and_takes_decisions(exports, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(exports["natocc"], out)
    taken = studio("review", str(out), "--reject", "2", "5", "--flag", "3")
    assert taken.returncode == 0, taken.stderr
    listed = studio("review", str(out), "--list", "rejected")
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["2", "rejected"], ["5", "rejected"]]
    assert (
        lines[0].split("\t")[2]
        == json.loads((out / "manifest.jsonl").read_text().splitlines()[2])["stem"]
    )
    both = json.loads(studio("review", str(out), "--list", "reviewed", "--json").stdout)
    assert [r["index"] for r in both] == [2, 3, 5]
    wrong = studio("review", str(out), "--reject", "999")
    assert wrong.returncode == 2 and "no sample 999" in wrong.stderr
    assert studio("review", str(tmp_path)).returncode == 2
    assert studio("verify", str(out)).returncode == 0  # review.jsonl is not a sample file
    sheet = studio("sheet", str(out), "--count", "4")
    assert "2 rejected, 1 flagged" in sheet.stdout


def test_report_counts_the_decisions(exports, tmp_path):
    pytest.importorskip("matplotlib")
    import shutil

    from studio.report import write_report

    out = tmp_path / "copy"
    shutil.copytree(exports["natocc"], out)
    D.record(out, [(1, "reject"), (2, "reject"), (3, "flag")])
    report = write_report(out, 1)
    summary = json.loads(report.summary.read_text())
    assert summary["review"] == {"rejected": 2, "flagged": 1}
    assert 'data-fact="rejected" data-value="2"' in report.html.read_text()


def test_rejected_samples_are_left_out_of_training_and_evaluation(exports, tmp_path):
    pytest.importorskip("torch")
    import shutil

    from studio.integrations.train.data import Target, open_sets, open_test_set
    from studio.integrations.train.loop import TrainConfig, train

    out = tmp_path / "copy"
    shutil.copytree(exports["natocc"], out)
    everything = open_sets([out], Target.of("face"))[0].ids()
    D.record(out, [(1, "reject"), (4, "reject"), (2, "flag")])
    rows = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    gone = {Path(r["files"]["image"]).name for r in rows if r["index"] in (1, 4)}
    kept = open_sets([out], Target.of("face"))[0]
    assert set(kept.ids()) == set(everything) - gone and kept.left_out == 2
    assert set(open_sets([out], Target.of("face"), include_rejected=True)[0].ids()) == set(
        everything
    )
    assert set(open_test_set(out, Target.of("face")).ids()) == set(everything) - gone
    config = TrainConfig(
        [str(out)], str(tmp_path / "run"), steps=1, size=64, width=8, batch=2, threads=1
    )
    train(config)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["sources"][0]
    assert recorded["images"] == len(everything) - 2 and recorded["rejected_left_out"] == 2
