"""Writing presets from the studio (no Qt here).

Uses ``studio.core.preset.save_preset`` when the engine provides it; until then, the preset is
written as safe YAML through the atomic writer (the lead can swap this one function).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from studio.core import preset as core_preset
from studio.core.preset import Preset
from studio.core.writers import write_bytes_atomic


def save_preset(preset: Preset, path: str | Path) -> None:
    """Write ``preset`` to ``path`` atomically (YAML)."""
    saver = getattr(core_preset, "save_preset", None)
    if saver is not None:
        saver(preset, path)
        return
    text = yaml.safe_dump(preset.model_dump(mode="json"), sort_keys=False)
    write_bytes_atomic(path, text.encode("utf-8"))


def export_snapshot(preset: Preset, preset_path: Path | None, folders: dict) -> Preset:
    """The preset to hand to the exporter: source folders made absolute (relative ones are
    resolved against the preset's file), missing ones filled from the studio's folders."""
    base = preset_path.parent if preset_path is not None else Path.cwd()
    sources = preset.sources.model_dump()
    for key in ("faces", "face_masks", "occluders", "occluder_masks", "textures"):
        value = sources.get(key)
        if value:
            sources[key] = str((base / value).resolve())
        elif folders.get(key):
            sources[key] = folders[key]
    return preset.model_copy(update={"sources": type(preset.sources)(**sources)})
