"""Where optgui keeps its own files: the platform's app data and cache directories, never the cwd.

The GUI resolves the same locations through QStandardPaths; the core uses platformdirs so that the headless
commands agree with it without importing Qt. OPTGUI_DATA_DIR / OPTGUI_CACHE_DIR override both (tests, portable
installs).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from optgui import APP_NAME, ORGANIZATION


def data_dir() -> Path:
    override = os.environ.get("OPTGUI_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, ORGANIZATION))


def cache_dir() -> Path:
    override = os.environ.get("OPTGUI_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir(APP_NAME, ORGANIZATION))


def demo_study_path() -> Path:
    return data_dir() / "demo.db"
