"""Presets: a YAML file that says everything about a data set (engine spec, sources, outputs).

Loading uses safe YAML only; unknown keys, wrong types and out-of-range values are rejected
with the key path and the reason, as one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from studio.core.errors import InputError
from studio.core.spec import EngineSpec

SCHEMA_VERSION = 1


class SourcesSpec(BaseModel):
    """Input folders; relative paths are relative to the preset file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    faces: str | None = None
    face_masks: str | None = None
    occluders: str | None = None
    occluder_masks: str | None = None
    occluder_up: Literal["up", "down", "left", "right"] = "up"
    occluder_kind: Literal["hand", "object", "other"] = "object"
    textures: str | None = None


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    image_format: Literal["jpg", "png"] = "jpg"
    jpeg_quality: Annotated[int, Field(ge=1, le=100)] = 95
    occlusion_mask: bool = True
    labels: bool = False
    layout: Literal["studio", "seed"] = "studio"
    count_per_face: Annotated[int, Field(ge=1, le=10_000)] = 1


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


def format_validation_error(err: ValidationError) -> str:
    """First problem of a pydantic error as ``key.path: reason``."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-", "float")))
    loc = loc.replace(".Range", "")
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = len(err.errors()) - 1
    return f"{loc or 'preset'}: {msg}" + (f" (and {more} more)" if more > 0 else "")


def preset_from_dict(data: Any, source: str | Path = "preset") -> Preset:
    if data is None:
        raise InputError("preset is empty", source)
    if not isinstance(data, dict):
        raise InputError("preset must be a mapping of keys to values", source)
    try:
        return Preset.model_validate(data)
    except ValidationError as err:
        raise InputError(format_validation_error(err), source) from None


def load_preset(path: str | Path) -> Preset:
    """Read and validate a preset file (safe YAML)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("preset file not found", path) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read preset: {err}", path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"not valid YAML{where}", path) from None
    return preset_from_dict(data, path)
