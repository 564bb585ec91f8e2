"""Where bundled resources live."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    """The bundled ``resources/`` folder (samples, models, licences)."""
    return REPO_ROOT / "resources"


def samples_dir() -> Path:
    """Bundled samples: faces/, face_masks/, occluders/ (RGBA), textures/."""
    return resources_dir() / "samples"


def presets_dir() -> Path:
    return REPO_ROOT / "presets"
