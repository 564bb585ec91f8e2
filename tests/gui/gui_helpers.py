"""Helpers shared by the GUI tests (a module of its own: ``conftest`` names are ambiguous
across test folders)."""


def render(win):
    """Render the newest pending preview request now (synchronous worker)."""
    return win.preview.worker.run_pending()
