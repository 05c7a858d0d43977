"""`optgui --help` lists the app's own options (STORAGE, --study, --demo, the desktop entry) as well as the headless
commands (issue 18, item 8: it showed only the commands)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_apps_options_and_the_commands(flag):
    done = subprocess.run([sys.executable, "-m", "optgui", flag], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for option in ("STORAGE", "--study NAME", "--demo", "--install-desktop-entry", "--uninstall-desktop-entry"):
        assert option in out, option
    for command in ("run", "inspect", "verify", "worker", "control"):
        assert f"\n  {command} " in out, command


def test_a_commands_help_is_still_its_own():
    done = subprocess.run([sys.executable, "-m", "optgui", "verify", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--spec SPEC" in done.stdout and "--demo" not in done.stdout
