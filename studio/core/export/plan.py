"""The plan of an export job: what is fixed before any sample is drawn.

A :class:`JobPlan` holds the resolved preset, the sorted input ids, the job seed and the
number of samples. Sample ``i`` depends on nothing else (see :mod:`.worker`), so the output
bytes do not depend on the worker count, the engine, or resumes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio import __version__
from studio.core.engine.draw import face_index
from studio.core.export.folder import LAYOUTS
from studio.core.export.inputs import open_job_sources
from studio.core.export.shards import ShardSpec
from studio.core.io import remote
from studio.core.jobs.records import first_difference
from studio.core.model.errors import InputError
from studio.core.model.preset import Preset, preset_to_dict
from studio.core.ops.backend import get_backend
from studio.core.sources import SourceRef, describe, fingerprint, summary_line

#: control characters of input names become "_" in output names
_NO_CONTROL = {c: "_" for c in (*range(32), *range(127, 160))}
#: longest output stem in bytes (names get an extension, and temp files a prefix and suffix)
MAX_STEM_BYTES = 160
STEM_PREFIX_BYTES = 100


@dataclass(frozen=True)
class JobPlan:
    """Everything that determines the output bytes of an export job (picklable)."""

    preset: Preset
    #: the opened sources' refs by role, layouts recorded (workers reopen exactly these)
    sources: dict[str, SourceRef]
    face_ids: tuple[str, ...]
    #: ids of the occluders (natocc) or textures (randocc) drawn from; empty: flat shapes
    pool_ids: tuple[str, ...]
    seed: int
    count: int
    layout: str
    #: the output folder: a local path, or a URL in a store (workers write there themselves)
    out: remote.Location
    inputs: dict[str, Any] = field(default_factory=dict)
    #: compute backend of the renders ("cpu" or "cuda"); part of the job, as outputs differ
    backend: str = "cpu"
    #: (path, reason) of input files the sources found unusable while listing them
    input_problems: tuple[tuple[str, str], ...] = ()
    #: one line per source for people: layout, usable items, problems, where
    source_lines: tuple[str, ...] = ()
    #: what job.json records of each source (layout, folders, automatic-mask method)
    source_records: dict[str, Any] = field(default_factory=dict)
    #: WebDataset shards (None: a folder of files); part of the job, as the output differs
    shards: ShardSpec | None = None
    #: options of the stores the job reads and writes (endpoint...; never recorded)
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def folders(self) -> dict[str, str]:
        return LAYOUTS[self.layout]

    def face_for(self, index: int) -> str:
        """Faces are used in sorted order, ``count_per_face`` samples each, cycling."""
        per = self.preset.output.count_per_face
        return self.face_ids[face_index(index, len(self.face_ids), per)]

    def stem_for(self, index: int) -> str:
        """Output file stem: the sample index and the face's full stem (no collisions; control
        characters of the name become ``_``).

        A stem too long for file systems (255 bytes a name) keeps a readable prefix and gets
        a short hash of the whole in its place: ``0000001_<first 100 bytes>~<8 hex>``.
        """
        face = Path(self.face_for(index).partition("#")[0])
        flat = (face.parent / face.stem).as_posix().replace("/", "__").translate(_NO_CONTROL)
        extra = self.face_for(index).partition("#")[2]
        if extra:
            flat += f".face{extra}"
        stem = f"{index:07d}_{flat}"
        if len(stem.encode()) <= MAX_STEM_BYTES:
            return stem
        digest = hashlib.blake2b(flat.encode(), digest_size=4).hexdigest()
        prefix = flat.encode()[:STEM_PREFIX_BYTES].decode("utf-8", "ignore")
        return f"{index:07d}_{prefix}~{digest}"

    @property
    def token(self) -> str:
        """A short hash that identifies this job (record and output folder)."""
        text = json.dumps([self.job_record(), str(self.out)], sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    def job_record(self) -> dict[str, Any]:
        """The content of job.json (no timestamps: a resumed job writes the same file); a
        job of shards adds its ``format`` (a folder job's record is what it always was)."""
        shards = {} if self.shards is None else {"format": self.shards.record()}
        return {
            "tool": "occlusion-studio",
            "version": __version__,
            "seed": self.seed,
            "count": self.count,
            "layout": self.layout,
            "backend": self.backend,
            "preset": preset_to_dict(self.preset),
            "sources": self.source_records,
            "inputs": self.inputs,
            **shards,
        }


def check_output_folder(out: remote.Location, sources: dict[str, SourceRef]) -> None:
    """Refuse an output folder inside (or equal to) an input folder (URLs compared as
    text)."""
    for role, ref in sources.items():
        for given in (ref.path, ref.masks, ref.images):
            if not given or remote.is_url(given) != isinstance(out, remote.StoreURL):
                continue
            if isinstance(out, remote.StoreURL):
                inside = f"{out}/".startswith(f"{given.rstrip('/')}/")
            else:
                folder = Path(given).resolve()
                inside = out == folder or out.is_relative_to(folder)
            if inside:
                raise InputError(f"output folder lies inside the {role} input folder {given}", out)


def make_plan(
    preset: Preset,
    sources: dict[str, SourceRef],
    out: str | Path,
    *,
    seed: int | None = None,
    count: int | None = None,
    layout: str | None = None,
    backend: str = "cpu",
    shards: ShardSpec | None = None,
    storage_options: dict[str, Any] | None = None,
) -> JobPlan:
    """Open and fingerprint the inputs, and fix seed, count, layout, backend and format
    (``shards``: WebDataset shards; ``out`` may be a URL, the inputs too).

    Raises
    ------
    InputError
        when a needed source is not set, missing, ambiguous or empty, when multi-class labels
        are asked of faces without class maps, or when the output folder lies inside an
        input folder.
    """
    where = remote.location(out)
    check_output_folder(where, sources)
    opened = open_job_sources(preset.mode, sources)
    faces = opened.faces
    if preset.output.labels and not getattr(faces, "has_labels", False):
        raise InputError(
            f"output.labels is on, but the faces ({faces.layout}) have no class maps: use a "
            "CelebAMask-HQ folder, or turn output.labels off",
            faces.ref.path,
        )
    face_ids = faces.ids()
    if not face_ids:
        raise InputError("no usable face images found", faces.ref.path)
    pool_ids: list[str] = []
    if opened.pool is not None:
        pool_ids = opened.pool.ids()
        if not pool_ids:
            raise InputError(f"no usable {opened.pool.ref.role} found", opened.pool.ref.path)
    inputs: dict[str, Any] = {}
    records: dict[str, Any] = {}
    lines: list[str] = []
    problems: list[tuple[str, str]] = []
    refs: dict[str, SourceRef] = {}
    for role, source in opened.opened().items():
        ids = face_ids if role == "faces" else pool_ids
        report = source.report()
        problems.extend((p.path, p.reason) for p in report.problems)
        inputs[role] = fingerprint(source, ids)
        records[role] = describe(source)
        refs[role] = source.ref
        lines.append(summary_line(source, len(ids), len(report.problems)))
    job_seed = preset.output.seed if seed is None else seed
    if job_seed < 0:
        raise InputError(f"seed must be >= 0, got {job_seed}")
    total = len(face_ids) * preset.output.count_per_face if count is None else count
    if total < 1:
        raise InputError(f"count must be >= 1, got {total}")
    return JobPlan(
        preset=preset,
        sources=refs,
        face_ids=tuple(face_ids),
        pool_ids=tuple(pool_ids),
        seed=int(job_seed),
        count=int(total),
        layout=layout or preset.output.layout,
        out=where,
        inputs=inputs,
        input_problems=tuple(problems),
        source_lines=tuple(lines),
        source_records=records,
        backend=get_backend(backend).name,
        shards=shards,
        storage_options=dict(storage_options or {}),
    )


def _explain_input(key: str, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """An input's fingerprint or file count differs: say which input, and how."""
    if not (key.startswith("inputs.") and key.endswith((".fingerprint", ".items"))):
        return None
    name = key.split(".")[1]
    items_old, items_new = old.get(f"inputs.{name}.items"), new.get(f"inputs.{name}.items")
    if items_old != items_new:
        return f"the {name} input has {items_new} files now, {items_old} in the job"
    return f"the {name} input changed (file names or sizes differ)"


def describe_difference(stored: dict[str, Any], current: dict[str, Any]) -> str | None:
    """The first difference between two job records, in words; None when they match."""
    order = ("version", "format", "preset", "seed", "count", "layout", "sources", "inputs")
    return first_difference(stored, current, order=order, explain=_explain_input)
