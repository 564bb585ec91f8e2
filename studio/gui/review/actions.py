"""The main window's side of the review: opening Review windows, and "Open in editor".

Open in editor loads an exported sample as the export made it: the job's preset becomes the
document (unsaved), the job's sources open in the browsers, and the sample's face, occluder
(or texture) and exact parameters go to the Preview. The sources are opened and the items
decoded on a worker; the window changes when they arrive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QInputDialog

from studio.core.export.records import is_export
from studio.core.export.review.editor import SampleSetup, sample_setup
from studio.core.io.remote import is_url
from studio.core.sources import open_ref
from studio.gui.library import Scanned, scanned
from studio.gui.review.window import ReviewWindow
from studio.gui.wording import error_text


class ReviewActions:
    """Mixed into :class:`~studio.gui.window.MainWindow` (which provides ``jobs``,
    ``library``, ``doc``, ``panel``, ``preview``, ``settings``, ``show_message``,
    ``show_tab``, ``request_preview`` and the source actions)."""

    def review_windows(self) -> list[ReviewWindow]:
        if not hasattr(self, "_review_windows"):
            self._review_windows: list[ReviewWindow] = []
        return self._review_windows

    def open_review(self, out: str | Path, compare: str | Path | None = None) -> ReviewWindow:
        """A Review window on the export in ``out`` (and ``compare`` beside it)."""
        window = ReviewWindow(getattr(self, "thumb_store", None), self.jobs.synchronous)
        window.openInEditor.connect(self.open_in_editor)
        window.view.problem.connect(lambda text: self.show_message(text, "Review", "warning"))
        window.closed.connect(lambda w: self.review_windows().remove(w))
        window.open(out)
        if compare is not None:
            window.open(compare, compare=True)
        self.review_windows().append(window)
        window.show()
        window.raise_()
        return window

    def open_export_dialog(self) -> None:
        start = self.settings.value("export/out", str(Path.cwd()))
        folder = QFileDialog.getExistingDirectory(
            self, "Open export (a folder with manifest.jsonl) to review", str(start)
        )
        if folder:
            self.review_if_export(folder)

    def open_export_url_dialog(self) -> None:
        """Ask for the URL of an export in a store, and review it."""
        last = str(self.settings.value("review/url", "") or "")
        url, ok = QInputDialog.getText(
            self, "Open export URL", "The URL of an export in a store (s3://bucket/prefix):",
            text=last,
        )  # fmt: skip
        url = url.strip()
        if ok and url:
            self.settings.setValue("review/url", url)
            self.review_if_export(url)

    def review_if_export(self, folder: str) -> bool:
        """Review ``folder`` when it is an export (else say why not)."""
        if not is_export(folder):
            what = "an export" if is_url(folder) else "an export folder"
            self.show_message(f"{folder}: not {what} (no manifest.jsonl)", "Review")
            return False
        self.open_review(folder)
        return True

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        """An export folder dropped on the window (not on a browser) opens for review."""
        folders = [u.toLocalFile() for u in event.mimeData().urls()]
        found = [f for f in folders if is_export(f)]
        for folder in found:
            self.open_review(folder)
        if not found:
            self.show_message(
                "drop an export folder (with manifest.jsonl) to review it, or a source folder "
                "on its browser",
                "Review",
            )

    def close_reviews(self) -> None:
        for window in list(self.review_windows()):
            window.close()

    # ---- open in editor -----------------------------------------------------------------------
    def open_in_editor(self, out: str, row: dict[str, Any]) -> None:
        """Load the sample of ``row`` of the export in ``out`` into the Preview."""

        def work() -> tuple[SampleSetup, dict[str, Scanned], dict[str, Any]]:
            setup = sample_setup(out, row)
            found: dict[str, Scanned] = {}
            items: dict[str, Any] = {}
            wanted = {"faces": setup.face_id}
            if setup.item_id is not None:
                wanted[setup.item_role] = setup.item_id
            for role, item_id in wanted.items():
                source = open_ref(setup.refs[role])
                found[role] = scanned(role, source)
                items[role] = self._load(role, source, item_id)
            return setup, found, items

        def done(result: tuple[SampleSetup, dict[str, Scanned], dict[str, Any]]) -> None:
            setup, found, items = result
            if not self._confirm_discard():
                return
            for role, item in found.items():
                setattr(self.library, role, item.source)
                self._browsers()[role].set_source(item.source, item.text, item.tooltip)
            self.doc.new()
            self.doc.edit(
                f"Open sample {setup.index} of {Path(out).name}", setup.preset, setup.params
            )
            self.panel.refresh()
            ids = {"faces": setup.face_id, setup.item_role: setup.item_id}
            for role, item in items.items():
                self._use(role, ids[role], item, preview=False)
            if setup.item_id is None:  # a flat-coloured shape: no texture
                self.texture = None
            self.samples.set_library(self.library)
            self.show_tab("preview")
            self.request_preview()
            self.raise_()

        self.jobs.submit(
            ("editor", out), work, done, lambda err: self.show_message(error_text(err), "Review")
        )
