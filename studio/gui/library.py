"""What the studio works on: the face, occluder and texture sources (no Qt here).

On the very first start, with nothing chosen, the studio shows the bundled samples
(``studio/resources/samples``, layout in :mod:`studio.core.io.paths`; their browser headers say
"bundled samples"), or procedural faces and occluders from :mod:`studio.core.sources.synthetic`
where those are missing (preview only). Never later: a source that fails to open is a
:class:`FailedSource`, which its browser shows until it is fixed, not a silent substitute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.io.paths import samples as samples_layout
from studio.core.model.errors import InputError, StudioError
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


@dataclass(frozen=True)
class FailedSource:
    """A source that did not open: its browser shows why until another one opens; it has no
    items, and the export is off while a source it needs is one of these."""

    role: str
    path: str
    reason: str  #: why (with the hint in the studio's words), without the path

    root = None
    ref = None
    layout = "failed"

    def ids(self) -> list[str]:
        return []

    def load(self, item_id: str) -> Any:
        raise InputError(f"the {self.role} source did not open: {self.reason}", item_id)


BUNDLED = "bundled samples"  #: what a browser header says of the bundled samples


def header(source: object, bundled: bool = False) -> tuple[str, str]:
    """A browser's header for ``source``: short text (layout, counts) and a tooltip (where,
    and how the layout was recognised)."""
    if isinstance(source, SYNTHETIC):
        return "built-in synthetic samples (preview only)", "procedural samples"
    if isinstance(source, FailedSource):
        name = Path(source.path).name or source.path
        return f"⚠ {name}: did not open · 0 items", f"{source.path}: did not open\n{source.reason}"
    count = len(source.ids())
    problems = len(source.report().problems)
    text = f"{source.layout} · {count} item{'s' if count != 1 else ''}"
    if problems:
        text += f" · ⚠ {problems} unusable"
    tooltip = summary_line(source, count, problems)
    if bundled:  # the layout is the tooltip's: the header is narrow
        text = f"{BUNDLED} · {text.split(' · ', 1)[1]}"
        first = "The samples that ship with the studio (the first start: nothing chosen yet)"
        tooltip = f"{first}\n{tooltip}"
    return text, tooltip


@dataclass(frozen=True)
class Scanned:
    """A source whose ids have been listed (names only), with its browser header."""

    role: str
    source: object
    text: str
    tooltip: str
    bundled: bool = False


def scanned(role: str, source: object, bundled: bool = False) -> Scanned:
    """List ``source``'s ids (its scan: the slow part of opening a big folder, done once and
    kept by the source) and make its header; for a worker thread."""
    source.ids()
    text, tooltip = header(source, bundled)
    return Scanned(role, source, text, tooltip, bundled)



@dataclass
class Library:
    """The current sources of the studio, opened through the input layer."""

    faces: object
    occluders: object
    textures: object
    #: roles that show the bundled samples (the very first start, nothing chosen)
    bundled: set[str] = field(default_factory=set)

    def set(self, role: str, source: object, bundled: bool = False) -> None:
        """Make ``source`` the ``role`` source."""
        setattr(self, role, source)
        if bundled:
            self.bundled.add(role)
        else:
            self.bundled.discard(role)

    def failed(self, role: str) -> FailedSource | None:
        source = getattr(self, role)
        return source if isinstance(source, FailedSource) else None

    def synthetic(self, role: str) -> bool:
        return isinstance(getattr(self, role), SYNTHETIC)

    @classmethod
    def default(cls, samples: Path = SAMPLES) -> Library:
        """The bundled samples, or the synthetic fallback for each missing folder."""
        folders = samples_layout(samples)
        found: dict[str, object] = {
            "faces": SyntheticFaces(),
            "occluders": SyntheticOccluders(),
            "textures": SyntheticTextures(),
        }
        bundled: set[str] = set()
        for role, folder in (
            ("faces", folders.faces.parent),
            ("occluders", folders.occluders),
            ("textures", folders.textures),
        ):
            try:
                source = open_source(folder, role)
                if source.ids():
                    found[role] = source
                    bundled.add(role)
            except StudioError:
                continue
        return cls(**found, bundled=bundled)

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
