"""Where bundled resources live, and the layout of the bundled samples."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    """The bundled ``resources/`` folder (samples, models, licences)."""
    return REPO_ROOT / "resources"


def presets_dir() -> Path:
    return REPO_ROOT / "presets"


def cache_root() -> Path:
    """The user cache folder of the project (automatic face masks, thumbnails):
    ``platformdirs.user_cache_dir("occlusion-studio")``, or ``STUDIO_CACHE_DIR`` when set."""
    override = os.environ.get("STUDIO_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("occlusion-studio"))


@dataclass(frozen=True)
class SampleFolders:
    """The folders of a samples tree: faces/images, faces/masks, occluders (RGBA), textures."""

    root: Path

    @property
    def faces(self) -> Path:
        return self.root / "faces" / "images"

    @property
    def face_masks(self) -> Path:
        return self.root / "faces" / "masks"

    @property
    def occluders(self) -> Path:
        return self.root / "occluders"

    @property
    def textures(self) -> Path:
        return self.root / "textures"


def samples(root: Path | None = None) -> SampleFolders:
    """The bundled samples (or a tree of the same layout under ``root``)."""
    return SampleFolders(resources_dir() / "samples" if root is None else Path(root))
