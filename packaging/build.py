"""Build the frozen application with PyInstaller: dist/optgui/ (a windowed one-folder build; run dist/optgui/optgui,
or optgui.exe on Windows) and, on macOS, dist/optgui.app.

    pip install -e '.[packaging]'      # PyInstaller is a build tool only, never a runtime dependency
    python packaging/build.py

PyInstaller cannot cross-compile: build on each target system. Prints the time taken and the size of the result.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "pyinstaller" / "optgui.spec"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build(dist: Path, work: Path, clean: bool = False) -> Path:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit("PyInstaller is not installed: pip install -e '.[packaging]'") from None
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(SPEC),
    ]
    if clean:
        cmd.insert(3, "--clean")
    env = dict(os.environ)
    # Analysis imports optgui (and Qt through the hooks) from this source tree, never another installed copy.
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")  # the hooks start Qt to ask for its paths; no display needed
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    return dist / "optgui"


def executable(folder: Path) -> Path:
    return folder / ("optgui.exe" if sys.platform.startswith("win") else "optgui")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller work folder")
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache first")
    args = parser.parse_args(argv)
    start = time.monotonic()
    folder = build(args.dist.resolve(), args.work.resolve(), args.clean)
    seconds = time.monotonic() - start
    print(f"built {executable(folder)} in {seconds:.0f} s; folder size {folder_size(folder) / 2**20:.0f} MiB")
    if sys.platform == "darwin":
        print(f"app bundle: {args.dist / 'optgui.app'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
