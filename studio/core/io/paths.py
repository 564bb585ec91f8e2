"""Where bundled resources live (inside the package, so an installed wheel has them), the
layout of the bundled samples, the shipped presets and the user's own presets by name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from studio.core.model.errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    """The bundled ``studio/resources/`` folder (samples, models, licences)."""
    return PACKAGE_DIR / "resources"


def presets_dir() -> Path:
    """The shipped presets (``studio/presets/``; ``presets/`` in a checkout links to it)."""
    return PACKAGE_DIR / "presets"


def shipped_presets() -> dict[str, Path]:
    """The shipped presets by name (file stem), sorted."""
    return {p.stem: p for p in sorted(presets_dir().glob("*.yaml"))}


def user_data_root() -> Path:
    """The user data folder of the project (the user's presets):
    ``platformdirs.user_data_dir("occlusion-studio")``, or ``STUDIO_DATA_DIR`` when set."""
    override = os.environ.get("STUDIO_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("occlusion-studio"))


def user_presets_dir() -> Path:
    """Where the user's own presets live (the studio saves there by default)."""
    return user_data_root() / "presets"


def user_presets() -> dict[str, Path]:
    """The user's presets by name (file stem), sorted; empty when the folder does not exist."""
    folder = user_presets_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml")) if p.is_file()}


def inside(path: str | Path, folder: Path) -> bool:
    """Whether ``path`` (resolved, through links) lies in ``folder``."""
    try:
        Path(path).expanduser().resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def in_install(path: str | Path) -> bool:
    """Whether ``path`` lies inside the installed package: a shipped preset (a read-only
    template) or a bundled resource; the studio never writes there."""
    return inside(path, PACKAGE_DIR)


def preset_path(name_or_path: str | Path) -> Path:
    """A preset file: the path itself when it exists (or looks like a path), else the
    shipped preset of that name (``natocc-hands``), else the user's preset of that name.

    A shipped name wins over a user's preset of the same name: a shipped name means the same
    preset on every machine (the README's commands, shared scripts); ``studio presets`` marks
    the user's preset it hides, and the user's file is still reachable by its path.

    Raises
    ------
    InputError
        for a name that is neither a file nor a preset (the names are listed).
    """
    path = Path(name_or_path).expanduser()
    shipped = shipped_presets()
    if not path.exists() and path.stem in shipped and path.parent.name == "presets":
        raise InputError(
            f"no such file here (outside a checkout); the shipped preset of this name is "
            f"{path.stem!r}: give its name instead of a path",
            path,
        )
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    yours = user_presets()
    name = str(name_or_path)
    if name in shipped:
        return shipped[name]
    if name in yours:
        return yours[name]
    names = ", ".join(shipped)
    mine = f"; yours: {', '.join(yours)}" if yours else ""
    raise InputError(f"no such preset file, nor a preset name (shipped: {names}{mine})", path)


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


def models_dir() -> Path:
    """The automatic face mask's model files."""
    return resources_dir() / "models"


def file_key(*parts: Path | str | None) -> str:
    """A cache key from file identities (resolved path, size, modification time) and extra
    strings: cheap, unlike hashing decoded pixels, and it changes when a file is rewritten."""
    items = []
    for part in parts:
        if isinstance(part, Path):
            st = part.stat()
            items.append(f"{part.resolve()}:{st.st_size}:{st.st_mtime_ns}")
        else:
            items.append(str(part))
    return "file|" + "|".join(items)
