"""Where faces, occluders and textures come from.

A source lists stable, sorted ids (relative paths) without decoding anything, and loads one
item by id, raising :class:`~studio.core.errors.InputError` (path + reason) when it can't.
"""

from studio.core.sources.base import (
    FaceSource,
    FolderFaceSource,
    FolderOccluderSource,
    OccluderSource,
    TextureFolder,
    TextureSource,
)

__all__ = [
    "FaceSource",
    "FolderFaceSource",
    "FolderOccluderSource",
    "OccluderSource",
    "TextureFolder",
    "TextureSource",
]
