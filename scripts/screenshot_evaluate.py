"""Screenshot of the Evaluate tab showing a finished compare (events replayed from compare.json)."""
import json, sys
from pathlib import Path
from PySide6.QtCore import QTimer, QSettings
from PySide6.QtWidgets import QApplication
from studio.gui.style import apply_style
from studio.gui.window import MainWindow

compare_dir, out = Path(sys.argv[1]), sys.argv[2]
app = QApplication([sys.argv[0]])
apply_style(app)
win = MainWindow(settings=QSettings("/tmp/shot-settings.ini", QSettings.Format.IniFormat))
panel = win.evaluate_panel
summary = json.loads((compare_dir / "compare.json").read_text())
c = summary["config"]
for p in c["presets"]:
    panel.presets.addItem(p)
panel.faces.setText(c["faces"]); panel.test.setText(c["test"]); panel.compare_out.setText(c["out"])
panel.count.setValue(c["count"]); panel.minutes.setValue(c["minutes"] or 2)
models = summary["models"]
panel.on_event({"event": "plan", "models": [m["name"] for m in models], "out": c["out"]})
for m in models:
    for row in m["history"]:
        panel.on_event({"event": "epoch", "model": m["name"], **row})
    panel.on_event({"event": "result", "model": m["name"], **{k: v for k, v in m.items() if k != "history"}})
panel.on_event({"event": "done", "out": c["out"], "compare": str(compare_dir / "compare.json"), "table": [], "seconds": sum(m["train_seconds"] for m in models)})
panel._set_running(False)
panel.status.setText(f"Done → {compare_dir / 'compare.json'} (replayed for this screenshot)")
panel.table.selectRow(1)
win.show_tab("evaluate")
win.show()
def grab():
    win.grab().save(out); win.shutdown(); app.quit()
QTimer.singleShot(1500, grab)
app.exec()
