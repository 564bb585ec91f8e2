"""GUI-driven review benchmark: open a big export in a Review window and scroll through it.

``python -m studio.bench.gui_review EXPORT [--scroll 10]`` opens a Review window offscreen
(1560x940; the thumbnail and index caches are wherever ``STUDIO_CACHE_DIR`` points: the bench
gives it an empty folder), opens EXPORT with the occlusion overlay, and prints JSON:

- ``open_to_first_thumb_s`` / ``open_to_thumbs_s``: from the open to the first thumbnail shown,
  and to every tile in view having its thumbnail; ``open_to_index_s``: to the whole manifest
  read (the grid is usable long before);
- ``ui_block_ms_max_open``: the longest event-loop block (2 ms timer) from the open until the
  thumbnails in view are shown;
- ``ui_block_ms_max_scroll``: the longest block while scrolling for ``--scroll`` seconds (a
  page every 100 ms, and a jump to a far row every second), started at once after the first
  screen of thumbnails: for a large export, while its manifest is still being read;
- ``thumbs_made_scrolling``, ``rows``, ``rows_in_view``;
- ``ui_block_ms_max_idle``: the longest block over ``--scroll`` seconds with the window shown
  and nothing open, measured first: what the machine's load alone costs the event loop (on a
  shared machine, compare the blocks with it); ``load_before``/``load_after``: the 1-minute
  load average;
- memory: ``rss_before_mib`` (window shown, nothing open), ``rss_open_mib`` (the index read,
  the scrolling done), ``rss_peak_mib`` (the high-water mark) and ``index_mib`` (the bytes of
  the index's arrays).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from studio.bench.common import status_mib
from studio.bench.gui_latency import Ticker, pump


def index_bytes(index) -> int:
    arrays = [index.index, index.start, index.length, index.source]
    arrays += list(index.numbers.values()) + list(index.codes.values())
    return sum(a.nbytes for a in arrays)


def measure(out: str, scroll_s: float = 10.0) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.gui.app import freeze_heap
    from studio.gui.review.window import ReviewWindow

    app = QApplication.instance() or QApplication([])
    window = ReviewWindow()
    window.resize(1560, 940)
    window.show()
    view = window.view
    freeze_heap()
    pump(app, lambda: False, 0.3)
    result: dict = {"export": out, "load_before": os.getloadavg()[0]}
    ticker = Ticker()
    ticker.start()
    idle = time.perf_counter()
    pump(app, lambda: False, scroll_s)
    result["ui_block_ms_max_idle"] = ticker.max_block_ms(idle, time.perf_counter())
    result["rss_before_mib"] = status_mib("VmRSS")
    t0 = time.perf_counter()
    window.open(out)
    view.set_view("occlusion")
    grid = view.grids[0]

    def thumbs_shown() -> int:
        return sum(
            1 for r in grid.visible_rows(0) if grid.model.has_thumbnail(grid.model.position_at(r))
        )

    first = pump(app, lambda: thumbs_shown() > 0, 60)
    result["open_to_first_thumb_s"] = time.perf_counter() - t0 if first else None
    ready = pump(app, lambda: grid.model.rowCount() > 0 and grid.pending == 0, 60)
    t_ready = time.perf_counter()
    result["open_to_thumbs_s"] = t_ready - t0 if ready else None
    result["ui_block_ms_max_open"] = ticker.max_block_ms(t0, t_ready)
    result["rows_in_view"] = len(grid.visible_rows(0))
    bar = grid.list.verticalScrollBar()
    made0 = grid.thumbs.made
    state = {"next": time.perf_counter(), "jumps": 0}
    session = view.sessions[0]
    index_done: dict = {}

    def scrolling() -> bool:
        now = time.perf_counter()
        if session.complete and "t" not in index_done:
            index_done["t"] = now
        if now >= state["next"]:
            state["next"] = now + 0.1
            state["jumps"] += 1
            if state["jumps"] % 10 == 0:  # a far jump: rows not seen yet
                bar.setValue(int(bar.maximum() * ((state["jumps"] * 0.37) % 1.0)))
            else:
                bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))
        return False

    t1 = time.perf_counter()
    pump(app, scrolling, scroll_s)
    t2 = time.perf_counter()
    result["ui_block_ms_max_scroll"] = ticker.max_block_ms(t1, t2)
    result["scroll_s"] = scroll_s
    result["thumbs_made_scrolling"] = grid.thumbs.made - made0
    pump(app, lambda: session.complete, 300)
    result["open_to_index_s"] = index_done.get("t", time.perf_counter()) - t0
    result["index_read_while_scrolling"] = "t" not in index_done or index_done["t"] > t1
    ticker.stop()
    assert session.index is not None
    result["rows"] = len(session.index)
    result["index_mib"] = index_bytes(session.index) / 2**20
    pump(app, lambda: not view.busy(), 30)
    result["rss_open_mib"] = status_mib("VmRSS")
    result["rss_peak_mib"] = status_mib("VmHWM")
    result["load_after"] = os.getloadavg()[0]
    window.close()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studio.bench.gui_review")
    p.add_argument("export", help="an export folder")
    p.add_argument("--scroll", type=float, default=10.0, help="seconds of scrolling")
    args = p.parse_args(argv)
    print(json.dumps(measure(args.export, args.scroll)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
