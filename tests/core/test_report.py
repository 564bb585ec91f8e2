"""`studio report`: the numbers in the report equal the manifest's; bad input; streaming."""

from __future__ import annotations

import json
import math
import random
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import cv2
import numpy as np
import pytest
from export_helpers import failure_rows, make_inputs, manifest_rows, plan_for, write_preset

from studio.cli import main
from studio.core.export import InProcessEngine, run_export
from studio.report import collect, write_report
from studio.report.collect import leaves, pick_samples
from studio.report.plots import build_plots

pytest.importorskip("matplotlib", reason="the report needs matplotlib (the report extra)")

VARIED = (
    "rotation:\n  angle: {min: -40.0, max: 40.0}\n"
    "blend:\n  opacity_probability: 0.5\n"
    "flip:\n  probability: 0.5\n"
)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-sample export with unusable inputs and failed samples, and its report."""
    root = make_inputs(tmp_path_factory.mktemp("inputs"), faces=5, occluders=3)
    (root / "faces" / "broken.jpg").write_bytes(b"not a jpeg")
    (root / "face_masks" / "broken.png").write_bytes(b"")
    # listed fine, but its mask does not match the photo: each of its samples fails
    cv2.imwrite(str(root / "faces" / "small.jpg"), np.full((64, 64, 3), 90, np.uint8))
    cv2.imwrite(str(root / "face_masks" / "small.png"), np.full((32, 32), 255, np.uint8))
    preset_path = write_preset(root / "p.yaml", VARIED)
    out = tmp_path_factory.mktemp("export") / "out"
    plan = plan_for(preset_path, out, count=30, seed=3)
    run_export(plan, InProcessEngine())
    write_report(out, samples_per_bin=3)
    return out


def _summary(out: Path) -> dict:
    return json.loads((out / "report" / "summary.json").read_text())


def _flat(params: dict) -> dict:
    """The manifest's numeric leaves, flattened independently of the report's code."""
    out = {}

    def walk(d, prefix):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            elif isinstance(v, int | float) and not isinstance(v, bool):
                out[prefix + k] = v

    walk(params, "")
    return out


def test_the_export_has_what_the_report_must_show(export: Path) -> None:
    rows, failures = manifest_rows(export), failure_rows(export)
    assert len(rows) >= 20
    assert any(f["index"] is None for f in failures)  # unusable inputs
    assert any(f["index"] is not None for f in failures)  # failed samples


def test_summary_numbers_equal_the_manifest(export: Path) -> None:
    rows, summary = manifest_rows(export), _summary(export)
    cov = np.array([r["coverage"] for r in rows])
    assert summary["samples"] == len(rows)
    s = summary["coverage"]
    assert (s["min"], s["max"]) == (cov.min(), cov.max())
    assert s["mean"] == pytest.approx(cov.mean(), rel=1e-12)
    assert s["median"] == pytest.approx(float(np.median(cov)), rel=1e-12)
    assert s["histogram"]["counts"] == np.histogram(cov, s["histogram"]["edges"])[0].tolist()
    flat = [_flat(r["params"]) for r in rows]
    shown = summary["params"]
    for key in ("area_ratio", "rotation", "blend.opacity", "augment.contrast"):
        values = np.array([f[key] for f in flat])
        assert values.min() < values.max(), key  # the preset makes these vary
        h = shown[key]["histogram"]
        assert h["counts"] == np.histogram(values, h["edges"])[0].tolist(), key
        assert (shown[key]["min"], shown[key]["max"]) == (values.min(), values.max())
        assert shown[key]["mean"] == pytest.approx(values.mean(), rel=1e-5)
    # categories: flip and the occluders, faces
    assert summary["categories"]["flip"] == dict(
        Counter("true" if r["params"]["flip"] else "false" for r in rows)
    )
    uses = Counter(r["occluder_id"] for r in rows)
    top = summary["occluders"]["top"]
    assert {t["id"]: t["uses"] for t in top} == dict(uses)
    for t in top:
        mine = [r["coverage"] for r in rows if r["occluder_id"] == t["id"]]
        assert t["mean_coverage"] == pytest.approx(np.mean(mine), rel=1e-5)
    assert summary["faces"]["distinct"] == len({r["face_id"] for r in rows})
    # the centre heat map counts every sample once, in the right cell
    center = summary["center"]
    xy = np.array([r["params"]["center_rel"] for r in rows])
    expected = np.histogram2d(xy[:, 1], xy[:, 0], [center["y_edges"], center["x_edges"]])[0]
    assert np.array_equal(np.array(center["counts"]), expected)


def test_failures_are_grouped_by_reason_with_their_files(export: Path) -> None:
    failures, summary = failure_rows(export), _summary(export)
    by_reason = Counter(f["reason"] for f in failures)
    groups = summary["failures"]["reasons"]
    assert {g["reason"]: g["count"] for g in groups} == dict(by_reason)
    for g in groups:
        assert sorted(f["path"] for f in g["files"]) == sorted(
            f["path"] for f in failures if f["reason"] == g["reason"]
        )
    assert summary["failures"]["samples"] == sum(f["index"] is not None for f in failures)


def test_job_and_run_facts_come_from_job_and_stats(export: Path) -> None:
    summary = _summary(export)
    job = json.loads((export / "job.json").read_text())
    stats = json.loads((export / "stats.json").read_text())
    assert summary["job"]["seed"] == job["seed"] == 3
    assert summary["job"]["preset"] == "test" and summary["job"]["version"] == job["version"]
    assert summary["run"]["images_per_s"] == stats["last_session"]["images_per_s"]
    assert summary["run"]["workers"] == stats["last_session"]["workers"] == 1
    assert summary["run"]["engine"] == stats["last_session"]["engine"] == "local"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def _page(export: Path) -> _Page:
    page = _Page()
    page.feed((export / "report.html").read_text(encoding="utf-8"))
    return page


def test_html_shows_the_manifest_numbers(export: Path) -> None:
    rows, failures = manifest_rows(export), failure_rows(export)
    page = _page(export)
    facts = {a["data-fact"]: a["data-value"] for t, a in page.tags if "data-fact" in a}
    assert int(facts["samples"]) == len(rows)
    assert int(facts["failed_samples"]) == sum(f["index"] is not None for f in failures)
    assert int(facts["failed_inputs"]) == sum(f["index"] is None for f in failures)
    assert int(facts["faces"]) == len({r["face_id"] for r in rows})
    assert int(facts["occluders"]) == len({r["occluder_id"] for r in rows})
    assert float(facts["coverage_mean"]) == pytest.approx(np.mean([r["coverage"] for r in rows]))
    assert facts["seed"] == "3" and facts["preset"] == "test"
    uses = Counter(r["occluder_id"] for r in rows)
    table = {a["data-id"]: int(a["data-uses"]) for t, a in page.tags if "data-uses" in a}
    assert {k: table[k] for k in uses} == dict(uses)
    counts = [int(a["data-count"]) for t, a in page.tags if "data-count" in a]
    assert sorted(counts) == sorted(Counter(f["reason"] for f in failures).values())
    html = (export / "report.html").read_text()
    named = ("Face coverage", "Occluder scale", "Rotation", "Occluder centre", "Opacity")
    for title in (*named, "Colour transfer"):
        assert title in html
    summary = _summary(export)
    assert html.count("<svg") == len(summary["plots"]) >= 10
    assert "Rotation (degrees)" in summary["plots"] and "Opacity" in summary["plots"]
    # the colour transfer is the same in every sample: one tile with its value, not a plot
    assert summary["constants"]["Colour transfer: method"] == "sot"
    constant = [a for t, a in page.tags if a.get("id") == "p-color-method"]
    assert constant and constant[0]["data-constant"] == "sot"


def test_html_is_self_contained_and_links_are_relative(export: Path) -> None:
    page = _page(export)
    html = (export / "report.html").read_text()
    assert "<script" not in html and re.findall(r"url\((?!#)", html) == []
    # every reference, in HTML and inline SVG alike, is a relative path or a local anchor
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert len(refs) > 10
    refs = [r for r in refs if not r.startswith(("#", "data:image/png;base64,"))]
    for ref in refs:
        assert not ref.startswith(("/", "file:", "http")), ref
        assert (export / unquote(ref)).is_file(), ref
    # the same page works after the folder moves: nothing names the old location but the title
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert all(src.startswith("report/thumbs/") for src in images)


def test_thumbnails_show_lowest_median_highest_coverage(export: Path) -> None:
    rows = sorted(manifest_rows(export), key=lambda r: (r["coverage"], r["index"]))
    shown = _summary(export)["shown_samples"]
    stems = [r["stem"] for r in rows]
    assert shown["lowest"] == stems[:3]
    assert shown["highest"] == stems[::-1][:3]
    mid = len(rows) // 2
    assert shown["median"] == stems[mid - 1 : mid + 2]
    thumbs = sorted(p.name for p in (export / "report" / "thumbs").iterdir())
    assert len(thumbs) == 2 * 9  # image and labels of each shown sample, nothing else
    labels = cv2.imread(str(export / "report" / "thumbs" / thumbs[0]))
    assert labels is not None and max(labels.shape[:2]) <= 184


def test_only_the_shown_samples_are_decoded(export: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    import studio.core.export.sheet as sheet

    copy = tmp_path / "copy"
    shutil.copytree(export, copy)
    calls = []
    real = sheet.decode_image
    monkeypatch.setattr(sheet, "decode_image", lambda d, p, **kw: calls.append(p) or real(d, p))
    write_report(copy, samples_per_bin=2)
    assert len(calls) == 6  # of 30 samples: the 2 lowest, 2 median and 2 highest
    assert len(list((copy / "report" / "thumbs").iterdir())) == 12  # stale ones removed


def test_report_is_the_same_whatever_the_manifest_order(export: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    lines = (export / "manifest.jsonl").read_text().splitlines(keepends=True)
    random.Random(1).shuffle(lines)
    (copy / "manifest.jsonl").write_text("".join(lines))
    for name in ("failures.jsonl", "job.json", "stats.json"):
        (copy / name).write_bytes((export / name).read_bytes())
    a, b = collect(export).to_json(), collect(copy).to_json()
    a.pop("out"), b.pop("out")
    assert a == b


def _row(index: int, rng: random.Random, **params) -> dict:
    return {
        "index": index,
        "stem": f"{index:07d}_f",
        "coverage": rng.uniform(0.05, 0.6),
        "face_id": f"f{index % 7}.jpg",
        "occluder_id": f"o{index % 5}.png",
        "files": {"image": f"images/{index:07d}_f.jpg", "mask": f"masks/{index:07d}_f.png"},
        "params": {"area_ratio": rng.uniform(0.3, 1), "center_rel": [0.5, 0.5], **params},
    }


def _write_manifest(out: Path, rows: list[dict], tail: str = "") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows) + tail
    (out / "manifest.jsonl").write_text(text)
    return out


def test_new_parameter_groups_appear_without_code_changes(tmp_path: Path) -> None:
    rng = random.Random(0)
    rows = [
        _row(
            i,
            rng,
            harmonize={"strength": rng.random(), "method": rng.choice("ab")},
            extra={"knob": i % 3},
        )
        for i in range(200)
    ]
    stats = collect(_write_manifest(tmp_path / "x", rows))
    summary = stats.to_json()
    values = np.array([r["params"]["harmonize"]["strength"] for r in rows])
    h = summary["params"]["harmonize.strength"]["histogram"]
    assert h["counts"] == np.histogram(values, h["edges"])[0].tolist()
    knob = summary["params"]["extra.knob"]["values"]
    assert knob == {"values": [0, 1, 2], "counts": [67, 67, 66]}
    assert set(summary["categories"]["harmonize.method"]) == {"a", "b"}
    titles = [p.title for p in build_plots(stats)]
    assert "Harmonisation: strength" in titles and "Harmonisation: method" in titles
    assert titles.index("Harmonisation: strength") < titles.index("extra.knob")


def test_seeds_drawn_per_sample_get_no_histogram(tmp_path: Path) -> None:
    rng = random.Random(0)
    rows = [
        _row(
            i,
            rng,
            harmonize={"noise": rng.random(), "noise_seed": rng.randrange(2**31 - 1)},
            color={"strength": rng.random(), "seed": rng.randrange(2**31 - 1)},
        )
        for i in range(50)
    ]
    summary = collect(_write_manifest(tmp_path / "x", rows)).to_json()
    assert "harmonize.noise" in summary["params"] and "color.strength" in summary["params"]
    assert "harmonize.noise_seed" not in summary["params"]
    assert "color.seed" not in summary["params"]


def test_leaves_flatten_nested_params() -> None:
    flat = dict(leaves({"a": {"b": 1, "c": [1.0, 2.0]}, "points": [[0, 0]] * 6, "s": None}))
    assert flat == {"a.b": 1, "a.c[0]": 1.0, "a.c[1]": 2.0, "len(points)": 6, "s": None}


def test_collect_streams_rows_without_holding_them(tmp_path: Path) -> None:
    import tracemalloc

    rng = random.Random(0)
    params = {f"g{k}": {f"v{j}": 0.0 for j in range(8)} for k in range(6)}
    rows = []
    for i in range(3000):
        p = {g: {v: rng.random() for v in d} for g, d in params.items()}
        rows.append(_row(i, rng, **p))
    out = _write_manifest(tmp_path / "big", rows)
    del rows
    tracemalloc.start()
    held = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    holding = tracemalloc.get_traced_memory()[1]
    del held
    tracemalloc.stop()
    tracemalloc.start()
    stats = collect(out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert stats.rows == 3000 and len(stats.numbers) >= 48
    assert peak < holding / 8, (peak, holding)


def test_a_torn_last_line_is_skipped_with_a_note(tmp_path: Path, capsys) -> None:
    rng = random.Random(0)
    out = _write_manifest(tmp_path / "t", [_row(i, rng) for i in range(5)], '{"index": 5, "st')
    assert main(["report", str(out), "--samples", "1"]) == 0
    err = capsys.readouterr().err
    assert "line 6 is cut short" in err
    summary = _summary(out)
    assert summary["samples"] == 5 and any("cut short" in n for n in summary["notes"])
    html = (out / "report.html").read_text()
    assert "cut short" in html
    # these rows name image files that do not exist: a note stands in for each thumbnail
    assert html.count('class="error"') == 3 and "images/0000" in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"index": 0}\n', "manifest.jsonl: line 1: missing key 'stem'"),
        ("not json\n", "manifest.jsonl: line 1 is not valid JSON"),
        ("[1, 2]\n", "manifest.jsonl: line 1 is not a JSON object"),
    ],
)
def test_bad_manifest_rows_are_one_line_exit_2(tmp_path: Path, capsys, content, message):
    rng = random.Random(0)
    out = _write_manifest(tmp_path / "bad", [_row(0, rng)])
    with open(out / "manifest.jsonl", "a") as fh:
        fh.write(content)
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("studio: error: ")
    assert message.replace("line 1", "line 2") in err[0] and str(out) in err[0]


def test_a_folder_without_manifest_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"studio: error: {tmp_path}: no manifest.jsonl: not an export folder"
    bad_failures = _write_manifest(tmp_path / "f", [_row(0, random.Random(0))])
    (bad_failures / "failures.jsonl").write_text('{"path": "x.jpg"}\n')
    assert main(["report", str(bad_failures)]) == 2
    assert "failures.jsonl: line 1: missing key 'reason'" in capsys.readouterr().err


def test_without_matplotlib_report_and_export_say_how_to_install(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    out = _write_manifest(tmp_path / "r", [_row(0, random.Random(0))])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'occlusion-studio[report]'" in err[0]
    assert not (out / "report.html").exists()
    root = make_inputs(tmp_path / "in", faces=1, occluders=1)
    preset = write_preset(root / "p.yaml")
    target = tmp_path / "never"
    assert main(["export", str(preset), "--out", str(target), "--report"]) == 2
    assert "pip install" in capsys.readouterr().err and not target.exists()


def test_export_with_report_writes_it_at_the_end(tmp_path: Path, capsys) -> None:
    root = make_inputs(tmp_path / "in", faces=2, occluders=2)
    preset = write_preset(root / "p.yaml")
    out = tmp_path / "out"
    args = ["export", str(preset), "--out", str(out), "--workers", "1", "--progress", "none"]
    assert main([*args, "--report"]) == 0
    assert f"wrote {out / 'report.html'}" in capsys.readouterr().out
    summary = _summary(out)
    assert summary["samples"] == len(manifest_rows(out)) == 2
    assert summary["run"]["finished"] and not summary["notes"]
    png = cv2.imread(str(out / "report.png"))
    assert png is not None and png.shape[1] >= 1000 and png.std() > 10


def test_pick_samples_splits_small_exports_in_thirds(tmp_path: Path) -> None:
    rng = random.Random(0)
    out = _write_manifest(tmp_path / "s", [_row(i, rng) for i in range(7)])
    picked = pick_samples(collect(out), per_bin=6)
    sizes = [len(picked[k]) for k in ("lowest", "median", "highest")]
    assert sizes == [3, 2, 2]
    low = [r["coverage"] for r in picked["lowest"]]
    high = [r["coverage"] for r in picked["highest"]]
    assert low == sorted(low) and high == sorted(high, reverse=True) and max(low) < min(high)
    assert not math.isnan(collect(out).coverage_median)
    assert re.fullmatch(r"\d{7}_f", picked["median"][0]["stem"])


def test_an_export_without_samples_still_gets_a_report(tmp_path: Path, capsys) -> None:
    out = _write_manifest(tmp_path / "none", [])
    failure = {"index": 0, "stem": "0000000_f", "path": "f.jpg", "reason": "no luck"}
    (out / "failures.jsonl").write_text(json.dumps(failure) + "\n")
    assert main(["report", str(out)]) == 0
    summary = _summary(out)
    assert summary["samples"] == 0 and summary["failures"]["samples"] == 1
    assert "no stats.json" in capsys.readouterr().err
    assert "no luck" in (out / "report.html").read_text()


def test_every_plot_draws_mixed_and_constant_parameters(tmp_path: Path) -> None:
    from studio.report.plots import plot_svg, sheet_png

    rng = random.Random(0)
    rows = [
        _row(
            i,
            rng,
            q=None if i % 3 else 90,  # one number or none
            r=None if i % 2 else rng.random(),  # numbers or none
            s=0.5,  # always the same
            flag=bool(i % 2),
            points=[[0, 0]] * (3 + i % 4),
        )
        for i in range(40)
    ]
    stats = collect(_write_manifest(tmp_path / "mixed", rows))
    plots = build_plots(stats)
    titles = [p.title for p in plots]
    assert {"q", "r", "flag", "points (count)"} <= set(titles)
    assert "s" not in titles and stats.fixed()["s"] == "0.5"
    for plot in plots:
        assert plot_svg(plot).startswith("<svg")
    assert sheet_png(plots, "mixed")[:8] == b"\x89PNG\r\n\x1a\n"
