"""What the studio's editor needs to show an exported sample again: the job's preset and
sources (job.json), the sample's face and occluder (or texture) ids and its exact parameters
(its manifest row). Rendering them at full resolution gives the pixels the export wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from studio.core.export.folder import ExportFolder
from studio.core.export.records import JOB, MANIFEST, read_record_file
from studio.core.io.remote import Location, location
from studio.core.model.errors import InputError
from studio.core.model.params import RenderParams
from studio.core.model.preset import Preset, preset_from_dict
from studio.core.model.vocab import pool_role
from studio.core.sources import SourceRef


@dataclass(frozen=True)
class SampleSetup:
    """An exported sample as the editor loads it."""

    index: int
    preset: Preset  #: the job's preset (what the sample was drawn from)
    refs: dict[str, SourceRef]  #: the job's sources by role, layouts as recorded
    face_id: str
    item_role: str  #: "occluders" (NatOcc) or "textures" (RandOcc)
    item_id: str | None  #: the occluder or texture; None for a flat-coloured shape
    params: RenderParams
    backend: str = "cpu"


def job_preset(out: Location) -> tuple[Preset, dict[str, SourceRef], dict[str, Any]]:
    """The preset and source refs an export's job.json records, and the record itself.

    Raises
    ------
    InputError
        naming job.json when it is missing or does not hold a job.
    """
    path = out / JOB
    job = read_record_file(ExportFolder(out), JOB)
    if job is None:
        raise InputError("not an export folder (no job.json)", out)
    try:
        preset = preset_from_dict(job["preset"], path)
        refs = {
            role: SourceRef.from_dict({k: v for k, v in rec.items() if k != "read_from"})
            for role, rec in (job.get("sources") or {}).items()
        }
    except (KeyError, TypeError, AttributeError) as err:
        reason = f"job.json does not record the job's preset and sources ({err})"
        raise InputError(reason, path) from err
    return preset, refs, job


def sample_setup(out: str | Path, row: dict[str, Any]) -> SampleSetup:
    """The editor's setup of the sample of manifest ``row`` of the export in ``out``.

    Raises
    ------
    InputError
        when job.json is unusable, the row records no parameters (a failed sample), or the
        job's sources are not those the sample needs.
    """
    out = location(out)  # a local path, or a URL in a store
    preset, refs, job = job_preset(out)
    index = row.get("index")
    try:
        params = RenderParams.from_dict(row["params"])
    except (KeyError, TypeError, ValidationError) as err:
        reason = f"sample {index} records no parameters to load"
        raise InputError(reason, out / MANIFEST) from err
    role = pool_role(params.mode)
    item = params.occluder_id if role == "occluders" else params.texture_id
    for needed in ("faces", role) if item else ("faces",):
        if needed not in refs:
            raise InputError(f"job.json records no {needed} source", out / JOB)
    return SampleSetup(
        int(index) if isinstance(index, int) else -1,
        preset,
        refs,
        params.face_id,
        role,
        item or None,
        params,
        str(job.get("backend", "cpu")),
    )
