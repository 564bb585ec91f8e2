"""Preset file actions of the main window: new, open, save, save as, recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.core.export import job_sources
from studio.core.model.errors import StudioError

MAX_RECENT = 8


class PresetFileActions:
    """Mixed into :class:`~studio.gui.window.MainWindow`, which provides ``doc``, ``panel``,
    ``settings``, ``recent_menu``, ``show_message`` and ``statusBar``."""

    #: False: unsaved changes are discarded without asking (benchmarks and tests drive the
    #: window with no one to answer)
    ask_before_discarding = True

    def open_preset(self, path: str | Path, with_sources: bool = True) -> bool:
        """Open a preset; with ``with_sources`` the browsers also open the sources it names
        (those that open: the others are named in a message and keep what they show)."""
        try:
            self.doc.load(path)
        except StudioError as err:
            self.show_message(err.line())
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
        start = self.settings.value("folders/presets", str(Path.cwd()))
        path, _ = QFileDialog.getOpenFileName(self, "Open preset", start, "Presets (*.yaml *.yml)")
        if path:
            self.settings.setValue("folders/presets", str(Path(path).parent))
            self.open_preset(path)

    def new_preset(self) -> None:
        if self._confirm_discard():
            self.doc.new()

    def save_preset(self) -> bool:
        if self.doc.path is None:
            return self.save_preset_as()
        return self._save(self.doc.path)

    def save_preset_as(self) -> bool:
        start = self.settings.value("folders/presets", str(Path.cwd()))
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save preset",
            str(Path(start) / f"{self.doc.preset.name}.yaml"),
            "Presets (*.yaml)",
        )
        return bool(path) and self._save(Path(path))

    def _save(self, path: Path) -> bool:
        try:
            self.doc.save(path)
        except StudioError as err:
            self.show_message(err.line())
            return False
        self._add_recent(str(path))
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    def _confirm_discard(self) -> bool:
        if not self.doc.dirty or not self.ask_before_discarding:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "The preset has unsaved changes. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
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
