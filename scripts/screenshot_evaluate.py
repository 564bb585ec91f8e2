"""Screenshot of the Evaluate tab showing a finished compare (docs/evaluate-tab.png).

The panel is fed the events a real `studio compare` emitted, rebuilt from its compare.json
(scores and curves as measured; nothing is made up), so the screenshot needs no training run:

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshot_evaluate.py \\
        out/compare-seen/compare docs/evaluate-tab.png
"""

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from studio.gui.style import apply_style
from studio.gui.window import MainWindow


def main() -> int:
    compare_dir, out = Path(sys.argv[1]), sys.argv[2]
    app = QApplication([sys.argv[0]])
    apply_style(app)
    ini = Path(tempfile.mkdtemp(prefix="studio-shot-")) / "settings.ini"  # not the user's
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    panel = win.evaluate_panel
    summary = json.loads((compare_dir / "compare.json").read_text())
    c = summary["config"]
    for p in c["presets"]:
        panel.presets.addItem(p)
    panel.faces.setText(c["faces"])
    panel.test.setText(c["test"])
    panel.compare_out.setText(c["out"])
    panel.count.setValue(c["count"])
    panel.minutes.setValue(c["minutes"] or 2)
    models = summary["models"]
    panel.on_event({"event": "plan", "models": [m["name"] for m in models], "out": c["out"]})
    for m in models:
        for row in m["history"]:
            panel.on_event({"event": "epoch", "model": m["name"], **row})
        scores = {k: v for k, v in m.items() if k != "history"}
        panel.on_event({"event": "result", "model": m["name"], **scores})
    panel.on_event({"event": "done", "out": c["out"], "table": [], "seconds": 0})
    panel.status.setText(f"Done → {compare_dir / 'compare.json'} (replayed for this screenshot)")
    panel.table.selectRow(1)
    win.show_tab("evaluate")
    win.show()

    def grab() -> None:
        win.grab().save(out)
        win.shutdown()
        app.quit()

    QTimer.singleShot(1500, grab)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
