"""Preset file actions of the main window: new, open, save, save as, recent files.

Shipped presets are read-only templates: opening one opens a copy named after it, and saving
it asks where (the user's presets folder by default); nothing is ever written into the
studio's install. Save and Save as write what the studio shows: the browsers' sources
(:func:`~studio.gui.presets_io.saved_preset`) and the values at their rows' precision.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.core.export import job_sources
from studio.core.io.paths import user_presets_dir
from studio.core.model.errors import StudioError
from studio.gui.presets_io import saved_preset
from studio.gui.wording import error_text

MAX_RECENT = 8
PRESETS = "Presets"  #: the source of the messages about preset files


class PresetFileActions:
    """Mixed into :class:`~studio.gui.window.MainWindow`, which provides ``doc``, ``panel``,
    ``library``, ``settings``, ``recent_menu``, ``show_message``, ``open_ref`` and
    ``statusBar``."""

    #: False: unsaved changes are discarded without asking (benchmarks and tests drive the
    #: window with no one to answer)
    ask_before_discarding = True

    def open_preset(self, path: str | Path, with_sources: bool = True) -> bool:
        """Open a preset; with ``with_sources`` the browsers also open the sources it names
        (one that does not open is shown as failed in its browser)."""
        try:
            self.doc.load(path)
        except StudioError as err:
            self.show_message(error_text(err), PRESETS)
            return False
        self._add_recent(str(path))
        self.panel.refresh()
        if with_sources:
            for ref in job_sources(self.doc.preset, path, check=False).values():
                self.open_ref(ref)
        return True

    def open_preset_dialog(self) -> None:
        if not self._confirm_discard():
            return
        start = self.settings.value("folders/presets") or str(user_presets_dir())
        path, _ = QFileDialog.getOpenFileName(self, "Open preset", start, "Presets (*.yaml *.yml)")
        if path:
            self.settings.setValue("folders/presets", str(Path(path).parent))
            self.open_preset(path)

    def new_preset(self) -> None:
        if self._confirm_discard():
            self.doc.new()

    def save_preset(self) -> bool:
        """Save to the document's file; a new preset or a copy of a shipped one asks where."""
        if self.doc.path is None:
            return self.save_preset_as()
        return self._save(self.doc.path)

    def save_preset_as(self) -> bool:
        path = self.ask_save_path(self._suggested_path())
        if path is None:
            return False
        self.settings.setValue("folders/presets", str(path.parent))
        return self._save(path)

    def _suggested_path(self) -> Path:
        """Where Save as proposes to write: the last folder saved to, else the user's
        presets folder (made when missing), under the preset's name."""
        remembered = self.settings.value("folders/presets")
        folder = Path(remembered) if remembered else user_presets_dir()
        if not remembered:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                self.show_message(f"{folder}: cannot be made: {err.strerror}", PRESETS)
        name = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.doc.preset.name)
        return folder / f"{name or 'preset'}.yaml"

    def ask_save_path(self, suggested: Path) -> Path | None:
        """The file chosen in the save dialog (None: cancelled)."""
        path, _ = QFileDialog.getSaveFileName(
            self, "Save preset", str(suggested), "Presets (*.yaml)"
        )
        if not path:
            return None
        path = Path(path)
        return path if path.suffix in (".yaml", ".yml") else path.with_suffix(".yaml")

    def _save(self, path: Path) -> bool:
        try:
            preset = saved_preset(self.doc.preset, self.library.refs(), self.doc.base, path)
            self.doc.save(path, preset)
        except StudioError as err:
            self.show_message(error_text(err), PRESETS)
            return False
        self._add_recent(str(path))
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    def _confirm_discard(self) -> bool:
        """Whether the document may be replaced: not changed, saved, or its changes dropped
        (asked: Save, Discard, Cancel)."""
        if not self.doc.dirty or not self.ask_before_discarding:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"“{self.doc.preset.name}” has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_preset()
        return answer == QMessageBox.StandardButton.Discard

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self._recent() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._fill_recent()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            return [value]
        return list(value or [])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            act = self.recent_menu.addAction(path)
            act.triggered.connect(
                lambda _=False, p=path: self._confirm_discard() and self.open_preset(p)
            )
        self.recent_menu.setEnabled(bool(self._recent()))
