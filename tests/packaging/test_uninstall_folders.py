"""`--uninstall-desktop-entry` removes the folders its install made once they are empty, and nothing that holds
other files (issue 18, item 8)."""

from __future__ import annotations

import sys

import pytest

from optgui import desktop_entry

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the desktop entry is Linux-only")


def test_uninstall_leaves_no_empty_folders(tmp_path):
    base = tmp_path / "share"
    desktop_entry.install(base, command=["optgui"], update_caches=False)
    desktop_entry.uninstall(base, update_caches=False)
    assert list(base.rglob("*")) == []
    assert base.is_dir()  # the data home itself is the user's


def test_uninstall_keeps_folders_holding_other_files(tmp_path):
    base = tmp_path / "share"
    other = base / "applications" / "someone-else.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\n")
    desktop_entry.install(base, command=["optgui"], update_caches=False)
    desktop_entry.uninstall(base, update_caches=False)
    assert sorted(p.relative_to(base).as_posix() for p in base.rglob("*")) == [
        "applications",
        "applications/someone-else.desktop",
    ]
