"""Sources and items of the main window: opening folders, choosing faces, occluders, textures.

Nothing here touches a file on the UI thread: recognising and scanning a source (30,000
faces and their masks: about 0.3 s) and decoding the chosen item run as background jobs
(:class:`~studio.gui.jobs.Jobs`), and the window changes when their results arrive. For one
browser only the newest open or choice counts. With a synchronous window (tests) the jobs run
at once, so every method has its effect before it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from studio.core.model.errors import StudioError
from studio.core.model.vocab import pool_role
from studio.core.sources import ROLES, SourceRef, open_ref
from studio.gui.browsers import Browser
from studio.gui.library import FailedSource, Library, Scanned, header, scanned
from studio.gui.wording import error_text, hinted

FIRST_TRIES = 50  #: items tried, in order, for the first loadable one of a source
KINDS = {"faces": "face", "occluders": "occluder", "textures": "texture"}
TITLES = {"faces": "Faces", "occluders": "Occluders", "textures": "Textures"}


class SourceActions:
    """Mixed into :class:`~studio.gui.window.MainWindow`, which provides ``library``,
    ``jobs``, ``settings``, ``faces``/``occluders``/``textures`` (browsers), ``samples``,
    ``preview``, ``canvas``, ``doc``, ``show_message``, ``show_tab``, ``request_preview`` and
    ``sources_changed`` (called when what a browser shows changed, or failed)."""

    library: Library

    def _browsers(self) -> dict[str, Browser]:
        return {"faces": self.faces, "occluders": self.occluders, "textures": self.textures}

    # ---- opening ------------------------------------------------------------------------------
    def _load_sources(self) -> None:
        """Show the sources of the last session (QSettings); a role with nothing remembered
        (the very first start) shows the library's (the bundled samples). A remembered source
        that no longer opens is shown as failed, never replaced. Scanned in the background."""
        for role in ROLES:
            ref = self._remembered_ref(role)
            if ref is None:
                source = getattr(self.library, role)
                bundled = role in self.library.bundled

                def first(role=role, source=source, bundled=bundled) -> dict[str, Scanned]:
                    return {role: scanned(role, source, bundled)}

                self._open_job(role, first, remember=False)
            else:
                self._open_job(
                    role,
                    lambda role=role, ref=ref: {role: scanned(role, open_ref(ref))},
                    remember=False,
                    replace=ref.path,
                )

    def _remembered_ref(self, role: str) -> SourceRef | None:
        value = self.settings.value(f"sources/{role}")
        if not value:
            return None
        try:
            return SourceRef.from_dict(json.loads(value))
        except (ValueError, TypeError):
            return None

    def open_path(self, path: str, role: str, item: str = "", replace: bool = False) -> bool:
        """Open ``path`` in the ``role`` browser (Open…, drag and drop, the command line): any
        layout of the input layer; a dataset folder fills every browser it has a source for.
        ``item`` is chosen in it (else its first loadable item).

        Returns False when it cannot be opened: a message says why, and the browser's header
        shows it until another source opens there. The browser keeps what it showed (an Open…
        that fails changes nothing), or with ``replace`` (the command line) shows the failure
        instead. The folder is read in the background: in a threaded window that is known
        later, and True means "opening".
        """

        def work() -> dict[str, Scanned]:
            return {r: scanned(r, s) for r, s in Library.opened(path, role).items()}

        prefer = {role: item} if item else None
        return self._open_job(role, work, prefer=prefer, replace=path if replace else None)

    def open_ref(self, ref: SourceRef) -> bool:
        """Open the source ``ref`` names in its browser (a preset's sources); one that does
        not open is shown as failed (the preset names it: nothing else stands in for it)."""
        return self._open_job(
            ref.role, lambda: {ref.role: scanned(ref.role, open_ref(ref))}, replace=ref.path
        )

    def open_bundled(self, role: str) -> bool:
        """Show the bundled samples in the ``role`` browser again (its Open… menu)."""
        source = getattr(Library.default(), role)
        bundled = not isinstance(source, FailedSource) and not self.library.synthetic(role)
        return self._open_job(role, lambda: {role: scanned(role, source, bundled)})

    def _open_job(
        self,
        role: str,
        work: Callable[[], dict[str, Scanned]],
        remember: bool = True,
        prefer: dict[str, str] | None = None,
        replace: str | None = None,
    ) -> bool:
        outcome = {"ok": True}
        opening = self._opening()
        opening[role] = (prefer or {}).get(role, "")

        def done(found: dict[str, Scanned]) -> None:
            wishes = {**(prefer or {}), role: opening.pop(role, "")}
            self._sources_opened(found, remember, wishes)

        def failed(err: BaseException) -> None:
            outcome["ok"] = False
            opening.pop(role, None)
            text = error_text(err)
            self.show_message(text, TITLES[role])
            if replace is not None:
                self._source_failed(role, replace, err)
            else:
                self._browsers()[role].show_problem(f"not opened: {text}")

        self.jobs.submit(("open", role), work, done, failed)
        return outcome["ok"]

    def _opening(self) -> dict[str, str]:
        """Roles being opened, with the item to choose once open ("" = the first)."""
        if not hasattr(self, "_opening_roles"):
            self._opening_roles: dict[str, str] = {}
        return self._opening_roles

    def _sources_opened(self, found: dict[str, Scanned], remember: bool, prefer: dict) -> None:
        for role, item in found.items():
            self.library.set(role, item.source, item.bundled)
            ref = getattr(item.source, "ref", None)
            if remember and ref is not None:
                self.settings.setValue(f"sources/{role}", json.dumps(ref.to_dict()))
            self._browsers()[role].set_source(item.source, item.text, item.tooltip)
            if not item.source.ids():
                self._clear_item(role)
            self._choose_first(role, prefer.get(role, ""))
        if found:
            self.samples.set_library(self.library)
            self.sources_changed()

    def _source_failed(self, role: str, path: str, err: BaseException) -> None:
        """Show that the ``role`` source did not open: its browser says why (until another
        opens), its item is gone from the canvas, and the export is off while it is needed."""
        if isinstance(err, StudioError):
            where, reason = err.path or str(path), hinted(err.reason, err.hint)
        else:
            where, reason = str(path), error_text(err)
        failed = FailedSource(role, where, reason)
        self.library.set(role, failed)
        self._browsers()[role].set_source(failed, *header(failed))
        self._clear_item(role)
        self.samples.set_library(self.library)
        self.sources_changed()

    def _clear_item(self, role: str) -> None:
        setattr(self, KINDS[role], None)
        self.jobs.submit(("choose", role), lambda: None, lambda _: None)  # drop a pending one

    # ---- choosing -----------------------------------------------------------------------------
    def _choose_first(self, role: str, prefer: str = "") -> None:
        """Make ``prefer`` (or else the first item of ``role``'s source that loads) current."""
        source = getattr(self.library, role)
        ids = self._browsers()[role].ids()
        candidates = ([prefer] if prefer else []) + ids[:FIRST_TRIES]

        def work() -> tuple[str, Any] | None:
            for item_id in candidates:
                try:
                    return item_id, self._load(role, source, item_id)
                except StudioError:
                    continue
            return None

        def done(found: tuple[str, Any] | None) -> None:
            if found is not None:
                self._use(role, *found, preview=True)
            else:  # nothing loadable: the preview says what is missing
                self.request_preview()

        def failed(err: BaseException) -> None:
            self.show_message(error_text(err), TITLES[role])

        self.jobs.submit(("choose", role), work, done, failed)

    def _load(self, role: str, source: Any, item_id: str) -> Any:
        """Decode one item (on a worker); a face is also reduced to preview size there."""
        item = source.load(item_id)
        if role == "faces":
            self.preview.preview_face(item)
        return item

    def _choose(self, kind: str, item_id: str, preview: bool) -> bool:
        """Load item ``item_id`` of the ``kind`` source ("face", "occluder" or "texture") in
        the background, then make it current and select it in its browser; False (with a
        message) when it is known at once to be unusable (synchronous window)."""
        role = f"{kind}s"
        if role in self._opening():  # chosen while its source opens: chosen once open
            self._opening()[role] = item_id
            return True
        source = getattr(self.library, role)
        outcome = {"ok": True}

        def failed(err: BaseException) -> None:
            outcome["ok"] = False
            self.show_message(error_text(err, item_id), TITLES[role])
            current = getattr(self, kind)
            if current is not None:
                self._browsers()[role].select(current.id)

        self.jobs.submit(
            ("choose", role),
            lambda: self._load(role, source, item_id),
            lambda item: self._use(role, item_id, item, preview),
            failed,
        )
        return outcome["ok"]

    def _use(self, role: str, item_id: str, item: Any, preview: bool) -> None:
        kind = KINDS[role]
        setattr(self, kind, item)
        self._browsers()[role].select(item_id)
        if kind == "face":
            self.canvas.fit_next_frame()
        if preview:
            self.request_preview()

    def choose_face(self, item_id: str, preview: bool = True) -> bool:
        return self._choose("face", item_id, preview)

    def choose_occluder(self, item_id: str, preview: bool = True) -> bool:
        return self._choose("occluder", item_id, preview)

    def choose_texture(self, item_id: str, preview: bool = True) -> bool:
        return self._choose("texture", item_id, preview)

    def load_sample(self, info: Any) -> None:
        """Load a sample's face, occluder (or texture) and exact parameters into the canvas,
        once both are decoded (in the background)."""
        roles = {"faces": info.face_id}
        if info.occluder_id is not None:
            roles[pool_role(self.doc.preset.mode)] = info.occluder_id
        waiting = set(roles)

        def arrived(role: str, item: Any) -> None:
            self._use(role, roles[role], item, preview=False)
            waiting.discard(role)
            if not waiting:
                self.doc.show_sample(info.params)
                self.show_tab("preview")
                self.request_preview()

        for role, item_id in roles.items():
            source = getattr(self.library, role)
            self.jobs.submit(
                ("choose", role),
                lambda role=role, source=source, item_id=item_id: self._load(
                    role, source, item_id
                ),
                lambda item, role=role: arrived(role, item),
                lambda err, item_id=item_id, role=role: self.show_message(
                    error_text(err, item_id), TITLES[role]
                ),
            )
