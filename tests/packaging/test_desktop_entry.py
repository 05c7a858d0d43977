"""`optgui --install-desktop-entry` / `--uninstall-desktop-entry` into a temporary XDG home."""

from __future__ import annotations

import configparser
import subprocess
import sys

import pytest

from optgui import APP_ID, desktop_entry, resources
from optgui.core.errors import OptguiError
from tests.support.packaging import PYTHON, ROOT, require_tool, subprocess_env


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home / ".local" / "share"


def entry(path):
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_data_home_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec says: invalid, use the default
    assert desktop_entry.data_home() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    assert desktop_entry.data_home() == tmp_path / "d"


def test_cli_install_then_uninstall(xdg):
    """The real command in a fresh process: files present and valid, then gone; Qt is never imported."""
    code = (
        "import sys; from optgui.cli import main; rc = main(sys.argv[1:]); "
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was imported'; sys.exit(rc)"
    )
    env = subprocess_env()
    proc = subprocess.run([PYTHON, "-c", code, "--install-desktop-entry"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    paths = desktop_entry.installed_paths(xdg)
    assert len(paths) == 4 + len(resources.ICON_SIZES)
    for path in paths:
        assert path.is_file(), path
    assert (xdg / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").read_bytes() == resources.icon_png(
        48
    ).read_bytes()
    installed = entry(xdg / "applications" / f"{APP_ID}.desktop")
    command, field_code = installed["Exec"].rsplit(" ", 1)
    assert field_code == "%f"
    assert command.startswith("/") and installed["TryExec"].startswith("/")
    assert installed["Icon"] == APP_ID
    assert str(xdg / "applications" / f"{APP_ID}.desktop") in proc.stdout

    proc = subprocess.run([PYTHON, "-c", code, "--uninstall-desktop-entry"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for path in paths:
        assert not path.exists(), path
    proc = subprocess.run([PYTHON, "-c", code, "--uninstall-desktop-entry"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "No optgui launcher" in proc.stdout


def test_installed_entry_is_valid_and_databases_are_updated(xdg, tmp_path):
    require_tool("update-mime-database")
    require_tool("update-desktop-database")
    result = desktop_entry.install(command=[str(tmp_path / "my apps" / "optgui-app")])
    desktop = xdg / "applications" / f"{APP_ID}.desktop"
    proc = subprocess.run([require_tool("desktop-file-validate"), str(desktop)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert set(result.tools) == {"update-mime-database", "update-desktop-database"}
    # The desktop database now maps the MIME types to the launcher; the MIME cache knows the journal glob.
    cache = (xdg / "applications" / "mimeinfo.cache").read_text()
    assert f"application/x-optuna-journal={APP_ID}.desktop;" in cache
    assert "application/x-optuna-journal:*.optuna.log" in (xdg / "mime" / "globs2").read_text()
    desktop_entry.uninstall()
    assert "optuna" not in (xdg / "mime" / "globs2").read_text()
    assert "optgui" not in (xdg / "applications" / "mimeinfo.cache").read_text()


@pytest.mark.parametrize(
    "arg, quoted",
    [
        ("/opt/optgui/optgui", "/opt/optgui/optgui"),
        ("/home/a b/optgui", '"/home/a b/optgui"'),
        ('/x/"q"$`\\', '"/x/\\"q\\"\\$\\`\\\\"'),
        ("/x/100%", "/x/100%%"),
    ],
)
def test_exec_quoting(arg, quoted):
    assert desktop_entry.exec_quote(arg) == quoted


def test_exec_line_with_spaces_is_valid(xdg, tmp_path):
    command = [str(tmp_path / "with space" / "python3"), "-m", "optgui"]
    desktop_entry.install(command=command, update_caches=False)
    installed = entry(xdg / "applications" / f"{APP_ID}.desktop")
    assert installed["Exec"] == f'"{command[0]}" -m optgui %f'
    proc = subprocess.run(
        [require_tool("desktop-file-validate"), str(xdg / "applications" / f"{APP_ID}.desktop")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout


def test_launcher_command_prefers_the_gui_script_of_this_installation(tmp_path, monkeypatch):
    bindir = tmp_path / "venv" / "bin"
    bindir.mkdir(parents=True)
    script = bindir / "optgui-app"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(bindir / "optgui"), "--install-desktop-entry"])
    assert desktop_entry.launcher_command() == [str(script)]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "dist" / "optgui"))
    assert desktop_entry.launcher_command() == [str(tmp_path / "dist" / "optgui")]


def test_fallback_is_the_running_interpreter(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "something.py")])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    monkeypatch.setattr(desktop_entry.shutil, "which", lambda name: None)
    assert desktop_entry.launcher_command() == [str(tmp_path / "python3"), "-m", "optgui"]


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_refused_where_there_are_no_desktop_entries(xdg, monkeypatch, platform):
    monkeypatch.setattr(sys, "platform", platform)
    with pytest.raises(OptguiError, match="Linux"):
        desktop_entry.install()
    assert not (xdg / "applications").exists()


def test_cli_reports_errors_in_one_line(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    proc = subprocess.run(
        [PYTHON, "-m", "optgui", "--install-desktop-entry"],
        capture_output=True,
        text=True,
        env=subprocess_env(XDG_DATA_HOME=blocked),
        cwd=ROOT,
    )
    assert proc.returncode == 3
    assert proc.stderr.startswith("optgui: error: cannot install the desktop entry")
    assert "Traceback" not in proc.stderr
