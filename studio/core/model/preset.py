"""Presets: a YAML file that says everything about a data set (engine spec, sources, outputs).

Files are read and written by :mod:`studio.core.io.presets` (safe YAML only). Unknown keys,
wrong types and out-of-range values are rejected with the key path and the reason, as one
line. Older ``schema_version`` files are migrated by the functions in :data:`MIGRATIONS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from studio.core.model.errors import InputError
from studio.core.model.numbers import NUM_TAGS, StrictInt
from studio.core.model.spec import EngineSpec
from studio.core.model.vocab import ImageFormat, OccluderKind, OutputLayout, UpSide

SCHEMA_VERSION = 1

#: ``MIGRATIONS[v]`` turns the raw mapping of a version-``v`` file into version ``v + 1``.
#: Add one entry here whenever SCHEMA_VERSION is raised.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class SourcesSpec(BaseModel):
    """Input folders (any layout the input layer recognises, see ``studio.core.sources``).

    Relative paths are relative to the data root: ``--data ROOT``, by default the preset's own
    folder. A mask folder given here belongs to its image folder: overriding ``faces`` (or
    ``occluders``) on the command line drops it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    faces: str | None = None
    face_masks: str | None = None
    every_face: bool = False  #: photos without masks: every face found is an item
    occluders: str | None = None  #: a folder, or a COCO instances .json
    occluder_masks: str | None = None
    occluder_images: str | None = None  #: image folder of a COCO .json (default: found)
    occluder_categories: tuple[str, ...] | None = None  #: COCO category names or ids
    occluder_min_area: Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)] = 1024.0
    occluder_up: UpSide = "up"
    occluder_kind: OccluderKind = "object"
    textures: str | None = None


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    image_format: ImageFormat = "jpg"
    jpeg_quality: Annotated[StrictInt, Field(ge=1, le=100)] = 95
    occlusion_mask: bool = True
    labels: bool = False
    layout: OutputLayout = "studio"
    count_per_face: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1
    seed: Annotated[StrictInt, Field(ge=0, le=2**63 - 1)] = 0  #: job seed (``--seed`` overrides)


class Preset(EngineSpec):
    """A complete preset: engine parameters plus sources and outputs."""

    schema_version: int = SCHEMA_VERSION
    name: str = "untitled"
    description: str = ""
    sources: SourcesSpec = SourcesSpec()
    output: OutputSpec = OutputSpec()

    def engine(self) -> EngineSpec:
        """The engine part alone."""
        return EngineSpec(**{k: getattr(self, k) for k in EngineSpec.model_fields})


def _field_path(error: Any) -> str:
    """``key.path`` of a validation error (the number form tags left out)."""
    return ".".join(str(p) for p in error["loc"] if p not in NUM_TAGS)


def format_validation_error(err: ValidationError) -> str:
    """First problem of a pydantic error as ``key.path: reason`` (and how many more)."""
    errors = err.errors()
    first = errors[0]
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = len({_field_path(e) for e in errors}) - 1
    return f"{_field_path(first) or 'preset'}: {msg}" + (f" (and {more} more)" if more else "")


def migrate(data: dict[str, Any], source: str | Path = "preset") -> dict[str, Any]:
    """Bring a raw preset mapping from its ``schema_version`` up to :data:`SCHEMA_VERSION`."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"schema_version: must be a positive integer, got {version!r}", source)
    if version > SCHEMA_VERSION:
        raise InputError(
            f"schema_version: {version} is newer than this studio supports ({SCHEMA_VERSION}); "
            "update occlusion-studio",
            source,
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise InputError(f"schema_version: no migration from version {version}", source)
        data = dict(step(dict(data)))
        version += 1
        data["schema_version"] = version
    return data


def preset_from_dict(data: Any, source: str | Path = "preset") -> Preset:
    if data is None:
        raise InputError("preset is empty", source)
    if not isinstance(data, dict):
        raise InputError("preset must be a mapping of keys to values", source)
    data = migrate(data, source)
    try:
        return Preset.model_validate(data)
    except ValidationError as err:
        raise InputError(format_validation_error(err), source) from err


def preset_to_dict(preset: Preset) -> dict[str, Any]:
    """Plain mapping of every field (JSON types), in the model's field order."""
    return preset.model_dump(mode="json")


def preset_json_schema() -> str:
    """JSON Schema of preset files, for editor completion and validation."""
    schema = Preset.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Occlusion Studio preset"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
