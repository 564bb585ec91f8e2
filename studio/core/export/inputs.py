"""The sources of an export job, opened through the input layer by planner and workers alike.

The planner opens the preset's :class:`~studio.core.sources.SourceRef` s (recognising their
layouts); the workers open the refs the plan recorded, whose layout must still be the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from studio.core.io import remote
from studio.core.model.errors import Hint, InputError
from studio.core.model.preset import Preset
from studio.core.model.vocab import POOL_ROLE, pool_required
from studio.core.sources import SourceRef, open_ref, refs_from_preset


def job_sources(
    preset: Preset,
    preset_path: str | Path,
    overrides: Mapping[str, str | Path | None] | None = None,
    *,
    data_root: str | Path | None = None,
    check: bool = True,
) -> dict[str, SourceRef]:
    """The source refs of a job on ``preset``: its sources under the data root (``data_root``,
    by default the preset file's folder), with ``overrides`` (faces, face_masks, occluders,
    occluder_masks, textures: relative to the working folder) in place of the preset's.

    With ``check`` the data root and the preset folders the mode needs (faces, and occluders
    or textures) must exist; a missing one is named with the root it was looked for under.

    Raises
    ------
    InputError
        a missing data root, or a missing folder the job needs (hint ``data`` when no data
        root was given: giving it is the usual fix).
    """
    base: str | Path
    if data_root and remote.is_url(data_root):
        base = str(data_root)  # a store: its folders are looked for when they are opened
    else:
        base = Path(data_root).expanduser() if data_root else Path(preset_path).resolve().parent
    if check and data_root and isinstance(base, Path) and not base.is_dir():
        reason = "data root: folder not found" if not base.exists() else "data root: not a folder"
        raise InputError(reason, base, hint="data")
    given = dict(overrides or {})
    refs = refs_from_preset(preset.sources, base, given)
    if not check:
        return refs
    needed = {"faces", POOL_ROLE[preset.mode]}  # textures too: named means wanted
    for role, ref in refs.items():
        if remote.is_url(ref.path) or not isinstance(base, Path):
            continue
        if role in needed and given.get(role) is None and not Path(ref.path).exists():
            raise InputError(
                f"folder not found: sources.{role} of the preset, under {base.resolve()}",
                ref.path,
                hint=None if data_root else "data",
            )
    return refs


@dataclass
class JobSources:
    """The opened face source, and the occluder (natocc) or texture (randocc) source."""

    faces: Any
    pool: Any | None

    def opened(self) -> dict[str, Any]:
        out = {"faces": self.faces}
        if self.pool is not None:
            out[self.pool.ref.role] = self.pool
        return out


def open_job_sources(mode: str, refs: dict[str, SourceRef]) -> JobSources:
    """Open the faces and what ``mode`` draws from (RandOcc textures are optional: without
    them shapes get flat colours).

    Raises
    ------
    InputError
        when a source the mode needs is not set, or cannot be opened.
    """
    for role in ("faces", POOL_ROLE[mode]) if pool_required(mode) else ("faces",):
        if role not in refs:
            raise InputError(f"sources.{role}: not set in the preset", hint=cast(Hint, role))
    faces = open_ref(refs["faces"])
    pool_ref = refs.get(POOL_ROLE[mode])
    return JobSources(faces, None if pool_ref is None else open_ref(pool_ref))
