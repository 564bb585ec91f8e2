"""Typed errors of the engine. Every user-facing failure names a file (or input) and a reason."""

from __future__ import annotations

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


class InputError(StudioError):
    """An input (image, mask, occluder, preset) cannot be used."""


class PlacementError(StudioError):
    """No placement satisfies the requested constraints (e.g. face coverage)."""


class RenderError(StudioError):
    """Rendering with the given parameters would give an unusable result."""


class BackendError(StudioError):
    """The requested compute backend is not available."""
