"""What the studio can do with the sources its browsers show, said in one sentence (no Qt here):
why the export is off, and why the canvas has nothing to preview."""

from __future__ import annotations

from studio.gui.library import FailedSource, Library

TITLES = {"faces": "Faces", "occluders": "Occluders", "textures": "Textures"}
WHAT = {"faces": "faces", "occluders": "occluders", "textures": "textures"}


def needed_roles(mode: str) -> tuple[str, ...]:
    """The sources an export of ``mode`` reads (RandOcc textures when a browser shows some)."""
    return ("faces", "occluders") if mode == "natocc" else ("faces", "textures")


def _problem(library: Library, role: str, for_export: bool) -> str | None:
    source = getattr(library, role)
    title = TITLES[role]
    if isinstance(source, FailedSource):
        return f"the {title} browser's folder did not open: {source.reason}"
    if for_export and library.synthetic(role):
        if role == "textures":
            return None  # RandOcc without textures: flat colours, said in the Export tab
        return (
            f"the {title} browser shows the built-in synthetic {WHAT[role]} (preview only): "
            f"open a folder of {WHAT[role]} there"
        )
    try:
        empty = not source.ids()
    except Exception:  # a source that cannot list its items is as good as empty
        empty = True
    if empty and not (role == "textures" and library.synthetic(role)):
        return f"the {title} browser has no usable {WHAT[role]}: open another folder there"
    return None


def export_blocker(library: Library, mode: str) -> str | None:
    """Why an export of the browsers' sources cannot run now (None: it can)."""
    for role in needed_roles(mode):
        problem = _problem(library, role, for_export=True)
        if problem:
            return problem
    return None


def canvas_notice(library: Library, mode: str) -> str | None:
    """The sentence the canvas shows instead of a preview (None: there is one to show)."""
    for role in needed_roles(mode):
        problem = _problem(library, role, for_export=False)
        if problem:
            return f"Nothing to preview: {problem}."
    return None
