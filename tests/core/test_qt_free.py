"""optgui/core must stay Qt-free, and the headless commands must never load PySide6 (a worker machine may have no
libGL)."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

CORE = pathlib.Path(__file__).resolve().parents[2] / "optgui" / "core"
COMMANDS = pathlib.Path(__file__).resolve().parents[2] / "optgui" / "commands"
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("folder", [CORE, COMMANDS], ids=["core", "commands"])
def test_no_qt_imports_anywhere_in_the_headless_packages(folder):
    files = sorted(folder.rglob("*.py"))
    assert files, f"no modules found under {folder}"
    offenders = {str(p.relative_to(folder)): sorted(_imports(p) & set(QT_MODULES)) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("command", ["run", "inspect", "verify"])
def test_headless_command_does_not_load_qt(command, tmp_path):
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['optgui', {command!r}, '--help']\n"
        "try:\n"
        "    runpy.run_module('optgui', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]\n"
        "print('QT-LOADED' if loaded else 'QT-FREE', loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "QT-FREE" in out.stdout, out.stdout + out.stderr
