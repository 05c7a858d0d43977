"""Shared test setup: app data and cache directories in a temporary folder, never the user's."""

from __future__ import annotations

import os

import pytest

# Before any QApplication exists (pytest-qt's session-scoped qapp is set up before function fixtures run).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_app_dirs(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("appdirs")
    monkeypatch.setenv("OPTGUI_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("OPTGUI_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    yield
