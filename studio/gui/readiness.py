"""What the studio can do with the sources its browsers show, said in one sentence (no Qt here):
why the export is off, and why the canvas has nothing to preview."""

from __future__ import annotations

from studio.core.model.vocab import pool_required, pool_role
from studio.gui.library import FailedSource, Library

TITLES = {"faces": "Faces", "occluders": "Occluders", "textures": "Textures"}


def needed_roles(mode: str) -> tuple[str, ...]:
    """The sources an export of ``mode`` reads: the faces and its pool (RandOcc's textures
    may be none: shapes then get flat colours)."""
    return ("faces", pool_role(mode))


def _problem(library: Library, role: str, mode: str, for_export: bool) -> str | None:
    source = getattr(library, role)
    title = TITLES[role]
    if isinstance(source, FailedSource):
        return f"the {title} browser's folder did not open: {source.reason}"
    optional = role != "faces" and not pool_required(mode)
    if library.synthetic(role):
        if optional or not for_export:
            return None  # previewed; RandOcc exports flat colours (said in the Export tab)
        return (
            f"the {title} browser shows the built-in synthetic {role} (preview only): open "
            f"a folder of {role} there"
        )
    try:
        empty = not source.ids()
    except Exception:  # a source that cannot list its items is as good as empty
        empty = True
    if empty:
        return f"the {title} browser has no usable {role}: open another folder there"
    return None


def export_blocker(library: Library, mode: str) -> str | None:
    """Why an export of the browsers' sources cannot run now (None: it can)."""
    for role in needed_roles(mode):
        problem = _problem(library, role, mode, for_export=True)
        if problem:
            return problem
    return None


def canvas_notice(library: Library, mode: str) -> str | None:
    """The sentence the canvas shows instead of a preview (None: there is one to show)."""
    for role in needed_roles(mode):
        problem = _problem(library, role, mode, for_export=False)
        if problem:
            return f"Nothing to preview: {problem}."
    return None
