"""The presets the studio hands on: to the exporter, and to a file it saves (no Qt here).

Both record exactly the sources the browsers show. The exporter gets absolute paths; a saved
file gets paths relative to itself when they lie below its folder (the file and its data can
move together), absolute ones otherwise. A role whose browser shows nothing the export could
read (its folder did not open, or the synthetic samples) keeps what the preset said, moved to
the new file's folder.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from studio.core.model.preset import Preset, SourcesSpec
from studio.core.sources import SourceRef, sources_spec

PATH_KEYS = ("faces", "face_masks", "occluders", "occluder_masks", "occluder_images", "textures")


def _with_kind(preset: Preset, refs: dict[str, SourceRef]) -> dict[str, SourceRef]:
    """What the occluders are (kind, top side) stays the preset's say."""
    refs = dict(refs)
    occluders = refs.get("occluders")
    if occluders is not None:
        s = preset.sources
        refs["occluders"] = replace(occluders, kind=s.occluder_kind, up=s.occluder_up)
    return refs


def export_snapshot(preset: Preset, refs: dict[str, SourceRef]) -> Preset:
    """The preset to hand to the exporter: its sources are exactly those the studio's
    browsers show (absolute paths, layouts and options); roles the browsers show no real
    source for (the synthetic samples) are left unset."""
    spec = sources_spec(_with_kind(preset, refs), SourcesSpec())
    return preset.model_copy(update={"sources": spec})


def relative_where_below(path: str | None, folder: Path) -> str | None:
    """``path`` relative to ``folder`` when it lies below it, else absolute."""
    if not path:
        return path
    absolute = Path(path).expanduser()
    absolute = absolute if absolute.is_absolute() else Path.cwd() / absolute
    absolute = Path(os.path.normpath(absolute))
    try:
        return absolute.relative_to(Path(os.path.normpath(folder.resolve()))).as_posix()
    except ValueError:
        return str(absolute)


def saved_preset(
    preset: Preset, refs: dict[str, SourceRef], old_base: Path | None, target: Path
) -> Preset:
    """The preset to write to ``target``: the browsers' sources (``refs``), and for the roles
    they show no real source for, the preset's own (relative to ``old_base``, the folder of
    the file it came from), each path relative to ``target``'s folder when below it."""
    base = (old_base or Path.cwd()).resolve()
    own = preset.sources.model_dump()
    for key in PATH_KEYS:
        value = own[key]
        if value and not Path(value).expanduser().is_absolute():
            own[key] = str(Path(os.path.normpath(base / value)))
    spec = sources_spec(_with_kind(preset, refs), SourcesSpec(**own))
    folder = target.parent if target.parent.is_absolute() else Path.cwd() / target.parent
    paths = {key: relative_where_below(getattr(spec, key), folder) for key in PATH_KEYS}
    return preset.model_copy(update={"sources": spec.model_copy(update=paths)})
