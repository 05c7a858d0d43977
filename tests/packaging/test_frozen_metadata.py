"""The frozen build's configuration, checked without building: the macOS Info.plist, the Windows version resource
(parsed by PyInstaller's own parser), and the spec file executed with recording stand-ins for PyInstaller's build
steps. The build itself is checked by `python packaging/smoke_test.py` (minutes, not part of this suite)."""

from __future__ import annotations

import importlib
import plistlib
import sys
import types
from pathlib import Path

import pytest

from optgui import APP_ID, __version__
from tests.support.packaging import ROOT, app_metadata


def test_info_plist_round_trips_through_plistlib():
    meta = app_metadata()
    data = plistlib.loads(plistlib.dumps(meta.info_plist(), fmt=plistlib.FMT_XML))
    assert data["CFBundleIdentifier"] == APP_ID
    assert data["CFBundleShortVersionString"] == __version__
    assert data["NSHighResolutionCapable"] is True
    assert data["NSRequiresAquaSystemAppearance"] is False
    types_by_name = {d["CFBundleTypeName"]: d for d in data["CFBundleDocumentTypes"]}
    assert types_by_name["SQLite database"]["LSItemContentTypes"] == [meta.SQLITE_UTI]
    assert types_by_name["SQLite database"]["LSHandlerRank"] == "Alternate"  # never take SQLite over
    assert types_by_name["Optuna journal file"]["LSItemContentTypes"] == [meta.JOURNAL_UTI]
    exported = {d["UTTypeIdentifier"]: d for d in data["UTExportedTypeDeclarations"]}
    assert exported[meta.JOURNAL_UTI]["UTTypeConformsTo"][0] == "public.plain-text"
    # Every document type's UTI is declared (exported or imported), or Finder ignores it.
    declared = set(exported) | {d["UTTypeIdentifier"] for d in data["UTImportedTypeDeclarations"]}
    for doc in data["CFBundleDocumentTypes"]:
        assert set(doc["LSItemContentTypes"]) <= declared
    # Claiming every .log file would be wrong on macOS too.
    for d in data["UTExportedTypeDeclarations"]:
        assert not {"log", "jsonl", "db"} & set(d["UTTypeTagSpecification"]["public.filename-extension"])


@pytest.mark.parametrize(
    "version, expected",
    [("0.1.0", (0, 1, 0, 0)), ("1.2.3.4", (1, 2, 3, 4)), ("2.0.0rc1", (2, 0, 0, 0)), ("3", (3, 0, 0, 0))],
)
def test_version_tuple(version, expected):
    assert app_metadata().version_tuple(version) == expected


def load_pyinstaller_versioninfo():
    # The parser lives in a module that imports Windows-only helpers at the top; it does not use them to parse.
    sys.modules.setdefault("pefile", types.ModuleType("pefile"))
    import PyInstaller.compat as compat

    if not hasattr(compat, "win32api"):
        compat.win32api = None
    from PyInstaller.utils.win32 import versioninfo

    return versioninfo


@pytest.mark.needs("PyInstaller")
def test_windows_version_file_parses_with_pyinstaller(tmp_path):
    versioninfo = load_pyinstaller_versioninfo()
    path = app_metadata().write_version_file(tmp_path)
    info = versioninfo.load_version_info_from_text_file(str(path))
    major, minor, patch, build = app_metadata().version_tuple()
    assert info.ffi.fileVersionMS == (major << 16) | minor
    assert info.ffi.fileVersionLS == (patch << 16) | build
    strings = {s.name: s.val for s in info.kids[0].kids[0].kids}
    assert strings["ProductVersion"] == __version__
    assert strings["OriginalFilename"] == "optgui.exe"
    assert strings["ProductName"] == "optgui"
    raw = info.toRaw()  # the binary VS_VERSIONINFO that goes into optgui.exe
    assert "optgui.exe".encode("utf-16-le") in raw


class Recorder:
    def __init__(self):
        self.calls = {}

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls[name] = (args, kwargs)
            return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[], name=name)

        return record


def run_spec(tmp_path, monkeypatch, platform):
    spec = ROOT / "packaging" / "pyinstaller" / "optgui.spec"
    rec = Recorder()
    namespace = {name: getattr(rec, name) for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    namespace.update(SPECPATH=str(spec.parent), workpath=str(tmp_path), __file__=str(spec))
    # PyInstaller reads the platform once, at import: import it under the real one, then pretend.
    importlib.import_module("PyInstaller.utils.hooks")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "platform", platform)
    exec(compile(spec.read_text(), str(spec), "exec"), namespace)  # noqa: S102 - the project's own spec
    return rec.calls


@pytest.mark.needs("PyInstaller")
def test_spec_collects_alembic_and_excludes_torch(tmp_path, monkeypatch):
    calls = run_spec(tmp_path, monkeypatch, "linux")
    (script,), analysis = calls["Analysis"]
    assert Path(script[0]).name == "launcher.py"
    targets = {(Path(src).name, dest) for src, dest in analysis["datas"]}
    assert ("alembic.ini", "optuna/storages/_rdb") in targets
    assert ("env.py", "optuna/storages/_rdb/alembic") in targets
    versions = [src for src, dest in analysis["datas"] if dest == "optuna/storages/_rdb/alembic/versions"]
    assert any(Path(v).name.startswith("v3.2.0") for v in versions)  # the current schema head
    assert any(dest == "optgui/resources/icons" for _, dest in analysis["datas"])
    assert any(dest.startswith("pyqtgraph") for _, dest in analysis["datas"])
    assert "optgui.core.verify._process" in analysis["hiddenimports"]
    assert "optgui.commands.run" in analysis["hiddenimports"]
    assert "torch" in analysis["excludes"]
    _, exe = calls["EXE"]
    assert exe["console"] is False and exe["name"] == "optgui"
    assert "BUNDLE" not in calls


@pytest.mark.needs("PyInstaller")
def test_spec_on_macos_builds_a_bundle(tmp_path, monkeypatch):
    calls = run_spec(tmp_path, monkeypatch, "darwin")
    _, bundle = calls["BUNDLE"]
    assert bundle["bundle_identifier"] == APP_ID
    assert bundle["icon"].endswith(f"{APP_ID}.icns") and Path(bundle["icon"]).is_file()
    assert bundle["info_plist"]["NSHighResolutionCapable"] is True
    assert bundle["info_plist"]["CFBundleDocumentTypes"]


@pytest.mark.needs("PyInstaller")
def test_spec_on_windows_has_icon_and_version(tmp_path, monkeypatch):
    calls = run_spec(tmp_path, monkeypatch, "win32")
    _, exe = calls["EXE"]
    assert exe["icon"].endswith(f"{APP_ID}.ico") and Path(exe["icon"]).is_file()
    assert Path(exe["version"]).read_text().startswith("# UTF-8\nVSVersionInfo(")


def test_frozen_launcher_emulates_python_dash_m(tmp_path, monkeypatch, capsys):
    """The badge's verifier runs `sys.executable -m optgui.core.verify._process`; frozen, sys.executable is optgui."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("optgui_launcher", ROOT / "packaging" / "pyinstaller" / "launcher.py")
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    ran = []
    monkeypatch.setattr(launcher.runpy, "run_module", lambda name, **kw: ran.append((name, list(sys.argv))))
    monkeypatch.setattr(sys, "argv", ["/dist/optgui", "-m", "optgui.core.verify._process", "s.db", "study"])
    assert launcher.main() == 0
    assert ran == [("optgui.core.verify._process", ["/dist/optgui", "s.db", "study"])]
    # Anything else is the ordinary command line (here: --version, which exits).
    monkeypatch.setattr(sys, "argv", ["/dist/optgui", "--version"])
    with pytest.raises(SystemExit) as exit_info:
        launcher.main()
    assert exit_info.value.code == 0 and __version__ in capsys.readouterr().out
