"""The input layer: where faces, occluders and textures come from. Everything that opens a
source folder (the exporter and its workers, the studio, ``studio demo``/``inspect``/
``render``, the torch dataset) does it through :func:`open_source` / :class:`SourceRef`.

A source lists stable, sorted ids (relative paths) without decoding anything, loads one item by
id (raising :class:`~studio.core.errors.InputError` with path + reason when it can't), and can
report its counts and problems (``report(check=False)``; ``check=True`` loads every item).
Layouts are recognised from names (:mod:`studio.core.sources.layouts`).
"""

from studio.core.sources.base import (
    FaceSource,
    OccluderSource,
    Problem,
    SourceReport,
    TextureSource,
)
from studio.core.sources.factory import (
    SourceRef,
    dataset_refs,
    describe,
    fingerprint,
    open_ref,
    open_source,
    refs_for_path,
    refs_from_preset,
    sources_spec,
    summary_line,
)
from studio.core.sources.files import face_from_files, occluder_from_files, texture_from_file
from studio.core.sources.layouts import ROLES, Layout, Role, recognise
from studio.core.sources.pool import ItemPool

__all__ = [
    "ROLES",
    "FaceSource",
    "ItemPool",
    "Layout",
    "OccluderSource",
    "Problem",
    "Role",
    "SourceRef",
    "SourceReport",
    "TextureSource",
    "dataset_refs",
    "describe",
    "face_from_files",
    "fingerprint",
    "occluder_from_files",
    "open_ref",
    "open_source",
    "recognise",
    "refs_for_path",
    "refs_from_preset",
    "sources_spec",
    "summary_line",
    "texture_from_file",
]
