"""What an export job is, as one typed value: the studio builds it from its widgets, the
``studio export`` command from its flags, and both run (or start) exactly that job.

The output folder and the sources may be URLs (``s3://bucket/prefix``: see
:mod:`studio.core.io.remote`); ``storage_option`` holds ``KEY=VALUE`` options of the stores
(an endpoint, a profile; a value is read as JSON when it is JSON: ``anon=true``)."""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.export.engines import Engine, make_engine
from studio.core.export.inputs import job_sources
from studio.core.export.plan import JobPlan, make_plan
from studio.core.export.shards import DEFAULT_BYTES, DEFAULT_SAMPLES, FORMATS, ShardSpec
from studio.core.io import paths, remote
from studio.core.io.presets import load_preset
from studio.core.model.errors import InputError

#: the source folders a job may take in place of its preset's (relative to the working folder)
SOURCE_OVERRIDES = ("faces", "face_masks", "occluders", "occluder_masks", "textures")


@dataclass(frozen=True)
class ExportSpec:
    """An export job: the preset (a file or a shipped preset's name), the output folder and
    what replaces the preset's own choices (None: the preset's)."""

    preset: str
    out: str
    count: int | None = None  #: samples (None: faces x count_per_face)
    seed: int | None = None  #: job seed (None: the preset's output.seed)
    workers: int | None = None  #: processes that render samples (None: all cores)
    resume: bool = False  #: continue the job in ``out``
    verify: bool = False  #: with resume: compare each recorded file's hash
    report: bool = False  #: write report.html and report.png when the job ends
    data: str | None = None  #: the folder the preset's relative source paths are under
    faces: str | None = None
    face_masks: str | None = None
    occluders: str | None = None
    occluder_masks: str | None = None
    textures: str | None = None
    layout: str | None = None  #: output folder names (None: the preset's)
    labels: bool = False  #: also write multi-class label maps (False: the preset's choice)
    engine: str = "local"
    backend: str = "cpu"
    ray_address: str | None = None
    format: str = "folder"  #: folder (one file a sample file) or webdataset (tar shards)
    shard_samples: int | None = None  #: samples a shard (None: 1000)
    shard_bytes: int | None = None  #: bytes a shard at most (None: 1 GiB)
    storage_option: list[str] | None = None  #: KEY=VALUE options of the stores

    def overrides(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in SOURCE_OVERRIDES}

    def shards(self) -> ShardSpec | None:
        """How the job is cut in shards (None: a folder of files)."""
        if self.format not in FORMATS:
            raise InputError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.format == "folder":
            if self.shard_samples is not None or self.shard_bytes is not None:
                raise InputError("shard sizes go with the webdataset format")
            return None
        samples = DEFAULT_SAMPLES if self.shard_samples is None else self.shard_samples
        limit = DEFAULT_BYTES if self.shard_bytes is None else self.shard_bytes
        if samples < 1 or limit < 1:
            raise InputError(f"a shard holds 1 or more samples and bytes, got {samples}, {limit}")
        return ShardSpec(samples, limit)

    def plan(self) -> JobPlan:
        """Load the preset, open and fingerprint the sources, fix seed, count, layout and
        format (the storage options apply to this process from now on)."""
        shards = self.shards()
        options = remote.parse_options(self.storage_option or [])
        remote.set_storage_options(options)
        preset_path = paths.preset_path(self.preset)
        preset = load_preset(preset_path)
        if self.labels and not preset.output.labels:
            output = preset.output.model_copy(update={"labels": True})
            preset = preset.model_copy(update={"output": output})
        sources = job_sources(preset, preset_path, self.overrides(), data_root=self.data)
        return make_plan(
            preset,
            sources,
            self.out,
            seed=self.seed,
            count=self.count,
            layout=self.layout,
            backend=self.backend,
            shards=shards,
            storage_options=options,
        )

    def make_engine(self) -> Engine:
        return make_engine(self.engine, self.workers, self.ray_address)

    @property
    def out_path(self) -> remote.Location:
        return remote.location(self.out)
