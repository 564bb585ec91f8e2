"""The preset the studio hands to the exporter (no Qt here)."""

from __future__ import annotations

from dataclasses import replace

from studio.core.model.preset import Preset, SourcesSpec
from studio.core.sources import SourceRef, sources_spec


def export_snapshot(preset: Preset, refs: dict[str, SourceRef]) -> Preset:
    """The preset to hand to the exporter: its sources are exactly those the studio's
    browsers show (absolute paths, layouts and options); roles the browsers show no real
    source for (the synthetic samples) are left unset. What the occluders are (kind, top
    side) stays the preset's say."""
    refs = dict(refs)
    occluders = refs.get("occluders")
    if occluders is not None:
        s = preset.sources
        refs["occluders"] = replace(occluders, kind=s.occluder_kind, up=s.occluder_up)
    return preset.model_copy(update={"sources": sources_spec(refs, SourcesSpec())})
