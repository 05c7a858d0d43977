"""The core's public API: the examples in its docstrings run (a real study in a temporary folder), every exported
name resolves, and importing a subpackage stays cheap (its names load on first use)."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

PACKAGES = [
    "optgui.core",
    "optgui.core.records",
    "optgui.core.storage",
    "optgui.core.engine",
    "optgui.core.verify",
    "optgui.core.fleet",
    "optgui.core.analysis",
    "optgui.core.annotations",
    "optgui.core.health",
    "optgui.core.share",
    "optgui.core.lazy_exports",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_examples_run(package, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the examples' studies and caches land in the test's folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    module = importlib.import_module(package)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0


def test_the_core_has_examples():
    tests = doctest.DocTestFinder().find(importlib.import_module("optgui.core"))
    assert sum(len(t.examples) for t in tests) >= 10


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package):
    module = importlib.import_module(package)
    assert module.__all__, f"{package} exports nothing"
    assert len(set(module.__all__)) == len(module.__all__)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_subpackage_loads_none_of_its_modules(package):
    code = (
        f"import sys, {package}\n"
        "loaded = [m for m in sys.modules if m.startswith('optgui.core.') and m.rpartition('.')[2].startswith('_')]\n"
        "print(','.join(loaded)); print('optuna' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    if package != "optgui.core.records":  # the records load eagerly: plain dataclasses that every layer reads
        assert out[0] == ""  # no private module loaded
    assert out[1] == "False"  # and not Optuna: `optgui inspect` starts without it
