"""What the studio works on: the face, occluder and texture sources (no Qt here).

The bundled samples (``resources/samples``, layout in :mod:`studio.core.paths`) are used when
present; otherwise procedural faces and occluders from :mod:`studio.core.synthetic`, so the
studio always opens with something to work on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.inputs import Face, Occluder, Texture
from studio.core.paths import samples as samples_layout
from studio.core.sources import FolderFaceSource, FolderOccluderSource, TextureFolder
from studio.core.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

SAMPLES = samples_layout().root
SYNTHETIC_COUNT = 6


class SyntheticFaces:
    """Procedural faces (``synthetic-face-N``), the fallback when no photos are at hand."""

    root = None

    def __init__(self, size: int = 384) -> None:
        self.size = size

    def ids(self) -> list[str]:
        return [f"synthetic-face-{i}" for i in range(SYNTHETIC_COUNT)]

    def load(self, item_id: str) -> Face:
        return synthetic_face(self.size, seed=int(item_id.rsplit("-", 1)[1]))


class SyntheticOccluders:
    root = None

    def ids(self) -> list[str]:
        return [f"synthetic-hand-{i}" for i in range(SYNTHETIC_COUNT)]

    def load(self, item_id: str) -> Occluder:
        return synthetic_occluder(256, seed=int(item_id.rsplit("-", 1)[1]))


class SyntheticTextures:
    root = None

    def ids(self) -> list[str]:
        return [f"synthetic-texture-{i}" for i in range(SYNTHETIC_COUNT)]

    def load(self, item_id: str) -> Texture:
        return synthetic_texture(256, seed=int(item_id.rsplit("-", 1)[1]))


def face_folder(folder: Path) -> FolderFaceSource:
    """Faces in ``folder`` with masks in a sibling ``face_masks`` (or ``masks``) folder."""
    folder = Path(folder)
    for name in ("face_masks", "masks"):
        if (folder.parent / name).is_dir():
            return FolderFaceSource(folder, folder.parent / name)
        if (folder / name).is_dir():
            return FolderFaceSource(folder, folder / name)
    return FolderFaceSource(folder, folder.parent / "face_masks")


def occluder_folder(folder: Path, up: str = "up", kind: str = "object") -> FolderOccluderSource:
    """RGBA occluders in ``folder`` (masks in a sibling ``occluder_masks`` folder if present)."""
    folder = Path(folder)
    masks = folder.parent / "occluder_masks"
    return FolderOccluderSource(folder, masks if masks.is_dir() else None, kind=kind, up=up)


@dataclass
class Library:
    """The current sources of the studio."""

    faces: object
    occluders: object
    textures: object

    @classmethod
    def default(cls, samples: Path = SAMPLES) -> Library:
        """The bundled samples, or the synthetic fallback for each missing folder."""
        faces: object = SyntheticFaces()
        occluders: object = SyntheticOccluders()
        textures: object = SyntheticTextures()
        folders = samples_layout(samples)
        if folders.faces.is_dir() and folders.face_masks.is_dir():
            source = FolderFaceSource(folders.faces, folders.face_masks)
            if source.ids():
                faces = source
        if folders.occluders.is_dir():
            source = occluder_folder(folders.occluders)
            if source.ids():
                occluders = source
        if folders.textures.is_dir():
            source = TextureFolder(folders.textures)
            if source.ids():
                textures = source
        return cls(faces, occluders, textures)

    def folders(self) -> dict[str, str | None]:
        """Absolute folders of the sources (None for the synthetic ones)."""
        out: dict[str, str | None] = {
            "faces": None,
            "face_masks": None,
            "occluders": None,
            "occluder_masks": None,
            "textures": None,
        }
        if isinstance(self.faces, FolderFaceSource):
            out["faces"] = str(self.faces.root.resolve())
            out["face_masks"] = str(self.faces.masks.resolve())
        if isinstance(self.occluders, FolderOccluderSource):
            out["occluders"] = str(self.occluders.root.resolve())
            if self.occluders.masks is not None:
                out["occluder_masks"] = str(self.occluders.masks.resolve())
        if isinstance(self.textures, TextureFolder):
            out["textures"] = str(self.textures.root.resolve())
        return out
