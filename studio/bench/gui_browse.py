"""GUI-driven browser benchmark: open a big face folder in the running studio.

``python -m studio.bench.gui_browse FOLDER [--watch 10] [--steps 200]`` opens the main window
offscreen (fresh settings; the thumbnail cache is wherever ``STUDIO_CACHE_DIR`` points: the
bench gives it an empty folder), opens FOLDER in the faces browser as a user would, and prints
JSON:

- ``open_to_list_s`` / ``open_to_thumbs_s``: from the open to the ids listed, and to every
  thumbnail of the rows in view shown;
- ``ui_block_ms_max``: the longest event-loop block in the ``--watch`` seconds after the open
  (2 ms timer);
- ``thumbs_decoded``: thumbnails decoded in those seconds (not read from the cache);
- ``rss_before_mib``, ``rss_peak_mib`` (the process's high-water mark) and ``rss_after_mib``;
- ``drag``: drag-to-frame latency while the browser fills (it scrolls one page of rows not
  seen yet every 100 ms, so thumbnails are being made throughout), and thumbnails made then;
- ``reopen_to_thumbs_s`` with ``reopen_hits``/``reopen_decoded``: the same folder opened
  again (a new source), its thumbnails from the persistent cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from studio.bench.common import status_mib
from studio.bench.gui_latency import Ticker, drag, open_window, pump


def measure(folder: str, watch_s: float = 10.0, steps: int = 200) -> dict:
    app, win, _tmp = open_window()
    faces = win.faces
    out: dict = {"folder": folder}
    out["rss_before_mib"] = status_mib("VmRSS")

    before = faces.source
    ticker = Ticker()
    ticker.start()
    made0 = faces.thumbs.made
    t0 = time.perf_counter()
    win.open_path(folder, "faces")
    listed = pump(app, lambda: faces.source is not before, 60)
    out["open_to_list_s"] = time.perf_counter() - t0 if listed else None
    ready = pump(app, lambda: not win.jobs.pending() and faces.pending == 0, 60)
    out["open_to_thumbs_s"] = time.perf_counter() - t0 if ready else None
    out["rss_open_mib"] = status_mib("VmRSS")
    out["items"] = len(faces.ids())
    out["rows_in_view"] = len(faces.visible_ids(0))
    pump(app, lambda: False, max(0.0, watch_s - (time.perf_counter() - t0)))
    ticker.stop()
    out["watch_s"] = watch_s
    worst = ticker.worst_block(t0, t0 + watch_s)
    out["ui_block_ms_max"] = None if worst is None else worst[0]
    out["ui_block_at_s"] = None if worst is None else worst[1] - t0  # after the open
    out["thumbs_decoded"] = faces.thumbs.made - made0
    out["rss_watched_mib"] = status_mib("VmRSS")

    bar = faces.list.verticalScrollBar()
    made1 = faces.thumbs.made

    def scroll(i: int) -> None:
        if i % 6 == 5:  # every 100 ms: the next page, rows not seen yet
            bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))

    out["drag"] = drag(app, win, steps, on_step=scroll)
    out["drag"]["thumbs_made_meanwhile"] = faces.thumbs.made - made1
    out["drag"]["rows_scrolled_to"] = bar.value() // max(1, faces.list.gridSize().height())
    out["rss_after_mib"] = status_mib("VmRSS")
    out["rss_peak_mib"] = status_mib("VmHWM")

    t1 = time.perf_counter()
    before = faces.source
    win.open_path(folder, "faces")  # again: a new source object, the same files
    pump(app, lambda: faces.source is not before, 60)
    hits0, made2 = faces.thumbs.hits, faces.thumbs.made  # the old rows' thumbnails left out
    ready = pump(app, lambda: faces.pending == 0 and faces.thumbs.pending() == 0, 60)
    out["reopen_to_thumbs_s"] = time.perf_counter() - t1 if ready else None
    out["reopen_hits"] = faces.thumbs.hits - hits0
    out["reopen_decoded"] = faces.thumbs.made - made2
    win.shutdown()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studio.bench.gui_browse")
    p.add_argument("folder", help="a face folder (any layout)")
    p.add_argument("--watch", type=float, default=10.0, help="seconds watched after the open")
    p.add_argument("--steps", type=int, default=200, help="drag steps while the browser fills")
    args = p.parse_args(argv)
    print(json.dumps(measure(args.folder, args.watch, args.steps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
