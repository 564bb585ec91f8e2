"""The sources of an export job, opened through the input layer by planner and workers alike.

The planner opens the preset's :class:`~studio.core.sources.SourceRef` s (recognising their
layouts); the workers open the refs the plan recorded, whose layout must still be the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.model.errors import InputError
from studio.core.model.vocab import POOL_ROLE, pool_required
from studio.core.sources import SourceRef, open_ref

#: The flag that names each source (what a mode draws besides faces: vocab.POOL_ROLE).
FLAGS = {"faces": "--faces DIR", "occluders": "--occluders DIR", "textures": "--textures DIR"}


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
            raise InputError(f"sources.{role}: not set in the preset (or pass {FLAGS[role]})")
    faces = open_ref(refs["faces"])
    pool_ref = refs.get(POOL_ROLE[mode])
    return JobSources(faces, None if pool_ref is None else open_ref(pool_ref))
