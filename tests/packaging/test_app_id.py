"""The application id is one string, used by every file and API that names the app (issue: deliverable 1)."""

from __future__ import annotations

import configparser
import xml.etree.ElementTree as ET

from optgui import APP_ID, resources
from tests.support.packaging import LINUX, ROOT, app_metadata


def _desktop(path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_id_is_the_fixed_one():
    assert APP_ID == "io.github.optgui.optgui"


def test_file_names_and_ids_agree():
    assert sorted(p.name for p in LINUX.iterdir()) == sorted(
        [f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml", f"{APP_ID}.xml"]
    )
    assert _desktop(LINUX / f"{APP_ID}.desktop")["Icon"] == APP_ID
    meta = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.findtext("launchable[@type='desktop-id']") == f"{APP_ID}.desktop"
    assert (ROOT / "resources" / f"{APP_ID}.svg").is_file()
    assert (ROOT / "resources" / f"{APP_ID}.ico").is_file()
    assert (ROOT / "resources" / f"{APP_ID}.icns").is_file()
    for size in resources.ICON_SIZES:
        assert (ROOT / "resources" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()


def test_qt_desktop_file_name(qapp):
    from PySide6.QtGui import QGuiApplication

    from optgui.qt.window.app import identify_application

    identify_application()
    # Wayland compositors and docks match windows to the launcher through this name.
    assert QGuiApplication.desktopFileName() == APP_ID


def test_macos_bundle_id():

    assert app_metadata().info_plist()["CFBundleIdentifier"] == APP_ID


def test_package_copies_of_linux_files_are_identical():
    """optgui --install-desktop-entry installs the package's copies; they must be packaging/linux's files."""
    for name in (resources.DESKTOP_FILE, resources.METAINFO_FILE, resources.MIME_FILE):
        assert resources.linux_file(name).read_bytes() == (LINUX / name).read_bytes(), (
            f"{name} differs: run python resources/generate_icons.py"
        )
