"""The studio's words for what the user can change to get past an error (no Qt here).

Core errors carry a :data:`~studio.core.model.errors.Hint` instead of a command-line flag; the
command line words it with flags (``studio.commands.flags.HINTS``), the studio with its own
buttons, boxes and browsers. Every error the studio shows goes through :func:`error_text`.
"""

from __future__ import annotations

from studio.core.model.errors import Hint, StudioError

#: the studio's words for each hint of a core error
HINTS: dict[Hint, str] = {
    "resume": "tick Resume to continue it, or choose another folder",
    "out": "choose another output folder",
    "data": "open the preset's folders in the browsers (Open…)",
    "faces": "open a folder of faces in the Faces browser",
    "occluders": "open a folder of occluders in the Occluders browser",
    "textures": "open a folder of textures in the Textures browser",
    "occluder_masks": "open the occluders as images + masks (drop the folder that holds both)",
    "face_mask": "put a mask beside the face (masks/NAME.png) or open faces that have masks",
    "occluder_mask": "use RGBA cut-outs, or open the occluders with their masks",
    "engine": "the studio exports with the local engine: run studio export --engine ray",
}


def hinted(line: str, hint: str | None) -> str:
    """``line`` and, when the hint is known, the studio's words for it."""
    words = HINTS.get(hint) if hint else None  # type: ignore[call-overload]
    return f"{line} ({words})" if words else line


def error_text(err: BaseException, what: str = "") -> str:
    """One line for an error the studio shows: a core error's message with its hint in the
    studio's words; any other error with its type (``what`` names the item it concerns)."""
    if isinstance(err, StudioError):
        return hinted(err.line(), err.hint)
    return f"{what + ': ' if what else ''}{type(err).__name__}: {err}"
