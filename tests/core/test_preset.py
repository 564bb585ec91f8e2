"""Presets: validation messages, safe YAML, round trip, migration, schema, source paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.io.paths import shipped_presets
from studio.core.io.presets import load_preset, parse_preset, preset_to_yaml, save_preset
from studio.core.model import preset as preset_mod
from studio.core.model.errors import InputError
from studio.core.model.preset import Preset
from studio.core.sources import refs_from_preset

PRESETS = sorted(shipped_presets().values())


def test_shipped_presets_exist_and_validate() -> None:
    names = {p.name for p in PRESETS}
    assert {
        "natocc-hands.yaml",
        "natocc-objects.yaml",
        "randocc.yaml",
        "seed-compatible.yaml",
        "demo.yaml",
    } <= names
    for path in PRESETS:
        load_preset(path)


def test_shipped_presets_say_what_the_issue_asks() -> None:
    by_name = {p.stem: load_preset(p) for p in PRESETS}
    hands = by_name["natocc-hands"]
    assert hands.rotation.point_at_face and hands.rotation.up == "up"
    assert hands.sources.occluder_kind == "hand"
    rand = by_name["randocc"]
    assert rand.mode == "randocc"
    assert rand.blend.opacity_probability == pytest.approx(0.3)
    assert (rand.blend.opacity.min, rand.blend.opacity.max) == (0.4, 0.7)
    seed = by_name["seed-compatible"]
    assert seed.mask_max == 1 and seed.image_augment.enabled and seed.output.layout == "seed"
    assert Preset().image_augment.enabled is False  # off by default


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.name)
def test_round_trip_is_exact(path: Path, tmp_path: Path) -> None:
    first = load_preset(path)
    out = tmp_path / "a.yaml"
    save_preset(first, out)
    again = load_preset(out)
    assert again == first
    out2 = tmp_path / "b.yaml"
    save_preset(again, out2)
    assert out2.read_bytes() == out.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


BAD = {
    "not_yaml": ("name: [unclosed\n  blend: {", "not valid YAML at line"),
    "unknown_key": ("blend:\n  opacty: 0.5\n", "blend.opacty: unknown key"),
    "unknown_top_key": ("colour: {method: sot}\n", "colour: unknown key"),
    "out_of_range": ("blend:\n  opacity: {min: 0.2, max: 1.5}\n", "blend.opacity"),
    "probability_range": ("flip:\n  probability: 2\n", "flip.probability"),
    "wrong_type": ("placement:\n  min_coverage: lots\n", "placement.min_coverage"),
    "python_tag": (
        "name: !!python/object/apply:os.system ['echo pwned']\n",
        "YAML tag not allowed",
    ),
    "empty": ("", "preset is empty"),
    "not_mapping": ("- a\n- b\n", "must be a mapping"),
    "newer_schema": ("schema_version: 99\n", "schema_version: 99 is newer"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_presets_give_one_clear_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_preset(path)
    assert expected in info.value.reason
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"studio: error: {path}: ") and expected in err


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(InputError):
        load_preset(path)
    assert not marker.exists()


def test_validate_ok_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(PRESETS[0])]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "preset file not found" in capsys.readouterr().err


def test_json_schema_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"blend", "sources", "output", "schema_version"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    target = tmp_path / "preset.schema.json"
    assert main(["validate", "--schema", str(target)]) == 0
    assert json.loads(target.read_text()) == schema


def test_old_schema_versions_migrate(monkeypatch: pytest.MonkeyPatch) -> None:
    def v1_to_v2(data: dict) -> dict:
        data["description"] = data.pop("comment", "")
        return data

    monkeypatch.setattr(preset_mod, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(preset_mod, "MIGRATIONS", {1: v1_to_v2})
    preset = parse_preset("schema_version: 1\ncomment: old key\n")
    assert preset.description == "old key" and preset.schema_version == 2
    monkeypatch.setattr(preset_mod, "MIGRATIONS", {})
    with pytest.raises(InputError, match="no migration from version 1"):
        parse_preset("schema_version: 1\n")


def test_sources_relative_to_preset_file_and_overridable(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    path = folder / "p.yaml"
    path.write_text("sources:\n  faces: ../data/faces\n  occluders: /abs/occ\n")
    preset = load_preset(path)
    src = refs_from_preset(preset.sources, path.parent)
    assert src["faces"].path == str((tmp_path / "data" / "faces").resolve())
    assert src["occluders"].path == "/abs/occ" and "textures" not in src
    over = refs_from_preset(preset.sources, path.parent, {"faces": tmp_path / "other"})
    assert over["faces"].path == str((tmp_path / "other").resolve())
    assert over["occluders"].path == "/abs/occ"


def test_yaml_text_lists_every_field() -> None:
    text = preset_to_yaml(Preset())
    for key in ("placement:", "color:", "image_augment:", "output:", "schema_version:"):
        assert key in text
