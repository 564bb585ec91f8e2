"""studio.core must never import Qt (the engine runs headless, in workers and on clusters)."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "studio" / "core"
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "superqt", "qtpy", "pyqtgraph")


def test_core_sources_import_no_qt():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in QT_MODULES]
    assert offenders == []


def test_importing_core_loads_no_qt_module():
    code = (
        "import sys, studio.core, studio.core.engine.render, studio.core.engine.sample, studio.cli;"
        f"bad=[m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
