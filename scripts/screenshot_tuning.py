"""Screenshot of the tuning model (docs/tuning.png): the occluder scaled on the canvas (real
mouse events) past the area range the export draws from, so the Area ratio row says so and
offers to widen the range; the rotation knob turned on the fixed angle, which followed.

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshot_tuning.py \\
        docs/tuning.png [--review DIR]

With ``--review DIR`` it also saves, for a reviewer's eye: the Samples tab's note on the values
the export never draws, the messages panel after two sources failed (with their browser headers
and the canvas's sentence), and the Export tab saying why it is off and what the output folder
holds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.gui.style import apply_style
from studio.gui.window import MainWindow


def drag(widget, start: QPoint, end: QPoint, steps: int = 8) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseMove(widget, start)
    QTest.mousePress(widget, left, none, start)
    for i in range(1, steps + 1):
        t = i / steps
        QTest.mouseMove(widget, start + (end - start) * t)
    QTest.mouseRelease(widget, left, none, end)


def tune(win: MainWindow) -> None:
    canvas = win.canvas
    view = canvas.viewport()
    corner, center = canvas.corners[0], canvas.center()
    drag(view, canvas.mapFromScene(corner), canvas.mapFromScene(center + (corner - center) * 1.45))
    QTest.qWait(300)
    knob, center = canvas.rotate_item.pos(), canvas.center()
    d = knob - center
    turned = center + QPointF(d.x() * 0.94 + d.y() * 0.34, d.y() * 0.94 - d.x() * 0.34)
    drag(view, canvas.mapFromScene(knob), canvas.mapFromScene(turned))
    win.panel.ensureWidgetVisible(win.panel.rows["scale.area_ratio"].outside_line, 0, 120)


def settle(win: MainWindow, ms: int = 600) -> None:
    """Wait until nothing loads (sources, thumbnails, the preview), then ``ms`` more."""
    done = []
    win.when_idle(lambda: done.append(True))
    while not done:
        QTest.qWait(50)
    QTest.qWait(ms)


def review(win: MainWindow, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    win.show_tab("samples")
    settle(win)
    win.grab().save(str(folder / "samples-note.png"))
    win.show_tab("preview")
    tmp = Path(tempfile.mkdtemp(prefix="studio-review-"))
    (tmp / "empty").mkdir()
    from studio.core.io.paths import samples

    win.open_path(str(samples().face_masks), "faces", replace=True)
    win.open_path(str(tmp / "empty"), "occluders", replace=True)
    settle(win)
    win.grab().save(str(folder / "failed-sources.png"))
    win.unread.click()
    settle(win, 300)
    win.grab().save(str(folder / "messages-panel.png"))
    win.show_tab("export")
    settle(win, 300)
    win.grab().save(str(folder / "export-off.png"))
    win.open_bundled("faces")
    win.open_bundled("occluders")
    out = tmp / "export"
    out.mkdir()
    (out / "job.json").write_text("{}")
    win.export_panel.out.setText(str(out))
    settle(win)
    win.grab().save(str(folder / "export-resume.png"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--review", type=Path)
    args = p.parse_args()
    app = QApplication([sys.argv[0]])
    apply_style(app)
    ini = Path(tempfile.mkdtemp(prefix="studio-shot-")) / "settings.ini"  # not the user's
    win = MainWindow(settings=QSettings(str(ini), QSettings.Format.IniFormat))
    win.resize(1280, 800)
    win.show()

    def shoot() -> None:
        tune(win)
        settle(win)
        win.grab().save(args.out)
        if args.review:
            review(win, args.review)
        win.shutdown()
        app.quit()

    win.when_idle(lambda: QTimer.singleShot(500, shoot))
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
