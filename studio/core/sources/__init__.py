"""The input layer: opens every face, occluder and texture source for every client.
May import model and io only.

A source lists stable, sorted ids (relative paths) without decoding anything, loads one item by
id (raising :class:`~studio.core.model.errors.InputError` with path + reason when it can't), and can
report its counts and problems (``report(check=False)``; ``check=True`` loads every item).
Layouts are recognised from names (:mod:`studio.core.sources.layouts`); everything that opens a
source folder does it through :func:`open_source` / :class:`SourceRef`.
"""

from studio.core.sources.base import (
    FaceSource,
    OccluderSource,
    Problem,
    SourceReport,
    TextureSource,
)
from studio.core.sources.celebamask import CLASSES, FACE_PARTS, OCCLUDER_CLASS
from studio.core.sources.factory import (
    SourceRef,
    dataset_members_refs,
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
from studio.core.sources.layouts import PHOTOS, ROLES, Layout, Role, recognise

__all__ = [
    "CLASSES",
    "FACE_PARTS",
    "OCCLUDER_CLASS",
    "PHOTOS",
    "ROLES",
    "FaceSource",
    "Layout",
    "OccluderSource",
    "Problem",
    "Role",
    "SourceRef",
    "SourceReport",
    "TextureSource",
    "dataset_members_refs",
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
