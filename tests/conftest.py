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


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server .ci/services.sh starts (skipped without one, failed when OPTGUI_REQUIRE_SERVERS=1)."""
    url = os.environ.get("OPTGUI_TEST_POSTGRES_URL")
    if not url:
        message = "OPTGUI_TEST_POSTGRES_URL is not set (run .ci/services.sh to start a PostgreSQL server)"
        if os.environ.get("OPTGUI_REQUIRE_SERVERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url
