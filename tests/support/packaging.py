"""Shared helpers of the packaging tests: repository paths, external tools that must be present in CI, and a
subprocess environment that imports this source tree."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
REQUIRE_ENV = "OPTGUI_REQUIRE_DESKTOP_TOOLS"


def require_tool(name: str) -> str:
    """The tool's path. Missing: a failure where CI promised it (OPTGUI_REQUIRE_DESKTOP_TOOLS=1), else a skip."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: desktop-file-utils, appstream, shared-mime-info)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(message + f"; {REQUIRE_ENV}=1 requires it")
        pytest.skip(message)
    return path


def subprocess_env(**extra) -> dict:
    """The current (test-isolated) environment, importing optgui from this tree before any installed copy."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update({k: str(v) for k, v in extra.items()})
    return env


PYTHON = sys.executable


_app_metadata = None


def app_metadata():
    """packaging/pyinstaller/app_metadata.py (not a package: PyInstaller runs the spec beside it)."""
    global _app_metadata
    if _app_metadata is None:
        spec = importlib.util.spec_from_file_location(
            "optgui_app_metadata", ROOT / "packaging" / "pyinstaller" / "app_metadata.py"
        )
        _app_metadata = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_app_metadata)
    return _app_metadata
