"""Preset files: safe YAML in, atomic YAML out (the model is :mod:`studio.core.model.preset`).

Saving round-trips exactly: ``save_preset(load_preset(p))`` writes a file that loads back to an
equal preset and saves to the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from studio.core.io.safe_yaml import parse_yaml, read_text
from studio.core.io.writers import replace_file
from studio.core.model.preset import Preset, preset_from_dict, preset_to_dict


def parse_preset(text: str, source: str | Path = "preset") -> Preset:
    """Validate preset YAML text (plain safe YAML only; see :mod:`studio.core.io.safe_yaml`)."""
    return preset_from_dict(parse_yaml(text, source), source)


def load_preset(path: str | Path) -> Preset:
    """Read and validate a preset file."""
    return parse_preset(read_text(path, "preset file"), path)


def preset_to_yaml(preset: Preset) -> str:
    """YAML text of a preset; every field is written, so the file says everything."""
    return yaml.safe_dump(
        preset_to_dict(preset), sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def save_preset(preset: Preset, path: str | Path) -> None:
    """Write a preset atomically (temp file + rename): through a symlink to its target, with
    the mode the file had (or the umask's default for a new file)."""
    replace_file(path, preset_to_yaml(preset).encode("utf-8"))
