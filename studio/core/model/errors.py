"""Typed errors of the engine. Every user-facing failure names a file (or input) and a reason."""

from __future__ import annotations

import errno as _errno
from pathlib import Path


class StudioError(Exception):
    """Base class of errors shown to users as one line, without a traceback."""

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message: ``PATH: reason`` or just ``reason``."""
        return f"{self.path}: {self.reason}" if self.path else self.reason

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

    def __init__(self, reason: str, path: str | Path | None = None, errno: int = 0) -> None:
        self.errno = errno
        super().__init__(reason, path)

    def __reduce__(self) -> tuple:
        return (type(self), (self.reason, self.path, self.errno), self.__dict__)

    @property
    def fatal(self) -> bool:
        return self.errno not in self.NAME_ERRNOS

    @classmethod
    def from_os_error(cls, err: OSError, path: str | Path) -> WriteError:
        return cls(f"cannot write: {err.strerror or err}", path, err.errno or 0)
