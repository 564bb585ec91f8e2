"""Typed errors of the engine. Every user-facing failure names a file (or input) and a reason."""

from __future__ import annotations

import errno as _errno
import os
from pathlib import Path
from typing import Literal

#: What the user can change to get past an error, in the job's own terms (no command-line
#: flag, no button): each front end words it (``studio.commands.flags.HINTS``, the studio's).
#: resume: continue the job already in the folder; out: choose another output folder;
#: data: give the folder the preset's relative paths are relative to; faces / occluders /
#: textures / occluder_masks: give that source (folder); face_mask / occluder_mask: give the
#: mask file of a single image; engine: the option needs another export engine.
Hint = Literal[
    "resume",
    "out",
    "data",
    "faces",
    "occluders",
    "textures",
    "occluder_masks",
    "face_mask",
    "occluder_mask",
    "engine",
]


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160))}


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``): a file name shown on a terminal
    or written in a name never carries a newline or an escape sequence."""
    return text.translate(_CONTROL)


class StudioError(Exception):
    """Base class of errors shown to users as one line, without a traceback.

    ``hint`` names what the user can change (:data:`Hint`); the front end words it."""

    def __init__(
        self, reason: str, path: str | os.PathLike[str] | None = None, *, hint: Hint | None = None
    ) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message: ``PATH: reason`` or just ``reason``."""
        return f"{printable(self.path)}: {self.reason}" if self.path else self.reason

    def __reduce__(self) -> tuple:
        # keeps reason and path apart across processes (worker -> driver)
        return (type(self), (self.reason, self.path), self.__dict__)


class InputError(StudioError):
    """An input (image, mask, occluder, preset) cannot be used."""


class PlacementError(StudioError):
    """No placement satisfies the requested constraints (e.g. face coverage)."""


class RenderError(StudioError):
    """Rendering with the given parameters would give an unusable result."""


class BackendError(StudioError):
    """The requested compute backend is not available."""


class WriteError(StudioError):
    """A file could not be written. ``errno`` tells why. Errors of one file's name (too long,
    not encodable by the file system) only fail the sample being written; every other one
    (disk full, no permission, read-only or failing disk, a file where a folder should be)
    is :attr:`fatal`: it stops a job, which stays resumable."""

    NAME_ERRNOS = frozenset({_errno.ENAMETOOLONG, _errno.EILSEQ, _errno.EINVAL})

    def __init__(
        self,
        reason: str,
        path: str | os.PathLike[str] | None = None,
        errno: int = 0,
        *,
        hint: Hint | None = None,
    ) -> None:
        self.errno = errno
        super().__init__(reason, path, hint=hint)

    def __reduce__(self) -> tuple:
        return (type(self), (self.reason, self.path, self.errno), self.__dict__)

    @property
    def fatal(self) -> bool:
        return self.errno not in self.NAME_ERRNOS

    @classmethod
    def from_os_error(cls, err: OSError, path: str | Path) -> WriteError:
        return cls(f"cannot write: {err.strerror or err}", path, err.errno or 0)
