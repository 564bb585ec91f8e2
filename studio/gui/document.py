"""The open document: a preset, the pinned preview parameters, its file and undo history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.io.presets import load_preset, save_preset
from studio.core.model.params import RenderParams
from studio.core.model.preset import Preset
from studio.gui import parameters as P

EDIT_ID = 6001


class EditCommand(QUndoCommand):
    """Replace (preset, params); consecutive edits with the same merge key become one step."""

    def __init__(
        self,
        doc: StudioDocument,
        text: str,
        preset: Preset,
        params: RenderParams,
        merge_key: Any = None,
    ) -> None:
        super().__init__(text)
        self.doc = doc
        self.old = (doc.preset, doc.params)
        self.new = (preset, params)
        self.merge_key = merge_key

    def id(self) -> int:
        return EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCommand) or self.merge_key is None:
            return False
        if other.merge_key != self.merge_key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.set_state(*self.new)

    def undo(self) -> None:
        self.doc.set_state(*self.old)


class StudioDocument(QObject):
    """Holds the preset and the preview's pinned parameters; every edit goes through undo."""

    changed = Signal()  #: preset or params changed
    titleChanged = Signal(str)

    def __init__(self, preset: Preset | None = None, params: RenderParams | None = None) -> None:
        super().__init__()
        self.preset = preset or Preset(name="untitled")
        self.params = params or P.initial_params(self.preset)
        self.path: Path | None = None
        self._saved = self.preset
        self.undo_stack = QUndoStack(self)

    # ---- state ----------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.preset != self._saved

    def title(self) -> str:
        name = self.path.name if self.path else f"{self.preset.name} (unsaved)"
        return f"{name}{' *' if self.dirty else ''} — Occlusion Studio"

    def set_state(self, preset: Preset, params: RenderParams) -> None:
        """Show (preset, params) now, outside the undo history: what the undo commands do
        (edits go through :meth:`edit`)."""
        self.preset, self.params = preset, params
        self.changed.emit()
        self.titleChanged.emit(self.title())

    # ---- edits ----------------------------------------------------------------------------
    def edit(
        self,
        text: str,
        preset: Preset | None = None,
        params: RenderParams | None = None,
        merge_key: Any = None,
    ) -> None:
        """Apply an edit through the undo stack (no-op when nothing changes)."""
        preset = self.preset if preset is None else preset
        params = self.params if params is None else params
        if preset == self.preset and params == self.params:
            return
        self.undo_stack.push(EditCommand(self, text, preset, params, merge_key))

    def set_params(self, params: RenderParams, text: str = "Move", merge_key: Any = None) -> None:
        self.edit(text, params=params, merge_key=merge_key)

    def set_pinned(self, param: P.Param, value: Any) -> None:
        """Change the preview value of a row; a fixed (non-range) preset value follows it."""
        params = P.with_pinned_value(self.params, param, value)
        preset = self.preset
        if param.kind == "num":
            lo, hi = P.spec_bounds(preset, param)
            if lo == hi:
                preset = P.with_spec_value(preset, param, (float(value), float(value)))
        self.edit(f"Set {param.label}", preset, params, merge_key=("pin", param.key))

    def set_spec(self, param: P.Param, value: Any) -> None:
        """Change the preset value (a range or a fixed value); raises InputError when invalid."""
        preset = P.with_spec_value(self.preset, param, value)
        params = self.params
        if param.kind != "num" and param.pinned is not None:
            params = P.with_pinned_value(params, param, value)
        if param.key == "mode" and value == "randocc" and params.shape is None:
            params = P.with_new_shape(preset, params, 0)
        self.edit(f"Set {param.label} range", preset, params, merge_key=("spec", param.key))

    # ---- files ----------------------------------------------------------------------------
    def load(self, path: str | Path) -> None:
        """Open a preset file (raises InputError with the reason; the document is unchanged)."""
        preset = load_preset(path)
        self.path = Path(path)
        self._saved = preset
        self.undo_stack.clear()
        self.set_state(preset, P.initial_params(preset))

    def new(self) -> None:
        self.path = None
        self._saved = Preset(name="untitled")
        self.undo_stack.clear()
        self.set_state(self._saved, P.initial_params(self._saved))

    def save(self, path: str | Path | None = None) -> Path:
        """Write the preset (atomically) to ``path`` or its current file."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no file name")
        save_preset(self.preset, target)
        self.path = target
        self._saved = self.preset
        self.titleChanged.emit(self.title())
        return target
