"""GUI tests run offscreen with a synchronous preview worker (driven step by step)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from gui_helpers import render

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 (the gui extra) is not installed")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """A fresh user cache folder (thumbnails, automatic masks) for every test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """A fresh user data folder (the user's presets) for every test: nothing is written to
    the real one."""
    folder = tmp_path / "data"
    monkeypatch.setenv("STUDIO_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """The main window on the synthetic samples, with a synchronous preview worker."""
    from studio.gui.library import Library
    from studio.gui.window import MainWindow

    win = MainWindow(
        library=Library.default(samples=settings_dir_without_samples()),
        settings=settings,
        synchronous=True,
    )
    win.ask_before_discarding = False  # no modal "unsaved changes" question in tests
    win.export_panel.opened = []  # the URLs the panel asked to open: no browser in tests
    win.export_panel.open_url = win.export_panel.opened.append
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    render(win)
    yield win
    win.shutdown()


def settings_dir_without_samples():
    from pathlib import Path

    return Path("/nonexistent-samples")
