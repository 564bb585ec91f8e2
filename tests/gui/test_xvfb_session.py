"""A new user's first session on a real X server (Xvfb + xdotool: real key presses through the
X server): Ctrl+S on the studio's first preset (the shipped demo) asks where to save, writes the
user's presets folder, and changes no shipped file. Skipped where Xvfb or xdotool is missing
(`make sysdeps` installs them)."""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "xvfb_session.py"
spec = importlib.util.spec_from_file_location("xvfb_session", SCRIPT)
xvfb_session = importlib.util.module_from_spec(spec)
spec.loader.exec_module(xvfb_session)

MISSING = xvfb_session.missing_tools()


@pytest.mark.skipif(bool(MISSING), reason=f"needs {' and '.join(MISSING)} (make sysdeps)")
def test_ctrl_s_in_a_new_users_first_session_leaves_the_install_alone(tmp_path):
    result = xvfb_session.session(tmp_path)
    assert result["install_changed"] == []
    assert "error" not in result, result["error"]
    assert "a copy of the shipped demo" in result["title"], json.dumps(result)
    assert result["saved"] == str(tmp_path / "data" / "presets" / "demo-copy.yaml")
    assert yaml.safe_load(Path(result["saved"]).read_text())["name"] == "demo-copy"
    assert result["title_after"].startswith("demo-copy.yaml"), result["title_after"]
    assert result["exit_code"] == 0, result["log"]
