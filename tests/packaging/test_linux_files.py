"""The .desktop entry, AppStream metainfo and MIME package: validated by the freedesktop tools themselves, and the
journal type's magic checked against a journal file written by Optuna's own JournalStorage."""

from __future__ import annotations

import configparser
import subprocess
import xml.etree.ElementTree as ET

import optuna
import pytest

from optgui import APP_ID
from tests.support.packaging import LINUX, PYTHON, require_tool, subprocess_env

DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME = LINUX / f"{APP_ID}.xml"
NS = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
JOURNAL_TYPE = "application/x-optuna-journal"


def desktop_entry(path=DESKTOP):
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def validate_desktop(path) -> subprocess.CompletedProcess:
    return subprocess.run([require_tool("desktop-file-validate"), str(path)], capture_output=True, text=True)


def test_desktop_file_is_valid():
    proc = validate_desktop(DESKTOP)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Hints are not errors, but each one here was a real mistake (e.g. two main categories list the app twice).
    assert "error" not in proc.stdout.lower() and "warning" not in proc.stdout.lower(), proc.stdout
    assert "hint" not in proc.stdout.lower(), proc.stdout


def test_desktop_validator_catches_a_broken_entry(tmp_path):
    """The validator really runs: a wrong entry is rejected (guards against a test that cannot fail)."""
    broken = tmp_path / f"{APP_ID}.desktop"
    broken.write_text(DESKTOP.read_text().replace("Type=Application", "Type=Aplication"))
    assert validate_desktop(broken).returncode != 0


def test_desktop_entry_contents():
    entry = desktop_entry()
    assert entry["Exec"] == "optgui-app %f"
    assert entry["Terminal"] == "false"
    assert entry["Icon"] == APP_ID
    assert {"Science", "DataVisualization"} <= set(entry["Categories"].strip(";").split(";"))
    assert "optuna" in entry["Keywords"].split(";")
    assert entry["MimeType"].strip(";").split(";") == ["application/vnd.sqlite3", "application/x-sqlite3", JOURNAL_TYPE]
    # The window's WM_CLASS is Qt's application name: docks match windows to this launcher with it.
    from optgui import APP_NAME

    assert entry["StartupWMClass"] == APP_NAME


def test_metainfo_is_valid():
    proc = subprocess.run(
        [require_tool("appstreamcli"), "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metainfo_contents(tmp_path):
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.find("screenshots") is None  # no public image URL yet (issue: no screenshot entries)
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("provides/mediatype") == JOURNAL_TYPE
    from optgui import __version__

    assert root.find("releases/release").get("version") == __version__


def test_metainfo_validator_catches_a_broken_file(tmp_path):
    broken = tmp_path / f"{APP_ID}.metainfo.xml"
    broken.write_text(
        METAINFO.read_text().replace("<summary>", "<summary>").replace(f"<id>{APP_ID}</id>", "<id>not an id!</id>")
    )
    proc = subprocess.run(
        [require_tool("appstreamcli"), "validate", "--no-net", str(broken)], capture_output=True, text=True
    )
    assert proc.returncode != 0


def mime_type():
    root = ET.parse(MIME).getroot()
    types = root.findall("m:mime-type", NS)
    assert [t.get("type") for t in types] == [JOURNAL_TYPE]
    return types[0]


def test_mime_package_claims_only_specific_globs():
    globs = {g.get("pattern") for g in mime_type().findall("m:glob", NS)}
    assert globs == {"*.optuna.log", "*.optuna.jsonl"}
    # SQLite already has a system type; bare suffixes belong to other formats.
    assert not globs & {"*.log", "*.db", "*.jsonl", "*.sqlite", "*.sqlite3"}
    assert mime_type().find("m:sub-class-of", NS).get("type") == "text/plain"


def magic_matches(data: bytes) -> bool:
    """shared-mime-info semantics of the package's rules: any top-level match of type "string" at its offset."""
    matches = mime_type().findall("m:magic/m:match", NS)
    assert matches, "no magic rules"
    for match in matches:
        assert match.get("type") == "string"
        offset = int(match.get("offset"))
        if data[offset : offset + len(match.get("value"))] == match.get("value").encode():
            return True
    return False


def real_journal(path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(storage=storage, study_name="j", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
    return path


def test_magic_recognises_a_real_journal_and_nothing_else(tmp_path):
    journal = real_journal(tmp_path / "study.optuna.log")
    match = mime_type().find("m:magic/m:match", NS)
    assert match.get("offset") == "0" and match.get("value") == '{"op_code":'
    assert magic_matches(journal.read_bytes())
    sqlite = tmp_path / "s.db"
    optuna.create_study(storage=f"sqlite:///{sqlite}", study_name="s")
    assert not magic_matches(sqlite.read_bytes())
    assert not magic_matches(b'{"op":1}\n')
    assert not magic_matches(b' {"op_code":0}\n')


QUERY = r"""
import sys
from PySide6.QtCore import QMimeDatabase
db = QMimeDatabase()
for path in sys.argv[1:]:
    print(db.mimeTypeForFile(path).name())
"""


def test_installed_mime_database_types_journal_files(tmp_path):
    """Through update-mime-database and Qt's MIME database (what file dialogs and Qt-based desktops use): a
    journal is recognised by content whatever its name, by the specific glob even when empty, and an SQLite
    database or a plain log file is not taken for one."""
    update = require_tool("update-mime-database")
    data = tmp_path / "xdg-data"
    (data / "mime" / "packages").mkdir(parents=True)
    (data / "mime" / "packages" / MIME.name).write_bytes(MIME.read_bytes())
    subprocess.run([update, str(data / "mime")], check=True, capture_output=True)
    journal = real_journal(tmp_path / "journal-without-suffix")
    empty = tmp_path / "new.optuna.log"
    empty.write_bytes(b"")
    plain_log = tmp_path / "server.log"
    plain_log.write_text("started\n")
    sqlite = tmp_path / "study.db"
    optuna.create_study(storage=f"sqlite:///{sqlite}", study_name="s")
    out = subprocess.run(
        [PYTHON, "-c", QUERY, str(journal), str(empty), str(plain_log), str(sqlite)],
        env=subprocess_env(XDG_DATA_HOME=data),
        capture_output=True,
        text=True,
        check=True,
    )
    names = out.stdout.split()
    assert names[0] == JOURNAL_TYPE
    assert names[1] == JOURNAL_TYPE
    assert names[2] != JOURNAL_TYPE
    assert names[3] in ("application/vnd.sqlite3", "application/x-sqlite3")


@pytest.mark.parametrize("name", ["desktop", "metainfo", "mime"])
def test_no_machine_paths_in_packaging_files(name):
    path = {"desktop": DESKTOP, "metainfo": METAINFO, "mime": MIME}[name]
    text = path.read_text()
    assert "/home/" not in text and "/root/" not in text and "/tmp/" not in text
