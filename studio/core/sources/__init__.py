"""Where faces, occluders and textures come from.

A source lists stable, sorted ids (relative paths) without decoding anything, loads one item by
id (raising :class:`~studio.core.errors.InputError` with path + reason when it can't), and can
report its counts and problems (``report(check=False)``; ``check=True`` loads every item).
"""

from studio.core.sources.automask import AutoMaskFaceSource
from studio.core.sources.base import (
    FaceSource,
    FolderFaceSource,
    FolderOccluderSource,
    OccluderSource,
    Problem,
    SourceReport,
    TextureFolder,
    TextureSource,
    scan_images,
)
from studio.core.sources.celebamask import CelebAMaskSource
from studio.core.sources.coco import CocoOccluderSource
from studio.core.sources.detect import open_source, sources_from_preset

__all__ = [
    "AutoMaskFaceSource",
    "CelebAMaskSource",
    "CocoOccluderSource",
    "FaceSource",
    "FolderFaceSource",
    "FolderOccluderSource",
    "OccluderSource",
    "Problem",
    "SourceReport",
    "TextureFolder",
    "TextureSource",
    "open_source",
    "scan_images",
    "sources_from_preset",
]
