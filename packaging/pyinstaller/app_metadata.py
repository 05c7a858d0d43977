"""Platform metadata of the frozen build, computed from the package (version, application id) so that it cannot
drift from it: the macOS Info.plist keys and the Windows version resource. Used by optgui.spec and by the tests.

Nothing here imports PyInstaller, so the tests can check the generated data on a machine without it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from optgui import APP_ID, APP_NAME, __version__  # noqa: E402

JOURNAL_UTI = "io.github.optgui.optuna-journal"
SQLITE_UTI = "org.sqlite.sqlite3"
COPYRIGHT = "The optgui developers, MIT License"
DESCRIPTION = "optgui: a desktop application for Optuna studies"


def version_tuple(version: str = __version__) -> tuple[int, int, int, int]:
    """Four integers for the Windows FILEVERSION ("0.2.0rc1" -> (0, 2, 0, 0))."""
    parts = [int(re.match(r"\d*", p).group() or 0) for p in version.split(".")[:4]]
    return tuple(parts + [0] * (4 - len(parts)))  # type: ignore[return-value]


def info_plist(version: str = __version__) -> dict:
    """Keys merged into the app bundle's Info.plist (PyInstaller writes the executable and icon keys itself)."""
    return {
        "CFBundleIdentifier": APP_ID,
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "CFBundlePackageType": "APPL",
        "NSHumanReadableCopyright": COPYRIGHT,
        "LSApplicationCategoryType": "public.app-category.developer-tools",
        # Qt 6.10 runs on macOS 13 and later.
        "LSMinimumSystemVersion": "13.0",
        # Retina rendering (without it macOS scales a low-resolution bitmap) and dark mode.
        "NSHighResolutionCapable": True,
        "NSSupportsAutomaticGraphicsSwitching": True,
        "NSRequiresAquaSystemAppearance": False,
        "NSPrincipalClass": "NSApplication",
        # Documents optgui opens from Finder; they arrive as QFileOpenEvent. SQLite files belong to other apps
        # too, so optgui is an alternate handler; journal files are optgui's own type.
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "SQLite database",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": [SQLITE_UTI],
            },
            {
                "CFBundleTypeName": "Optuna journal file",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Owner",
                "LSItemContentTypes": [JOURNAL_UTI],
            },
        ],
        # A UTI matches the last extension only, so "study.optuna.log" cannot be described; journal files get
        # their own type for the unambiguous "optuna-journal" and "optunalog" extensions, and any .log/.jsonl
        # file still opens through File > Open or by dropping it on the window.
        "UTExportedTypeDeclarations": [
            {
                "UTTypeIdentifier": JOURNAL_UTI,
                "UTTypeDescription": "Optuna journal file",
                "UTTypeConformsTo": ["public.plain-text", "public.data"],
                "UTTypeTagSpecification": {"public.filename-extension": ["optuna-journal", "optunalog"]},
            },
        ],
        "UTImportedTypeDeclarations": [
            {
                "UTTypeIdentifier": SQLITE_UTI,
                "UTTypeDescription": "SQLite database",
                "UTTypeConformsTo": ["public.database", "public.data"],
                "UTTypeTagSpecification": {
                    "public.filename-extension": ["db", "sqlite", "sqlite3", "db3"],
                    "public.mime-type": ["application/vnd.sqlite3", "application/x-sqlite3"],
                },
            },
        ],
    }


def windows_version_text(version: str = __version__) -> str:
    """The version resource in PyInstaller's VSVersionInfo text format (EXE(version=...))."""
    vt = version_tuple(version)
    strings = [
        ("CompanyName", "The optgui developers"),
        ("FileDescription", DESCRIPTION),
        ("FileVersion", version),
        ("InternalName", APP_NAME),
        ("LegalCopyright", COPYRIGHT),
        ("OriginalFilename", f"{APP_NAME}.exe"),
        ("ProductName", APP_NAME),
        ("ProductVersion", version),
    ]
    table = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings)
    return f"""# UTF-8
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={vt},
    prodvers={vt},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable(
        '040904B0',
        [
          {table}
        ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def write_version_file(directory: Path, version: str = __version__) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "windows_version_info.txt"
    path.write_text(windows_version_text(version), encoding="utf-8")
    return path
