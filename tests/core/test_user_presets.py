"""The user's presets folder: `studio presets` lists them beside the shipped ones, and a name
resolves to the user's preset too (a shipped name wins)."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.core.io import paths
from studio.core.io.presets import load_preset, save_preset
from studio.core.model.errors import InputError


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(folder))
    return folder


def save_mine(data_dir, name, description):
    demo = load_preset(paths.shipped_presets()["demo"])
    path = data_dir / "presets" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_preset(demo.model_copy(update={"name": name, "description": description}), path)
    return path


def test_the_user_presets_folder_follows_the_override(data_dir):
    assert paths.user_presets_dir() == data_dir / "presets"
    assert paths.user_presets() == {}  # no folder yet: nothing, and no error


def test_a_name_resolves_to_the_users_preset_and_a_shipped_name_wins(data_dir):
    mine = save_mine(data_dir, "tuned", "my hands")
    shadow = save_mine(data_dir, "demo", "my demo")
    assert paths.preset_path("tuned") == mine
    assert paths.preset_path("demo") == paths.shipped_presets()["demo"]
    assert paths.preset_path(str(shadow)) == shadow  # still reachable by its path
    with pytest.raises(InputError) as err:
        paths.preset_path("nothing")
    assert "yours: demo, tuned" in err.value.line() and "shipped: demo" in err.value.line()


def test_studio_presets_lists_yours_beside_the_shipped_ones(data_dir, capsys):
    save_mine(data_dir, "tuned", "my hands")
    save_mine(data_dir, "demo", "my demo")
    broken = data_dir / "presets" / "broken.yaml"
    broken.write_text("scale: [unclosed\n")
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {tuple(line.split()[:2]): line for line in lines if line.strip()}
    assert ("natocc-hands", "shipped") in rows
    assert "my hands" in rows[("tuned", "yours")]
    assert "hidden by the shipped demo" in rows[("demo", "yours")]
    assert "cannot be read" in rows[("broken", "yours")]  # listed, not a crash
    assert lines[-1] == f"yours: {data_dir / 'presets'}"
    assert main(["presets", "tuned"]) == 0
    assert "my hands" in capsys.readouterr().out


def test_in_install(tmp_path):
    assert paths.in_install(paths.shipped_presets()["demo"])
    assert paths.in_install(paths.resources_dir() / "samples" / "new.yaml")  # not there yet
    assert not paths.in_install(tmp_path / "demo.yaml")
