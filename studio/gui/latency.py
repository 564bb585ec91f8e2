"""GUI-driven latency measurement: drag the occluder N steps with real mouse events.

``python -m studio.gui.latency [--steps 200] [--load]`` opens the main window offscreen,
presses the mouse on the occluder and moves it N steps at 60 Hz, then prints JSON:

- drag-to-frame latency per mouse event: from the event to the first shown frame that
  includes it (a newer frame counts: older requests are coalesced away);
- the longest event-loop block: the largest gap between ticks of a 2 ms timer, minus 2 ms.

``--load`` runs a real ``studio export`` of the demo preset while dragging (default
workers: every core), at the lower priority the studio gives its export processes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


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


def measure(steps: int, load: bool, face_size: int = 0) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QPoint, QSettings, Qt, QTimer
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
    win._confirm_discard = lambda: True
    win.resize(1280, 800)
    win.show()
    deadline = time.perf_counter() + 60
    while win.preview.last_frame is None and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    while win.busy() and time.perf_counter() < deadline:  # thumbnails loaded first
        app.processEvents()
        time.sleep(0.005)
    burner = None
    export_out = ""
    if load:
        from studio.core.paths import presets_dir
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

    requested: dict[int, float] = {}
    event_gen: list[tuple[float, int]] = []  # (event time, generation it produced)
    shown: list[tuple[float, int]] = []
    win.preview.requested.connect(lambda g: requested.__setitem__(g, time.perf_counter()))
    win.preview.frameShown.connect(lambda f: shown.append((time.perf_counter(), f.generation)))

    ticks: list[float] = []
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))
    ticker.start(2)

    view = win.canvas
    vp = view.viewport()
    start = view.mapFromScene(view._center())

    def send(kind, pos: QPoint, buttons) -> None:
        send_mouse(vp, kind, pos, buttons)

    send(QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    state = {"i": 0}

    def step() -> None:
        i = state["i"]
        if i >= steps:
            mover.stop()
            send(QEvent.Type.MouseButtonRelease, pos_of(i), Qt.MouseButton.NoButton)
            return
        t = time.perf_counter()
        before = win.preview.generation
        send(QEvent.Type.MouseMove, pos_of(i + 1), Qt.MouseButton.LeftButton)
        if win.preview.generation > before:
            event_gen.append((t, win.preview.generation))
        state["i"] = i + 1

    def pos_of(i: int) -> QPoint:
        # a slow circle of 60 px radius around the start point
        import math

        a = 2 * math.pi * i / 100.0
        return start + QPoint(round(60 * math.sin(a)), round(60 * (1 - math.cos(a))))

    mover = QTimer()
    mover.setTimerType(Qt.TimerType.PreciseTimer)
    mover.timeout.connect(step)
    mover.start(16)
    deadline = time.perf_counter() + steps * 0.016 + 60
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
        if state["i"] >= steps and shown and shown[-1][1] >= win.preview.generation:
            break
    ticker.stop()
    if burner is not None:
        burner.terminate()
        burner.wait()
        shutil.rmtree(export_out, ignore_errors=True)

    latencies = []
    for t_event, gen in event_gen:
        first = next((ts for ts, g in shown if g >= gen and ts >= t_event), None)
        if first is not None:
            latencies.append((first - t_event) * 1000.0)
    gaps = [(b - a) * 1000.0 - 2.0 for a, b in itertools.pairwise(ticks)]
    win.shutdown()
    return {
        "steps": steps,
        "load": load,
        "events": len(event_gen),
        "frames_shown": len(shown),
        "frames_dropped": win.preview.dropped,
        "latency_ms_median": statistics.median(latencies) if latencies else None,
        "latency_ms_p95": (
            statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else None
        ),
        "latency_ms_max": max(latencies) if latencies else None,
        "event_loop_block_ms_max": max(gaps) if gaps else None,
        "render_ms_last": win.preview.last_frame.render_ms if win.preview.last_frame else None,
        "preview_size": list(win.preview.last_frame.request.face.size),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m studio.gui.latency")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--load", action="store_true", help="drag while a real studio export runs")
    p.add_argument("--face-size", type=int, default=0, help="synthetic faces of this size")
    args = p.parse_args(argv)
    print(json.dumps(measure(args.steps, args.load, args.face_size)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
