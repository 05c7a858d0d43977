"""Shared test setup: app data and cache directories in a temporary folder, never the user's."""

from __future__ import annotations

import importlib.util
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


# Optional packages some tests need, with the extra that installs each. A test marked `needs("torch")` skips with
# that hint where the package is missing, and fails instead when OPTGUI_REQUIRE_OPTIONAL=1 (CI's run with every
# extra installed sets it, so nothing it installed can silently skip).
OPTIONAL_PACKAGES = {"torch": "pip install torch (CPU build) and '.[gp]'", "PyInstaller": "pip install '.[packaging]'"}
REQUIRE_OPTIONAL_ENV = "OPTGUI_REQUIRE_OPTIONAL"


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*packages): the test needs these optional Python packages")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("needs"):
        missing = [name for name in marker.args if importlib.util.find_spec(name) is None]
        if not missing:
            continue
        hints = "; ".join(OPTIONAL_PACKAGES.get(name, f"pip install {name}") for name in missing)
        message = f"needs {', '.join(missing)} ({hints})"
        if os.environ.get(REQUIRE_OPTIONAL_ENV) == "1":
            pytest.fail(f"{message}; {REQUIRE_OPTIONAL_ENV}=1 requires it")
        pytest.skip(message)
