"""The open document: a preset, the pinned preview parameters, its file and undo history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.io.paths import in_install
from studio.core.io.presets import load_preset, save_preset
from studio.core.model.errors import InputError
from studio.core.model.params import RenderParams
from studio.core.model.preset import Preset
from studio.gui import parameters as P
from studio.gui.row_state import follow, precise, widened

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
        self.path: Path | None = None  #: where Save writes (None: Save asks)
        #: the file the preset came from: its relative sources are relative to its folder
        self.origin: Path | None = None
        self.template: str | None = None  #: the shipped preset this is a copy of
        self._saved = self.preset
        self.undo_stack = QUndoStack(self)

    # ---- state ----------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.preset != self._saved

    @property
    def base(self) -> Path | None:
        """The folder the preset's relative source paths are relative to."""
        return self.origin.parent if self.origin is not None else None

    def title(self) -> str:
        if self.path:
            name = self.path.name
        elif self.template:
            name = f"{self.preset.name} (a copy of the shipped {self.template}, not saved yet)"
        else:
            name = f"{self.preset.name} (unsaved)"
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

    def tune(self, params: RenderParams, text: str = "Move", merge_key: Any = None) -> None:
        """The one path of every pinned edit (canvas drags, the panel's sliders, Flip, Centre,
        New shape): a fixed preset value follows its pinned value (:func:`row_state.follow`),
        so the Samples tab and the export draw what the panel shows."""
        preset, params = follow(self.preset, self.params, params)
        self.edit(text, preset, params, merge_key)

    def show_sample(self, params: RenderParams) -> None:
        """Show the parameters of a sample the preset drew (a Samples tile): the preset is
        not changed (the sample came from it)."""
        self.edit("Load sample", params=params)

    def set_pinned(self, param: P.Param, value: Any) -> None:
        """Change the preview value of a row (see :meth:`tune`)."""
        self.tune(P.with_pinned_value(self.params, param, value), f"Set {param.label}",
                  merge_key=("pin", param.key))  # fmt: skip

    def set_spec(self, param: P.Param, value: Any) -> None:
        """Change the preset value (a range or a fixed value, at the row's precision); raises
        InputError when invalid."""
        if param.kind == "num" and isinstance(value, tuple):
            value = tuple(precise(param, v) for v in value)
        elif param.kind in ("prob", "float") and isinstance(value, float):
            value = round(value, param.decimals)
        preset = P.with_spec_value(self.preset, param, value)
        params = self.params
        if param.kind != "num" and param.pinned is not None:
            params = P.with_pinned_value(params, param, value)
        elif param.pinned is not None and isinstance(value, tuple) and value[0] == value[1]:
            params = P.with_pinned_value(params, param, value[0])  # a fixed value is shown
        if param.key == "mode" and value == "randocc" and params.shape is None:
            params = P.with_new_shape(preset, params, 0)
        self.edit(f"Set {param.label} range", preset, params, merge_key=("spec", param.key))

    def widen(self, param: P.Param) -> None:
        """Widen ``param``'s range to include its pinned value (the row's one action)."""
        self.edit(f"Widen {param.label} range", widened(self.preset, self.params, param))

    # ---- files ----------------------------------------------------------------------------
    def load(self, path: str | Path) -> None:
        """Open a preset file (raises InputError with the reason; the document is unchanged).

        A shipped preset is a read-only template: the document is a copy named after it,
        with no file to save to (Save asks where)."""
        preset = load_preset(path)
        self.origin = Path(path)
        if in_install(path):
            self.template = preset.name
            self.path = None
            preset = preset.model_copy(update={"name": f"{preset.name}-copy"})
        else:
            self.template = None
            self.path = Path(path)
        self._saved = preset
        self.undo_stack.clear()
        self.set_state(preset, P.initial_params(preset))

    def new(self) -> None:
        self.path = self.origin = self.template = None
        self._saved = Preset(name="untitled")
        self.undo_stack.clear()
        self.set_state(self._saved, P.initial_params(self._saved))

    def save(self, path: str | Path | None = None, preset: Preset | None = None) -> Path:
        """Write ``preset`` (by default the document's; atomically) to ``path`` or the
        document's file; it becomes the document's preset, file and origin. Never into the
        studio's install (InputError)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no file name")
        if in_install(target):
            raise InputError(
                "is inside the studio's install: the shipped presets are read-only "
                "templates; save in your presets folder",
                target,
            )
        preset = self.preset if preset is None else preset
        save_preset(preset, target)
        self.path = self.origin = target
        self.template = None
        self.preset = self._saved = preset
        self.titleChanged.emit(self.title())
        return target
