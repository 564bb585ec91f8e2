"""What the studio works on: the face, occluder and texture sources (no Qt here).

The bundled samples (``studio/resources/samples``, layout in :mod:`studio.core.io.paths`) are
used when present; otherwise procedural faces and occluders from
:mod:`studio.core.sources.synthetic`, so the studio always opens with something to work on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.io.paths import samples as samples_layout
from studio.core.model.errors import StudioError
from studio.core.sources import (
    ROLES,
    SourceRef,
    open_ref,
    open_source,
    refs_for_path,
    summary_line,
)
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

SAMPLES = samples_layout().root
SYNTHETIC_COUNT = 6


class SyntheticSource:
    """Procedural items (``synthetic-<what>-N``): the fallback when no folder is at hand."""

    root = None
    ref = None  #: a preview-only source: nothing the exporter can open

    def __init__(self, what: str, make: Callable[[int, int], Any], size: int) -> None:
        self.what, self.make, self.size = what, make, size

    def ids(self) -> list[str]:
        return [f"synthetic-{self.what}-{i}" for i in range(SYNTHETIC_COUNT)]

    def load(self, item_id: str) -> Any:
        return self.make(self.size, int(item_id.rsplit("-", 1)[1]))


def SyntheticFaces(size: int = 384) -> SyntheticSource:
    return SyntheticSource("face", synthetic_face, size)


def SyntheticOccluders(size: int = 256) -> SyntheticSource:
    return SyntheticSource("hand", synthetic_occluder, size)


def SyntheticTextures(size: int = 256) -> SyntheticSource:
    return SyntheticSource("texture", synthetic_texture, size)


SYNTHETIC = (SyntheticSource,)


def header(source: object) -> tuple[str, str]:
    """A browser's header for ``source``: short text (layout, counts) and a tooltip (where,
    and how the layout was recognised)."""
    if isinstance(source, SYNTHETIC):
        return "built-in synthetic samples (preview only)", "procedural samples"
    count = len(source.ids())
    problems = len(source.report().problems)
    text = f"{source.layout} · {count} item{'s' if count != 1 else ''}"
    if problems:
        text += f" · ⚠ {problems} unusable"
    return text, summary_line(source, count, problems)


@dataclass(frozen=True)
class Scanned:
    """A source whose ids have been listed (names only), with its browser header."""

    role: str
    source: object
    text: str
    tooltip: str


def scanned(role: str, source: object) -> Scanned:
    """List ``source``'s ids (its scan: the slow part of opening a big folder, done once and
    kept by the source) and make its header; for a worker thread."""
    source.ids()
    text, tooltip = header(source)
    return Scanned(role, source, text, tooltip)



@dataclass
class Library:
    """The current sources of the studio, opened through the input layer."""

    faces: object
    occluders: object
    textures: object

    @classmethod
    def default(cls, samples: Path = SAMPLES) -> Library:
        """The bundled samples, or the synthetic fallback for each missing folder."""
        folders = samples_layout(samples)
        found: dict[str, object] = {
            "faces": SyntheticFaces(),
            "occluders": SyntheticOccluders(),
            "textures": SyntheticTextures(),
        }
        for role, folder in (
            ("faces", folders.faces.parent),
            ("occluders", folders.occluders),
            ("textures", folders.textures),
        ):
            try:
                source = open_source(folder, role)
                if source.ids():
                    found[role] = source
            except StudioError:
                continue
        return cls(**found)

    @staticmethod
    def opened(path: str | Path, role: str) -> dict[str, object]:
        """The sources opening ``path`` (dropped on, or chosen in, the ``role`` browser)
        gives, by role: any layout of the input layer; a reference dataset folder fills every
        role it holds, a CelebAMask-HQ folder the faces and a COCO file the occluders. Nothing
        changes here (the studio sets them when the worker that opened them is done).

        Raises
        ------
        InputError
            naming the folder and the reason when it cannot be opened.
        """
        return {r: open_ref(ref) for r, ref in refs_for_path(path, role).items()}

    def refs(self) -> dict[str, SourceRef]:
        """The refs of the open sources (the synthetic ones left out), for the exporter."""
        out = {}
        for role in ROLES:
            ref = getattr(getattr(self, role), "ref", None)
            if ref is not None:
                out[role] = ref
        return out
