"""`studio bench` suite "gui": the studio's responsiveness.

- Drag-to-frame latency and event-loop blocking: ``python -m studio.bench.gui_latency`` in a
  subprocess (offscreen Qt), once idle and once while a real `studio export` of the demo
  preset runs (every core, at the studio's lower priority).
- Dragging the colour strength slider: ``python -m studio.bench.gui_latency --strength``, the
  median frame time after the first (SOT at a 512 px preview; the transport is reused).
- Browsers at data-set scale: ``python -m studio.bench.gui_browse`` on generated face folders
  of 5,000 and 30,000 items (images/ + masks/; one real 256 px JPEG and its mask written under
  every name, once per run), with an empty thumbnail cache: open to the first visible
  thumbnails, the longest UI-thread block, thumbnails decoded in the first 10 s, memory, the
  drag-to-frame latency while the browser fills, and a second opening (cache).
- The Review window on generated exports of 5,000 and 100,000 samples
  (:mod:`studio.bench.review`, driver ``python -m studio.bench.gui_review``): time to the
  first thumbnails in view, the longest UI-thread block while opening and scrolling (beside
  the same window idle), the manifest read, a second opening (cached index), memory beyond the
  rows' index.

Skipped with a note when PySide6 is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from studio.bench.common import BenchRow
from studio.bench.review import review_rows
from studio.core.io.writers import encode_image

SUITE = "gui"
LATENCY_TARGET_MS = 30.0
STRENGTH_FRAME_TARGET_MS = 3.0
BLOCK_TARGET_MS = 50.0
OPEN_TARGET_S = 1.0
FACE_SIDE = 256


def _run_json(cmd: list[str], env: dict[str, str], what: str) -> dict:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{what} failed: {tail}")
    return json.loads(lines[-1])


def _measure(steps: int, load: bool) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # 1024 px faces: previews at the 512 px cap, like real photos
    cmd = [sys.executable, "-m", "studio.bench.gui_latency", "--steps", str(steps),
           "--face-size", "1024"]  # fmt: skip
    return _run_json([*cmd, "--load"] if load else cmd, env, "latency run")


def strength_rows() -> list[BenchRow]:
    """Dragging the colour strength slider (SOT) at a 512 px preview: the colour transport is
    made by the first frame and reused by every other (only the strength is applied again)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "studio.bench.gui_latency", "--strength", "--face-size", "1024"]
    m = _run_json(cmd, env, "strength drag")
    median, first = m["frame_ms_median_after_first"], m["first_frame_ms"]
    side = m["preview_size"][0]
    note = (
        f"{m['steps']} values of the slider at 60 Hz, SOT, no harmonisation, preview {side} px; "
        f"first frame (makes the transport) {first or 0:.1f} ms, "
        f"slowest after it {m['frame_ms_max_after_first'] or 0:.1f} ms"
    )
    return [
        BenchRow(SUITE, "strength_drag_frame_median", median, "ms",
                 f"<= {STRENGTH_FRAME_TARGET_MS:g}",
                 median is not None and median <= STRENGTH_FRAME_TARGET_MS, note),
    ]  # fmt: skip


def face_files() -> tuple[bytes, bytes]:
    """One real face photo (the bundled astronaut, else a synthetic face) at 256 px as JPEG,
    and its mask as PNG."""
    from studio.core.io.paths import samples
    from studio.core.sources import open_source
    from studio.core.sources.synthetic import synthetic_face

    try:
        source = open_source(samples().faces.parent, "faces")
        face = source.load(source.ids()[0])
    except Exception:  # no bundled samples: any decodable face will do
        face = synthetic_face(FACE_SIDE, seed=1)
    image = cv2.resize(face.image, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(face.mask.astype(np.uint8) * 255, (FACE_SIDE, FACE_SIDE))
    return encode_image(image, "jpg", 90), encode_image(mask, "png")


def write_face_folder(root: Path, count: int, jpeg: bytes, mask: bytes) -> Path:
    """``root/images`` + ``root/masks`` with ``count`` faces; returns the images folder."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(count):
        (root / "images" / f"{i:06d}.jpg").write_bytes(jpeg)
        (root / "masks" / f"{i:06d}.png").write_bytes(mask)
    return root / "images"


def browse_rows(quick: bool) -> list[BenchRow]:
    sizes = (5_000,) if quick else (5_000, 30_000)
    watch, steps = (5, 60) if quick else (10, 200)
    jpeg, mask = face_files()
    rows: list[BenchRow] = []
    growth: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="studio-browse-") as tmp:
        for count in sizes:
            images = write_face_folder(Path(tmp) / f"faces{count}", count, jpeg, mask)
            env = dict(
                os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CACHE_DIR=f"{tmp}/cache{count}"
            )
            cmd = [sys.executable, "-m", "studio.bench.gui_browse", str(images)]
            m = _run_json([*cmd, "--watch", str(watch), "--steps", str(steps)], env, "browse run")
            rows.extend(_rows_of(m, count, watch))
            growth[count] = m["rss_open_mib"] - m["rss_before_mib"]
    if len(growth) == 2:
        small, big = sorted(growth)
        per_k = (growth[big] - growth[small]) / ((big - small) / 1000)
        rows.append(
            BenchRow(SUITE, "browse_memory_per_1000_items", per_k, "MiB",
                     note=f"RSS growth on opening {small:,} vs {big:,} faces "
                     f"({growth[small]:.1f} / {growth[big]:.1f} MiB): the names; "
                     "decoded images and thumbnails are bounded")
        )  # fmt: skip
    return rows


def _rows_of(m: dict, count: int, watch: float) -> list[BenchRow]:
    k = f"{count // 1000}k"
    opened, block = m["open_to_thumbs_s"], m["ui_block_ms_max"]
    drag = m["drag"]
    median = drag["latency_ms_median"]
    note = f"{count:,} faces, {m['rows_in_view']} rows in view, empty thumbnail cache"
    return [
        BenchRow(SUITE, f"browse_open_to_list_{k}", m["open_to_list_s"], "s", note=note),
        BenchRow(SUITE, f"browse_open_to_thumbs_{k}", opened, "s", f"< {OPEN_TARGET_S:g}",
                 opened is not None and opened < OPEN_TARGET_S, note),
        BenchRow(SUITE, f"browse_ui_block_max_{k}", block, "ms", f"< {BLOCK_TARGET_MS:g}",
                 block is not None and block < BLOCK_TARGET_MS, f"{note}, first {watch:g} s"),
        BenchRow(SUITE, f"browse_thumbs_decoded_{k}", m["thumbs_decoded"], "thumbnails",
                 "about a screenful", m["thumbs_decoded"] <= 4 * max(1, m["rows_in_view"]),
                 f"in the first {watch:g} s after the open"),
        BenchRow(SUITE, f"browse_rss_growth_{k}", m["rss_open_mib"] - m["rss_before_mib"],
                 "MiB", note=f"peak {m['rss_peak_mib'] - m['rss_before_mib']:.1f} MiB over "
                 "the run (thumbnails in memory are bounded by 24 MiB)"),
        BenchRow(SUITE, f"browse_reopen_to_thumbs_{k}", m["reopen_to_thumbs_s"], "s",
                 note=f"second opening: {m['reopen_hits']} thumbnails from the cache, "
                 f"{m['reopen_decoded']} decoded"),
        BenchRow(SUITE, f"drag_to_frame_median_while_filling_{k}", median, "ms",
                 f"< {LATENCY_TARGET_MS:g}", median is not None and median < LATENCY_TARGET_MS,
                 f"{drag['steps']} drag steps while the browser scrolls a page of new rows "
                 f"every 100 ms ({drag['thumbs_made_meanwhile']} thumbnails made meanwhile; "
                 f"p95 {drag['latency_ms_p95'] or 0:.1f} ms, longest block "
                 f"{drag['event_loop_block_ms_max'] or 0:.1f} ms)"),
    ]  # fmt: skip


def run(quick: bool, backend: str) -> list[BenchRow]:
    if importlib.util.find_spec("PySide6") is None:
        return [BenchRow(SUITE, "skipped", 0.0, "", note="PySide6 is not installed (gui extra)")]
    steps = 60 if quick else 200
    rows: list[BenchRow] = []
    for load, suffix in ((False, ""), (True, "_during_export")):
        m = _measure(steps, load)
        note = (
            f"{steps} drag steps at 60 Hz, preview {m['preview_size'][0]}x{m['preview_size'][1]}"
            + (", while a real studio export runs" if load else "")
        )
        median, block = m["latency_ms_median"], m["event_loop_block_ms_max"]
        rows.append(
            BenchRow(SUITE, f"drag_to_frame_median{suffix}", median, "ms",
                     f"< {LATENCY_TARGET_MS:g}", median < LATENCY_TARGET_MS, note)
        )  # fmt: skip
        if m["latency_ms_p95"] is not None:
            rows.append(BenchRow(SUITE, f"drag_to_frame_p95{suffix}", m["latency_ms_p95"], "ms"))
        rows.append(
            BenchRow(SUITE, f"event_loop_block_max{suffix}", block, "ms",
                     f"< {BLOCK_TARGET_MS:g}", block < BLOCK_TARGET_MS, note)
        )  # fmt: skip
    rows.extend(strength_rows())
    rows.extend(browse_rows(quick))
    rows.extend(review_rows(quick, _run_json))
    return rows
