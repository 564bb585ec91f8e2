"""GUI-driven latency measurement: drag the occluder N steps with real mouse events.

``python -m studio.bench.gui_latency [--steps 200] [--load]`` opens the main window offscreen,
presses the mouse on the occluder and moves it N steps at 60 Hz, then prints JSON:

- drag-to-frame latency per mouse event: from the event to the first shown frame that
  includes it (a newer frame counts: older requests are coalesced away);
- the longest event-loop block: the largest gap between ticks of a 2 ms timer, minus 2 ms.

``--load`` runs a real ``studio export`` of the demo preset while dragging (default
workers: every core), at the lower priority the studio gives its export processes.

``--strength`` drags the colour strength slider instead (SOT, no harmonisation, an empty
preview cache first) and prints the first frame's time and the median frame time after it.

The pieces (:func:`open_window`, :class:`Ticker`, :func:`drag`) also drive the browser
benchmark (:mod:`studio.bench.gui_browse`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable

TICK_MS = 2


def send_mouse(viewport, kind, pos, buttons) -> None:
    """Deliver a left-button mouse event of ``kind`` at ``pos`` (viewport coordinates)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    event = QMouseEvent(
        kind,
        QPointF(pos),
        QPointF(viewport.mapToGlobal(pos)),
        Qt.MouseButton.LeftButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def pump(app, until: Callable[[], bool], timeout_s: float, sleep_s: float = 0.0005) -> bool:
    """Run the event loop until ``until()`` (True) or ``timeout_s`` passed (False)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(sleep_s)
    return until()


def wait_until(until: Callable[[], bool], timeout_s: float, *signals, check_ms: int = 50) -> bool:
    """Run a real event loop (as the studio does: blocked in Qt, not holding the GIL) until
    ``until()`` (True) or ``timeout_s`` passed (False). ``until`` is checked when one of
    ``signals`` fires and every ``check_ms``. Unlike :func:`pump`, nothing wakes the UI thread
    every half millisecond: a measurement of another thread's time is not slowed by the
    poll taking the GIL from it."""
    from PySide6.QtCore import QEventLoop, QTimer

    if until():
        return True
    loop = QEventLoop()

    def check(*_args) -> None:
        if until():
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(check_ms)
    for signal in signals:
        signal.connect(check)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(round(timeout_s * 1000))
    try:
        loop.exec()
    finally:
        timer.stop()
        deadline.stop()
        for signal in signals:
            signal.disconnect(check)
    return until()


def open_window(face_size: int = 0):
    """The main window offscreen at 1280x800 with fresh settings, once its first frame is
    shown and nothing loads; returns (app, window, temporary folder to keep alive)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio.gui.library import Library, SyntheticFaces
    from studio.gui.window import MainWindow

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(os.path.join(tmp.name, "s.ini"), QSettings.Format.IniFormat)
    library = Library.default()
    if face_size:
        library.faces = SyntheticFaces(face_size)
    win = MainWindow(library=library, settings=settings)
    win.ask_before_discarding = False
    win.resize(1280, 800)
    win.show()
    from studio.gui.app import freeze_heap

    freeze_heap()  # as main.py does
    pump(app, lambda: win.preview.last_frame is not None, 60, 0.005)
    pump(app, lambda: not win.busy(), 60, 0.005)  # thumbnails loaded first
    return app, win, tmp


class Ticker:
    """A 2 ms timer on the UI thread: gaps between its ticks are event-loop blocks.

    Ticks are kept in an ``array`` (no float object survives a tick), so the measurement
    does not pin the memory of what it measures (long-lived small objects made while a
    worker scans would keep the scan's freed arenas alive)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks = array("d")
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self._timer.start(TICK_MS)

    def stop(self) -> None:
        self._timer.stop()

    def max_block_ms(self, since: float = 0.0, until: float = math.inf) -> float | None:
        """The longest gap between ticks (minus the tick period) within [since, until]."""
        worst = self.worst_block(since, until)
        return None if worst is None else worst[0]

    def worst_block(
        self, since: float = 0.0, until: float = math.inf
    ) -> tuple[float, float] | None:
        """(the longest block in ms, when it began) within [since, until]."""
        ticks = [t for t in self.ticks if since <= t <= until]
        gaps = [((b - a) * 1000.0 - TICK_MS, a) for a, b in itertools.pairwise(ticks)]
        return max(gaps) if gaps else None


def drag(app, win, steps: int, on_step: Callable[[int], None] | None = None) -> dict:
    """Drag the occluder ``steps`` mouse moves at 60 Hz in a slow circle; ``on_step(i)`` runs
    after each move. Returns the latency figures (and the tick-measured longest block)."""
    from PySide6.QtCore import QEvent, QPoint, Qt, QTimer

    requested: dict[int, float] = {}
    event_gen: list[tuple[float, int]] = []  # (event time, generation it produced)
    shown: list[tuple[float, int]] = []
    win.preview.requested.connect(lambda g: requested.__setitem__(g, time.perf_counter()))
    win.preview.frameShown.connect(lambda f: shown.append((time.perf_counter(), f.generation)))
    ticker = Ticker()
    ticker.start()
    view = win.canvas
    vp = view.viewport()
    start = view.mapFromScene(view.center())

    def pos_of(i: int) -> QPoint:  # a slow circle of 60 px radius around the start point
        a = 2 * math.pi * i / 100.0
        return start + QPoint(round(60 * math.sin(a)), round(60 * (1 - math.cos(a))))

    send_mouse(vp, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    state = {"i": 0}

    def step() -> None:
        i = state["i"]
        if i >= steps:
            mover.stop()
            send_mouse(vp, QEvent.Type.MouseButtonRelease, pos_of(i), Qt.MouseButton.NoButton)
            return
        t = time.perf_counter()
        before = win.preview.generation
        send_mouse(vp, QEvent.Type.MouseMove, pos_of(i + 1), Qt.MouseButton.LeftButton)
        if win.preview.generation > before:
            event_gen.append((t, win.preview.generation))
        state["i"] = i + 1
        if on_step is not None:
            on_step(i)

    mover = QTimer()
    mover.setTimerType(Qt.TimerType.PreciseTimer)
    mover.timeout.connect(step)
    mover.start(16)
    pump(
        app,
        lambda: state["i"] >= steps and bool(shown) and shown[-1][1] >= win.preview.generation,
        steps * 0.016 + 60,
    )
    ticker.stop()
    latencies = []
    for t_event, gen in event_gen:
        first = next((ts for ts, g in shown if g >= gen and ts >= t_event), None)
        if first is not None:
            latencies.append((first - t_event) * 1000.0)
    return {
        "steps": steps,
        "events": len(event_gen),
        "frames_shown": len(shown),
        "latency_ms_median": statistics.median(latencies) if latencies else None,
        "latency_ms_p95": (
            statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else None
        ),
        "latency_ms_max": max(latencies) if latencies else None,
        "event_loop_block_ms_max": ticker.max_block_ms(),
    }


STRENGTH_STEPS = 90  #: distinct values of the strength slider (2 decimals) a drag visits


def drag_strength(app, win, steps: int = STRENGTH_STEPS) -> dict:
    """Drag the colour strength slider through ``steps`` values (at most
    :data:`STRENGTH_STEPS`, each new) at 60 Hz, with SOT and no harmonisation: what the slider
    itself costs. The preview's cache is emptied first, so the first frame makes the colour
    transport; returns its time and the median frame time (render ms) of the frames after it.
    """
    from dataclasses import replace

    from PySide6.QtCore import Qt, QTimer

    from studio.core.model.params import HarmonizeParams

    doc, preview = win.doc, win.preview
    sot = replace(doc.params.color, method="sot", strength=1.0)
    doc.tune(doc.params.replace(color=sot, harmonize=HarmonizeParams()), "SOT")
    pump(app, lambda: preview.up_to_date(), 60, 0.005)
    preview.worker.cache.clear()
    slider = win.panel.rows["color.strength"].pinned_widget
    start = preview.generation
    # render times only: holding the frames would pin every render's arrays, so each render
    # would write to memory never touched before (page faults the studio does not have)
    times: list[float] = []
    preview.frameShown.connect(
        lambda f: times.append(f.render_ms) if f.generation > start else None
    )
    values = [round(0.95 - 0.01 * i, 2) for i in range(min(steps, STRENGTH_STEPS))]
    state = {"i": 0}

    def step() -> None:
        if state["i"] >= len(values):
            mover.stop()
            return
        slider.setValue(values[state["i"]])
        state["i"] += 1

    mover = QTimer()
    mover.setTimerType(Qt.TimerType.PreciseTimer)
    mover.timeout.connect(step)
    mover.start(16)

    def done() -> bool:
        return state["i"] >= len(values) and preview.up_to_date()

    # a real event loop, not pump(): its poll every 0.5 ms would take the GIL from the worker
    # whose render time is measured
    wait_until(done, len(values) * 0.1 + 60, preview.frameShown, mover.timeout)
    return {
        "steps": len(values),
        "requests": preview.generation - start,
        "frames_shown": len(times),
        "first_frame_ms": times[0] if times else None,
        "frame_ms_median_after_first": statistics.median(times[1:]) if len(times) > 1 else None,
        "frame_ms_max_after_first": max(times[1:]) if len(times) > 1 else None,
        "preview_size": list(preview.last_frame.request.face.size),
    }


def measure(steps: int, load: bool, face_size: int = 0) -> dict:
    app, win, _tmp = open_window(face_size)
    burner = None
    export_out = ""
    if load:
        from studio.core.io.paths import presets_dir
        from studio.gui.process_runner import lower_priority

        export_out = tempfile.mkdtemp(prefix="studio-latency-")
        burner = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "studio.cli",
                "export",
                str(presets_dir() / "demo.yaml"),
                "--out",
                os.path.join(export_out, "out"),
                "--count",
                "100000",
                "--progress",
                "none",
            ],
            stdout=subprocess.DEVNULL,
        )
        lower_priority(burner.pid)  # as the studio does for its background jobs
        time.sleep(3.0)  # past the exporter's start-up: its workers are rendering
    try:
        result = drag(app, win, steps)
    finally:
        if burner is not None:
            burner.terminate()
            burner.wait()
            shutil.rmtree(export_out, ignore_errors=True)
    win.shutdown()
    return {
        **result,
        "load": load,
        "frames_dropped": win.preview.dropped,
        "render_ms_last": win.preview.last_frame.render_ms if win.preview.last_frame else None,
        "preview_size": list(win.preview.last_frame.request.face.size),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studio.bench.gui_latency")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--load", action="store_true", help="drag while a real studio export runs")
    p.add_argument("--face-size", type=int, default=0, help="synthetic faces of this size")
    p.add_argument(
        "--strength", action="store_true", help="drag the colour strength slider instead"
    )
    args = p.parse_args(argv)
    if args.strength:
        app, win, _tmp = open_window(args.face_size)
        result = drag_strength(app, win, args.steps)
        win.shutdown()
    else:
        result = measure(args.steps, args.load, args.face_size)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
