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
from studio.gui.library import Library, Scanned, scanned

FIRST_TRIES = 50  #: items tried, in order, for the first loadable one of a source
KINDS = {"faces": "face", "occluders": "occluder", "textures": "texture"}


def error_line(err: BaseException, what: str = "") -> str:
    """One line for an error of a background job."""
    if isinstance(err, StudioError):
        return err.line()
    return f"{what + ': ' if what else ''}{type(err).__name__}: {err}"


class SourceActions:
    """Mixed into :class:`~studio.gui.window.MainWindow`, which provides ``library``,
    ``jobs``, ``settings``, ``faces``/``occluders``/``textures`` (browsers), ``samples``,
    ``preview``, ``canvas``, ``doc``, ``show_message``, ``show_tab`` and ``request_preview``."""

    library: Library

    def _browsers(self) -> dict[str, Browser]:
        return {"faces": self.faces, "occluders": self.occluders, "textures": self.textures}

    # ---- opening ------------------------------------------------------------------------------
    def _load_sources(self) -> None:
        """Show the sources of the last session (QSettings) where they still open, else the
        library's; scanned in the background."""
        for role in ROLES:
            fallback = getattr(self.library, role)
            ref = self._remembered_ref(role)

            def work(role=role, ref=ref, fallback=fallback) -> dict[str, Scanned]:
                if ref is not None:
                    try:
                        return {role: scanned(role, open_ref(ref))}
                    except StudioError:
                        pass  # moved or deleted since: the default stays
                return {role: scanned(role, fallback)}

            self._open_job(role, work, remember=False)

    def _remembered_ref(self, role: str) -> SourceRef | None:
        value = self.settings.value(f"sources/{role}")
        if not value:
            return None
        try:
            return SourceRef.from_dict(json.loads(value))
        except (ValueError, TypeError):
            return None

    def open_path(self, path: str, role: str, item: str = "") -> bool:
        """Open ``path`` in the ``role`` browser (Open…, drag and drop): any layout of the
        input layer; a dataset folder fills every browser it has a source for. ``item`` is
        chosen in it (else its first loadable item).

        Returns False when it cannot be opened (a message says why). The folder is read in
        the background: in a threaded window that is known later, and True means "opening".
        """

        def work() -> dict[str, Scanned]:
            return {r: scanned(r, s) for r, s in Library.opened(path, role).items()}

        return self._open_job(role, work, prefer={role: item} if item else None)

    def open_ref(self, ref: SourceRef) -> bool:
        """Open the source ``ref`` names in its browser (a preset's sources)."""
        return self._open_job(ref.role, lambda: {ref.role: scanned(ref.role, open_ref(ref))})

    def _open_job(
        self,
        role: str,
        work: Callable[[], dict[str, Scanned]],
        remember: bool = True,
        prefer: dict[str, str] | None = None,
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
            self.show_message(error_line(err))

        self.jobs.submit(("open", role), work, done, failed)
        return outcome["ok"]

    def _opening(self) -> dict[str, str]:
        """Roles being opened, with the item to choose once open ("" = the first)."""
        if not hasattr(self, "_opening_roles"):
            self._opening_roles: dict[str, str] = {}
        return self._opening_roles

    def _sources_opened(self, found: dict[str, Scanned], remember: bool, prefer: dict) -> None:
        for role, item in found.items():
            setattr(self.library, role, item.source)
            ref = getattr(item.source, "ref", None)
            if remember and ref is not None:
                self.settings.setValue(f"sources/{role}", json.dumps(ref.to_dict()))
            self._browsers()[role].set_source(item.source, item.text, item.tooltip)
            self._choose_first(role, prefer.get(role, ""))
        if found:
            self.samples.set_library(self.library)

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

        self.jobs.submit(("choose", role), work, done, lambda e: self.show_message(error_line(e)))

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
            self.show_message(error_line(err, item_id))
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
                self.doc.set_params(info.params, "Load sample")
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
                lambda err, item_id=item_id: self.show_message(error_line(err, item_id)),
            )
