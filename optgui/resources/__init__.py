"""Files the installed package carries: the application icon at the hicolor sizes plus its SVG master (generated
from resources/ at the top of the source tree by resources/generate_icons.py) and copies of the Linux desktop files
from packaging/linux, which `optgui --install-desktop-entry` installs.

Located through __file__ rather than importlib.resources: plain paths are what the installer copies and what Qt
loads, and they also hold inside a PyInstaller build, where these files are collected as data next to the code.
"""

from __future__ import annotations

from pathlib import Path

from optgui import APP_ID

ROOT = Path(__file__).resolve().parent
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
MIME_FILE = f"{APP_ID}.xml"


def icon_png(size: int) -> Path:
    return ROOT / "icons" / f"{APP_ID}-{size}.png"


def icon_svg() -> Path:
    return ROOT / "icons" / f"{APP_ID}.svg"


def linux_file(name: str) -> Path:
    return ROOT / "linux" / name
