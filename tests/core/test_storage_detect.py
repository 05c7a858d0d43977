"""Naming a storage: detection by content, never creating files, clear errors."""

from __future__ import annotations

import sqlite3

import pytest

from optgui.core.errors import StorageError
from optgui.core.storage._naming import parse_storage, redact_url, resolve_for_reading, sniff_file_kind

JOURNAL_LINE = b'{"op_code":0,"worker_id":"w","study_name":"s","directions":[1]}\n'


def _sqlite_file(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    return path


def test_sqlite_detected_by_header_not_suffix(tmp_path):
    path = _sqlite_file(tmp_path / "study.log")
    ref = resolve_for_reading(str(path))
    assert ref.kind == "sqlite" and ref.url == f"sqlite:///{path}"


def test_journal_detected_by_content_not_suffix(tmp_path):
    path = tmp_path / "study.db"
    path.write_bytes(JOURNAL_LINE)
    assert resolve_for_reading(str(path)).kind == "journal"


def test_journal_with_spaces_and_partial_first_line(tmp_path):
    spaced = tmp_path / "spaced"
    spaced.write_bytes(b'{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}\n')
    assert sniff_file_kind(spaced) == "journal"
    partial = tmp_path / "partial"
    partial.write_bytes(b'{"op_code":0,"worker_id":"w","stu')
    assert sniff_file_kind(partial) == "journal"


def test_json_that_is_not_a_journal_is_rejected(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"name": "x"}\n')
    with pytest.raises(StorageError, match="neither a SQLite database nor an Optuna journal"):
        resolve_for_reading(str(path))


@pytest.mark.parametrize(
    "url, kind",
    [
        ("postgresql://u:secret@localhost/db", "rdb"),
        ("postgresql+psycopg://u@h/db", "rdb"),
        ("mysql+pymysql://u:p@127.0.0.1/db", "rdb"),
    ],
)
def test_server_urls(url, kind):
    ref = resolve_for_reading(url)
    assert ref.kind == kind and ref.path is None
    assert "secret" not in ref.display


def test_sqlite_url_to_existing_file(tmp_path):
    path = _sqlite_file(tmp_path / "a.db")
    ref = resolve_for_reading(f"sqlite:///{path}")
    assert ref.kind == "sqlite" and ref.path == path


def test_sqlite_url_pointing_at_a_journal_is_an_error(tmp_path):
    path = tmp_path / "j.log"
    path.write_bytes(JOURNAL_LINE)
    with pytest.raises(StorageError, match="journal file, not SQLite"):
        resolve_for_reading(f"sqlite:///{path}")


@pytest.mark.parametrize("name", ["missing.db", "missing.log", "sub/missing.db"])
def test_missing_path_is_an_error_and_nothing_is_created(tmp_path, name):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(StorageError, match="does not exist"):
        resolve_for_reading(str(tmp_path / name))
    with pytest.raises(StorageError, match="does not exist"):
        resolve_for_reading(f"sqlite:///{tmp_path / name}")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_parse_storage_for_run_still_allows_a_new_file(tmp_path):
    # `run` creates missing files: parse_storage keeps guessing the kind from the suffix.
    assert parse_storage(str(tmp_path / "new.log")).kind == "journal"
    assert parse_storage(str(tmp_path / "new.db")).kind == "sqlite"
    assert not (tmp_path / "new.db").exists()


def test_unsupported_scheme_and_empty_text():
    with pytest.raises(StorageError, match="unsupported storage URL scheme 'redis'"):
        resolve_for_reading("redis://localhost")
    with pytest.raises(StorageError, match="no storage given"):
        resolve_for_reading("  ")


def test_redact_url():
    assert redact_url("postgresql://user:pw@host:5432/db") == "postgresql://user:***@host:5432/db"
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"
