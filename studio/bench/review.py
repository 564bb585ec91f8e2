"""`studio bench --suite gui`: the Review window on large exports.

Exports are made quickly: a real export of :data:`BASE_SAMPLES` samples (procedural faces and
hands, the shipped ``natocc-hands`` preset with occlusion masks, 256 px) is made once; an
export of any size is then its rows repeated with new sample indices and file names, every
sample's files hard links to the base sample's (the same bytes under every name).

On each, ``python -m studio.bench.gui_review`` runs twice in a subprocess (offscreen Qt): with
empty caches, then again (the index from the cache). The rows: time to the first thumbnails
and to every thumbnail in view, the longest UI-thread block while opening and while scrolling
(beside the longest block of the same window idle, measured first: on a shared machine the
load alone blocks the event loop), the manifest read, the second opening, and memory beyond
the rows' index (the same at every size is the target).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from studio.bench.common import BenchRow
from studio.core.export import InProcessEngine, make_plan, run_export
from studio.core.export.records import MANIFEST
from studio.core.io.paths import shipped_presets
from studio.core.io.presets import load_preset
from studio.core.sources import refs_from_preset
from studio.core.sources.synthetic import write_face_folder, write_occluder_folder

BASE_SAMPLES = 32
SIDE = 256


def base_export(root: Path) -> Path:
    """``root/base``: a real export of :data:`BASE_SAMPLES` samples (made once per root)."""
    out = root / "base"
    if (out / MANIFEST).is_file():
        return out
    write_face_folder(root / "faces", 8, SIDE)
    write_occluder_folder(root / "occluders", 4, SIDE // 2)
    preset = load_preset(shipped_presets()["natocc-hands"])
    output = preset.output.model_copy(update={"occlusion_mask": True})
    preset = preset.model_copy(update={"output": output})
    overrides = {"faces": root / "faces", "occluders": root / "occluders"}
    refs = refs_from_preset(preset.sources, root, overrides)
    run_export(make_plan(preset, refs, out, count=BASE_SAMPLES, seed=1), InProcessEngine())
    return out


def grown_export(root: Path, count: int) -> Path:
    """``root/export<count>``: ``count`` samples, the base export's rows and files repeated
    (new indices, stems and file names; the files are hard links)."""
    base = base_export(root)
    out = root / f"export{count}"
    rows = [json.loads(line) for line in (base / MANIFEST).read_text().splitlines() if line]
    rows.sort(key=lambda r: r["index"])
    folders = {rel.split("/")[0] for r in rows for rel in r["files"].values()}
    for folder in folders:
        (out / folder).mkdir(parents=True, exist_ok=True)
    job = json.loads((base / "job.json").read_text())
    (out / "job.json").write_text(json.dumps({**job, "count": count}, indent=2, sort_keys=True))
    with (out / MANIFEST).open("w", encoding="utf-8") as fh:
        for i in range(count):
            row = dict(rows[i % len(rows)])
            stem = f"{i:07d}_{row['stem'].split('_', 1)[1]}"
            files = {}
            for key, rel in row["files"].items():
                folder, name = rel.split("/")
                files[key] = f"{folder}/{stem}{Path(name).suffix}"
                os.link(base / rel, out / files[key])
            row.update(index=i, stem=stem, files=files)
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    return out


SUITE = "gui"
OPEN_TARGET_S = 1.0
BLOCK_TARGET_MS = 50.0
REOPEN_TARGET_S = 1.0
#: memory beyond the index may differ this much between the smallest and largest export
MEMORY_SLACK_MIB = 32.0


def review_rows(quick: bool, run_json: Callable[[list[str], dict, str], dict]) -> list[BenchRow]:
    """The review rows of the suite (``run_json`` runs a driver and returns its JSON)."""
    sizes = (5_000, 20_000) if quick else (5_000, 100_000)
    scroll = "5" if quick else "10"
    rows: list[BenchRow] = []
    beyond: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="studio-review-") as tmp:
        for count in sizes:
            out = grown_export(Path(tmp), count)
            env = dict(
                os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CACHE_DIR=f"{tmp}/cache{count}"
            )
            cmd = [sys.executable, "-m", "studio.bench.gui_review", str(out), "--scroll", scroll]
            first = run_json(cmd, env, "review run")
            again = run_json(cmd, env, "review run (cached index)")
            rows.extend(_rows_of(first, again, count))
            beyond[count] = first["rss_open_mib"] - first["rss_before_mib"] - first["index_mib"]
    small, big = min(beyond), max(beyond)
    spread = beyond[big] - beyond[small]
    rows.append(
        BenchRow(SUITE, "review_memory_beyond_index_spread", spread, "MiB",
                 f"< {MEMORY_SLACK_MIB:g}", spread < MEMORY_SLACK_MIB,
                 f"RSS growth minus the index's arrays: {beyond[small]:.1f} MiB at {small:,} "
                 f"samples, {beyond[big]:.1f} MiB at {big:,} (thumbnails bounded, rows read "
                 "back when shown)")
    )  # fmt: skip
    return rows


def _rows_of(m: dict, again: dict, count: int) -> list[BenchRow]:
    k = f"{count // 1000}k"
    load = f"load {m['load_before']:.1f} -> {m['load_after']:.1f} on {os.cpu_count()} cores"
    note = f"{count:,} samples, {m['rows_in_view']} tiles in view, occlusion overlay, {load}"
    idle = m["ui_block_ms_max_idle"]
    first, shown = m["open_to_first_thumb_s"], m["open_to_thumbs_s"]
    opened, scrolled = m["ui_block_ms_max_open"], m["ui_block_ms_max_scroll"]
    growth = m["rss_open_mib"] - m["rss_before_mib"]
    return [
        BenchRow(SUITE, f"review_open_to_first_thumb_{k}", first, "s", f"< {OPEN_TARGET_S:g}",
                 first is not None and first < OPEN_TARGET_S, note),
        BenchRow(SUITE, f"review_open_to_thumbs_in_view_{k}", shown, "s",
                 f"< {OPEN_TARGET_S:g}", shown is not None and shown < OPEN_TARGET_S,
                 f"{note}; empty thumbnail cache"),
        BenchRow(SUITE, f"review_ui_block_open_{k}", opened, "ms", f"< {BLOCK_TARGET_MS:g}",
                 opened is not None and opened < BLOCK_TARGET_MS,
                 f"{note}; the same window idle: {idle or 0:.1f} ms"),
        BenchRow(SUITE, f"review_ui_block_scroll_{k}", scrolled, "ms", f"< {BLOCK_TARGET_MS:g}",
                 scrolled is not None and scrolled < BLOCK_TARGET_MS,
                 f"{note}; {m['scroll_s']:g} s of page steps and far jumps, "
                 f"{m['thumbs_made_scrolling']} thumbnails made"
                 + (", while the manifest was read" if m["index_read_while_scrolling"] else "")
                 + f"; the same window idle: {idle or 0:.1f} ms"),
        BenchRow(SUITE, f"review_manifest_read_{k}", m["open_to_index_s"], "s",
                 note=f"{count:,} rows in a worker process; the grid shows the first at once"),
        BenchRow(SUITE, f"review_reopen_index_{k}", again["open_to_index_s"], "s",
                 f"< {REOPEN_TARGET_S:g}", again["open_to_index_s"] < REOPEN_TARGET_S,
                 f"second opening: the index from the cache; thumbnails in view after "
                 f"{again['open_to_thumbs_s'] or 0:.2f} s"),
        BenchRow(SUITE, f"review_rss_growth_{k}", growth, "MiB",
                 note=f"the index's arrays {m['index_mib']:.1f} MiB; peak "
                 f"{m['rss_peak_mib'] - m['rss_before_mib']:.1f} MiB"),
    ]  # fmt: skip
