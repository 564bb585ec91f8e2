"""The sources of an export job, built in one place from the resolved preset.

Planner and workers both call :func:`open_sources`, and use only the source protocol
(``ids()`` sorted, ``load(id)`` raising InputError), so a new source type (CelebAMask-HQ,
COCO, automatic face masks) plugs in here and nowhere else.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import InputError
from studio.core.preset import Preset, ResolvedSources
from studio.core.sources import (
    FaceSource,
    FolderFaceSource,
    FolderOccluderSource,
    OccluderSource,
    TextureFolder,
    TextureSource,
)
from studio.core.sources.base import list_images


@dataclass
class JobSources:
    faces: FaceSource
    occluders: OccluderSource | None
    textures: TextureSource | None


def open_sources(preset: Preset, sources: ResolvedSources) -> JobSources:
    """The face source, and the occluder (natocc) or texture (randocc, optional) source.

    Raises
    ------
    InputError
        when a source the mode needs is not set.
    """
    if sources.faces is None:
        raise InputError("sources.faces: not set in the preset (or pass --faces DIR)")
    if sources.face_masks is None:
        raise InputError("sources.face_masks: not set in the preset (or pass --face-masks DIR)")
    faces = FolderFaceSource(sources.faces, sources.face_masks)
    occluders = textures = None
    if preset.mode == "natocc":
        if sources.occluders is None:
            raise InputError("sources.occluders: not set in the preset (or pass --occluders DIR)")
        occluders = FolderOccluderSource(
            sources.occluders,
            sources.occluder_masks,
            preset.sources.occluder_kind,
            preset.sources.occluder_up,
        )
    elif sources.textures is not None:
        textures = TextureFolder(sources.textures)
    return JobSources(faces, occluders, textures)


def _folder_fingerprint(root: Path, ids: list[str]) -> dict[str, Any]:
    """Sorted relative paths and file sizes (cheap: no file is read)."""
    h = hashlib.blake2b(digest_size=16)
    for item in ids:
        try:
            size = os.stat(root / item).st_size
        except OSError:
            size = -1
        h.update(f"{item}\0{size}\n".encode())
    return {"root": str(root), "items": len(ids), "fingerprint": h.hexdigest()}


def fingerprint(source: Any, ids: list[str]) -> dict[str, Any]:
    """Fingerprint of a source's items: ids, plus file sizes when it has a ``root`` folder."""
    root = getattr(source, "root", None)
    if isinstance(root, Path):
        return _folder_fingerprint(root, ids)
    h = hashlib.blake2b("\n".join(ids).encode(), digest_size=16)
    return {"root": type(source).__name__, "items": len(ids), "fingerprint": h.hexdigest()}


def mask_fingerprint(source: Any) -> dict[str, Any] | None:
    """Fingerprint of a source's mask folder (``masks`` attribute), if it has one."""
    masks = getattr(source, "masks", None)
    if isinstance(masks, Path):
        return _folder_fingerprint(masks, list_images(masks))
    return None
