"""What an export job is, as one typed value: the studio builds it from its widgets, the
``studio export`` command from its flags, and both run (or start) exactly that job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.export.engines import Engine, make_engine
from studio.core.export.inputs import job_sources
from studio.core.export.plan import JobPlan, make_plan
from studio.core.io import paths
from studio.core.io.presets import load_preset

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

    def overrides(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in SOURCE_OVERRIDES}

    def plan(self) -> JobPlan:
        """Load the preset, open and fingerprint the sources, fix seed, count and layout."""
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
        )

    def make_engine(self) -> Engine:
        return make_engine(self.engine, self.workers, self.ray_address)

    @property
    def out_path(self) -> Path:
        return Path(self.out)
