"""The package's import rules hold (see import_rules.py), and the checker catches a break."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from import_rules import violations

REPO = Path(__file__).resolve().parents[2]


def test_the_package_keeps_its_import_rules() -> None:
    assert violations(REPO) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in tmp_path.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return tmp_path


def test_an_upward_import_in_core_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "studio/core/model/spec.py": "from studio.core.engine.render import render\n",
            "studio/core/engine/render.py": "from studio.core.model import spec\n",
        },
    )
    found = violations(root)
    assert any("model imports engine" in f and "spec.py:1" in f for f in found), found


def test_a_cycle_is_caught_even_through_a_lazy_import(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "studio/core/engine/a.py": "from studio.core.engine import b\n",
            "studio/core/engine/b.py": "def f():\n    from studio.core.engine.c import g\n",
            "studio/core/engine/c.py": "import studio.core.engine.a\n",
            "studio/core/engine/d.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from studio.core.engine.a import x\n"
            ),
        },
    )
    found = [f for f in violations(root) if f.startswith("cycle")]
    assert found == [
        "cycle: studio.core.engine.a -> studio.core.engine.b -> studio.core.engine.c"
        " -> studio.core.engine.a"
    ]


def test_private_names_qt_torch_and_core_reaching_out_are_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "studio/core/io/x.py": "from studio.core.model.spec import _hidden\n",
            "studio/core/model/spec.py": "_hidden = 1\n",
            "studio/core/ops/y.py": "import torch\nfrom PySide6 import QtCore\n",
            "studio/core/engine/z.py": "from studio.gui import window\n",
            "studio/gui/window.py": "from PySide6 import QtWidgets\n",
        },
    )
    found = violations(root)
    assert any("private _hidden" in f for f in found)
    assert any("y.py:1: imports torch" in f for f in found)
    assert any("y.py:2: imports Qt" in f for f in found)
    assert any("z.py:1: core imports studio.gui" in f for f in found)
    assert not any("gui/window.py" in f for f in found)  # Qt is the studio's own


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("studio.core.render", "studio.core.engine.render"),
        ("studio.core.errors", "studio.core.model.errors"),
        ("studio.core.sources.pool", "studio.core.engine.pool"),
    ],
)
def test_old_module_paths_import_the_moved_module_with_a_warning(old: str, new: str) -> None:
    code = (
        "import importlib, warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module({old!r})\n"
        f"new = importlib.import_module({new!r})\n"
        "assert old is new, (old, new)\n"
        f"assert new.__spec__.name == {new!r}\n"
        "assert [str(x.message) for x in w if x.category is DeprecationWarning], w\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_old_preset_module_has_the_names_of_both_new_homes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from studio.core.preset import Preset, load_preset  # type: ignore[attr-defined]
    from studio.core.io.presets import load_preset as new_load
    from studio.core.model.preset import Preset as NewPreset

    assert load_preset is new_load and Preset is NewPreset


def test_a_reach_into_another_objects_private_member_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "studio/gui/canvas.py": (
                "class Canvas:\n"
                "    def __init__(self):\n        self._fitted = False\n"
                "    def _set_corners(self, c):\n        self.corners = c\n"
                "    def same(self, other):\n        return other._fitted == self._fitted\n"
            ),
            "studio/gui/window.py": (
                "import sys\n"
                "from collections import namedtuple\n"
                "from studio.gui import canvas\n"
                "P = namedtuple('P', 'x')\n"
                "class Window:\n"
                "    def _toggle(self):\n"
                "        self.canvas._set_corners([])\n"
                "        sys._getframe(0)\n"
                "        return P(1)._replace(x=2), self._toggle\n"
                "def helper(view):\n"
                "    view._fitted = True\n"
                "    return canvas._private\n"
            ),
        },
    )
    found = [f for f in violations(root) if "reaches into" in f]
    assert found == [
        "studio/gui/window.py:7: reaches into self.canvas._set_corners",
        "studio/gui/window.py:11: reaches into view._fitted",
        "studio/gui/window.py:12: reaches into canvas._private",
    ]


def test_training_code_reaching_past_a_package_face_is_caught(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "studio/core/export/plan.py": "LAYOUTS = {}\n",
            "studio/integrations/train/data.py": (
                "from studio.core.export.plan import LAYOUTS\n"
                "from studio.core.export import LAYOUTS as L\n"
            ),
            "studio/integrations/torch/transform.py": (
                "from studio.integrations.train import data\n"
            ),
        },
    )
    found = violations(root)
    assert any("data.py:1: train reaches into studio.core.export.plan" in f for f in found)
    assert not any("data.py:2" in f for f in found)
    assert any("transform.py:1: the torch integration imports the training" in f for f in found)
