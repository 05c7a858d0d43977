"""`optgui --install-desktop-entry` / `--uninstall-desktop-entry`: the launcher, icon, MIME type and AppStream data
for the current user, in the XDG data directory (~/.local/share unless XDG_DATA_HOME says otherwise).

Qt-free on purpose: it runs before any Qt import, so it also works on a machine whose Qt cannot start (no display,
missing libraries), which is exactly when someone sets up a launcher over ssh.

The packaged .desktop file says `Exec=optgui-app %f`, which is right for a system-wide install that puts
`optgui-app` on PATH. A per-user install usually lives in a virtual environment or a frozen folder that the
desktop session's PATH does not contain, so the installed copy points at the absolute launcher path instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from optgui import APP_ID, resources
from optgui.core.errors import OptguiError

SCRIPT_NAME = "optgui-app"


def data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def launcher_command() -> list[str]:
    """The command that starts this very installation of optgui as a GUI app."""
    if getattr(sys, "frozen", False):  # a PyInstaller build: its executable is the launcher
        return [str(Path(sys.executable).resolve())]
    candidates = []
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name.startswith("optgui"):  # started through a console script: its sibling
        candidates.append(argv0.resolve().parent / SCRIPT_NAME)
    candidates.append(Path(sys.executable).parent / SCRIPT_NAME)  # a virtual environment's bin/
    found = shutil.which(SCRIPT_NAME)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "optgui"]


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def exec_quote(arg: str) -> str:
    """Quote one argument for a desktop entry's Exec key (Desktop Entry spec, "The Exec key")."""
    arg = arg.replace("%", "%%")  # field codes start with %; a literal one is doubled
    if arg and not (set(arg) & _RESERVED):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{inner}"'


def escape_value(value: str) -> str:
    """Escape a desktop entry string value: a backslash is written as two (applied after exec_quote)."""
    return value.replace("\\", "\\\\")


def desktop_entry_text(command: list[str]) -> str:
    """The packaged .desktop file with Exec/TryExec pointing at `command`."""
    text = resources.linux_file(resources.DESKTOP_FILE).read_text(encoding="utf-8")
    exec_value = escape_value(" ".join(exec_quote(a) for a in command)) + " %f"
    lines = []
    for line in text.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_value}"
        elif line.startswith("TryExec="):
            line = f"TryExec={escape_value(command[0])}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Result:
    files: list[Path] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)  # the cache updates that ran
    missing_tools: list[str] = field(default_factory=list)


def installed_paths(base: Path) -> list[Path]:
    """Every file the installer writes, relative to the XDG data directory `base`."""
    icons = base / "icons" / "hicolor"
    paths = [
        base / "applications" / resources.DESKTOP_FILE,
        base / "metainfo" / resources.METAINFO_FILE,
        base / "mime" / "packages" / resources.MIME_FILE,
        icons / "scalable" / "apps" / f"{APP_ID}.svg",
    ]
    paths += [icons / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in resources.ICON_SIZES]
    return paths


def _check_platform() -> None:
    if sys.platform.startswith("win") or sys.platform == "darwin":
        raise OptguiError(
            "desktop entries are for Linux and other freedesktop systems; on Windows and macOS "
            "use the packaged application (see README, Installing)"
        )


def install(base: Path | None = None, command: list[str] | None = None, update_caches: bool = True) -> Result:
    _check_platform()
    base = base or data_home()
    command = command or launcher_command()
    result = Result()
    icons = base / "icons" / "hicolor"
    copies = {
        base / "metainfo" / resources.METAINFO_FILE: resources.linux_file(resources.METAINFO_FILE),
        base / "mime" / "packages" / resources.MIME_FILE: resources.linux_file(resources.MIME_FILE),
        icons / "scalable" / "apps" / f"{APP_ID}.svg": resources.icon_svg(),
    }
    for size in resources.ICON_SIZES:
        copies[icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = resources.icon_png(size)
    try:
        for target, source in copies.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            result.files.append(target)
        desktop = base / "applications" / resources.DESKTOP_FILE
        desktop.parent.mkdir(parents=True, exist_ok=True)
        desktop.write_text(desktop_entry_text(command), encoding="utf-8")
        result.files.append(desktop)
    except OSError as exc:
        raise OptguiError(f"cannot install the desktop entry: {exc}") from exc
    if update_caches:
        _update_caches(base, result)
    return result


def uninstall(base: Path | None = None, update_caches: bool = True) -> Result:
    _check_platform()
    base = base or data_home()
    result = Result()
    for path in installed_paths(base):
        try:
            path.unlink()
            result.files.append(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OptguiError(f"cannot remove {path}: {exc}") from exc
    if update_caches:
        _update_caches(base, result)
    _remove_empty_folders(base, installed_paths(base))  # after the caches: their tools read these folders
    return result


def _remove_empty_folders(base: Path, paths: list[Path]) -> None:
    """The folders install() made for its files, where they are now empty (up to, not including, `base`): an
    uninstall leaves nothing behind. A folder that holds anything else (or a cache) stays."""
    for path in paths:
        folder = path.parent
        while folder != base and base in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone: the folders above are not ours to empty
                break
            folder = folder.parent


def _update_caches(base: Path, result: Result) -> None:
    """Refresh the databases that desktops read instead of the files themselves, where those tools exist."""
    runs: list[tuple[str, list[str], Path | None]] = [  # (tool, its arguments, the folder it needs, if any)
        ("update-mime-database", [str(base / "mime")], base / "mime"),
        ("update-desktop-database", ["-q", str(base / "applications")], base / "applications"),
    ]
    # A per-user icon cache only helps if one is there already; creating one would go stale when another program
    # later drops icons in without refreshing it, so only an existing cache is kept up to date.
    if (base / "icons" / "hicolor" / "icon-theme.cache").exists():
        runs.append(("gtk-update-icon-cache", ["-q", "-t", "-f", str(base / "icons" / "hicolor")], None))
    for tool, args, needs in runs:
        exe = shutil.which(tool)
        if exe is None:
            result.missing_tools.append(tool)
            continue
        if needs is not None and not needs.is_dir():
            continue
        proc = subprocess.run([exe, *args], capture_output=True, text=True)
        if proc.returncode == 0:
            result.tools.append(tool)
        else:
            result.missing_tools.append(f"{tool} (failed: {proc.stderr.strip().splitlines()[-1:] or '?'})")


def execute(args) -> int:
    """CLI entry: prints what changed, one line each."""
    if args.install_desktop_entry:
        result = install()
        print(f"Installed the optgui launcher for this user ({len(result.files)} files):")
        for path in result.files:
            print(f"  {path}")
        exec_line = next(
            line for line in (result.files[-1].read_text(encoding="utf-8").splitlines()) if line.startswith("Exec=")
        )
        print(f"Launcher command: {exec_line[5:]}")
    else:
        result = uninstall()
        if result.files:
            print(f"Removed the optgui launcher ({len(result.files)} files):")
            for path in result.files:
                print(f"  {path}")
        else:
            print("No optgui launcher was installed for this user.")
    if result.tools:
        print(f"Updated: {', '.join(result.tools)}")
    if result.missing_tools:
        print(
            f"Not updated (tool missing or failed): {', '.join(result.missing_tools)}; the desktop may need a "
            "new login to notice the change.",
            file=sys.stderr,
        )
    return 0
