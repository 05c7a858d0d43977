"""Bad and unusual inputs: each gives a specific one-line message (or reads fine), never a crash, and leaves the
file byte-identical with the same mtime and no new files beside it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

from optgui.core.errors import StorageError
from optgui.core.storage._reader import open_reader
from optgui.core.storage._tables import COMPLETE, FAIL, RUNNING
from tests.support.reader_fixtures import (
    UNICODE_NAME,
    current_schema_db,
    file_state,
    make_old_schema,
)

REPO = Path(__file__).resolve().parents[2]
VALID_LINE = b'{"op_code":0,"worker_id":"w-1","study_name":"s","directions":[1]}\n'
TRIAL_LINE = b'{"op_code":4,"worker_id":"w-1","study_id":0,"datetime_start":"2026-01-01T00:00:00.000000+00:00"}\n'


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> Path:
    return current_schema_db(tmp_path_factory.mktemp("good") / "good.db")


@pytest.fixture
def unusual_db(varied_sqlite) -> Path:
    return varied_sqlite[0]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def _expect_error(path: Path | str, pattern: str, **kwargs) -> str:
    target = Path(path) if not str(path).startswith(("sqlite:", "postgresql:", "mysql:")) else None
    before = file_state(target) if target is not None and target.exists() else None
    with pytest.raises(StorageError, match=pattern) as info:
        with open_reader(str(path), **kwargs) as reader:
            for summary in reader.studies():
                reader.trials(summary.name)
    message = str(info.value)
    assert "\n" not in message
    if before is not None:
        assert file_state(target) == before
    return message


def _sql(path: Path, *statements: str) -> Path:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return path


# ------------------------------------------------------------------------------------------------- files
def test_missing_file(tmp_path):
    _expect_error(tmp_path / "nope.db", r"nope.db does not exist$")
    assert os.listdir(tmp_path) == []


def test_directory(tmp_path):
    _expect_error(tmp_path, "is a directory, not a study file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    _expect_error(path, "is empty: not an Optuna study database")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.db"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    _expect_error(path, "neither a SQLite database nor an Optuna journal file")


def test_truncated_sqlite(tmp_path, good_db):
    path = _copy(good_db, tmp_path / "truncated.db")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    _expect_error(path, "corrupt or truncated|damaged")


def test_corrupt_sqlite_pages(tmp_path, good_db):
    path = _copy(good_db, tmp_path / "corrupt.db")
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page : page * 3] = b"\xa5" * (page * 2)  # overwrite pages 2-3, keep the header page intact
    path.write_bytes(bytes(data))
    _expect_error(path, "corrupt or truncated|damaged")


def test_sqlite_header_only(tmp_path):
    path = tmp_path / "header.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    _expect_error(path, "damaged|corrupt|not an Optuna|no tables")


def test_sqlite_not_optuna(tmp_path):
    path = _sql(tmp_path / "other.db", "CREATE TABLE customers (id INTEGER, name TEXT)", "CREATE TABLE orders (id)")
    _expect_error(path, r"not an Optuna study database \(its tables are: customers, orders\)")


def test_sqlite_without_tables(tmp_path):
    path = _sql(tmp_path / "blank.db", "PRAGMA user_version = 1")
    _expect_error(path, "with no tables: not an Optuna study database")


def test_optuna_tables_without_alembic_stamp(tmp_path, good_db):
    path = _sql(_copy(good_db, tmp_path / "nostamp.db"), "DROP TABLE alembic_version")
    _expect_error(path, "Optuna-like tables but no alembic schema stamp")


def test_empty_alembic_stamp(tmp_path, good_db):
    path = _sql(_copy(good_db, tmp_path / "emptystamp.db"), "DELETE FROM alembic_version")
    _expect_error(path, "no alembic schema stamp")


def test_newer_unknown_schema(tmp_path, good_db):
    path = _sql(
        _copy(good_db, tmp_path / "newer.db"),
        "UPDATE alembic_version SET version_num = 'v9.1.0.a'",
        "UPDATE version_info SET library_version = '9.1.0'",
    )
    message = _expect_error(path, "schema v9.1.0.a .created by Optuna 9.1.0., which is newer than or unknown")
    assert "update optuna" in message


def test_schema_from_before_multi_objective(tmp_path, good_db):
    path = _sql(
        _copy(good_db, tmp_path / "v13.db"),
        "UPDATE alembic_version SET version_num = 'v1.3.0.a'",
        "UPDATE version_info SET library_version = '1.3.0'",
    )
    _expect_error(path, "schema v1.3.0.a .created by Optuna 1.3.0., from before multi-objective.*--upgrade")


def test_pre_alembic_optuna_09(tmp_path, good_db):
    path = _sql(
        _copy(good_db, tmp_path / "v09.db"),
        "DROP TABLE alembic_version",
        "UPDATE version_info SET schema_version = 11, library_version = '0.9.0'",
    )
    _expect_error(path, "created by Optuna 0.9.0 before schemas were versioned")


def test_stamp_without_required_tables(tmp_path, good_db):
    path = _sql(_copy(good_db, tmp_path / "partial.db"), "DROP TABLE trial_values")
    _expect_error(path, "claims Optuna schema v3.2.0.a but lacks the table.s. trial_values")


def test_old_schema_reads_with_warning(tmp_path):
    path = make_old_schema(tmp_path / "old.db", "v3.0.0.a", "3.0.0")
    before = file_state(path)
    with open_reader(str(path)) as reader:
        assert "created by Optuna 3.0.0, schema v3.0.0.a" in reader.notes[0]
        assert len(reader.trials("old")) == 7
        (summary,) = reader.studies()
        assert summary.n_trials == 7 and summary.best_values is not None
    assert file_state(path) == before


def test_locked_database(tmp_path, good_db):
    path = _copy(good_db, tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        before = file_state(path)
        with pytest.raises(StorageError, match="is locked by another process"):
            open_reader(str(path), busy_timeout=0.2)
        assert file_state(path) == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _without_permission_bypass() -> list[str]:
    """The command prefix that runs a child unable to bypass file permissions. Root keeps its uid (so it still
    reaches the checkout and pytest's folders, private to root) but drops every capability, among them the two that
    read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); another user has none of them to drop."""
    if os.geteuid() != 0:
        return []
    runner = shutil.which("setpriv")
    if runner is None:
        pytest.skip("running as root without setpriv (util-linux) to drop the capabilities that bypass permissions")
    prefix = [runner, "--inh-caps=-all", "--bounding-set=-all", "--"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.strip()}")
    return prefix


def test_file_without_read_permission(tmp_path, good_db):
    prefix = _without_permission_bypass()
    path = _copy(good_db, tmp_path / "private.db")
    before = file_state(path)
    path.chmod(0o000)  # not even its owner may read it
    code = (
        "import sys\nfrom optgui.core.errors import StorageError\n"
        "from optgui.core.storage._naming import resolve_for_reading\n"
        "try:\n    resolve_for_reading(sys.argv[1])\nexcept StorageError as exc:\n"
        "    print(exc)\n    sys.exit(3)\n"
    )
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", code, str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
        )
    finally:
        path.chmod(0o600)
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == f"cannot read {path}: permission denied"
    assert file_state(path) == before


# ---------------------------------------------------------------------------------------------- journals
def test_journal_corrupt_middle_line_is_named(tmp_path):
    path = tmp_path / "bad.log"
    path.write_bytes(VALID_LINE + TRIAL_LINE + b'{"op_code":4,"worker_id\n' + TRIAL_LINE)
    _expect_error(path, r"line 3 is not valid JSON")


def test_journal_partial_last_line_is_tolerated(tmp_path):
    path = tmp_path / "partial.log"
    path.write_bytes(VALID_LINE + TRIAL_LINE + b'{"op_code":4,"worker_id":"w-1","stu')
    before = file_state(path)
    with open_reader(str(path)) as reader:
        assert len(reader.trials("s")) == 1
    assert file_state(path) == before


def test_journal_corrupt_last_complete_line_is_tolerated_like_optuna(tmp_path):
    path = tmp_path / "tail.log"
    path.write_bytes(VALID_LINE + TRIAL_LINE + b"{not json}\n")
    with open_reader(str(path)) as reader:
        assert len(reader.trials("s")) == 1
        with open(path, "ab") as handle:  # once another line follows, it is corruption
            handle.write(TRIAL_LINE)
        with pytest.raises(StorageError, match="line 3 is not valid JSON"):
            reader.trials("s")


def test_journal_unknown_operation(tmp_path):
    path = tmp_path / "op.log"
    path.write_bytes(VALID_LINE + b'{"op_code":42,"worker_id":"w"}\n')
    _expect_error(path, "line 2 has an unknown operation code 42")


def test_journal_operation_missing_fields(tmp_path):
    path = tmp_path / "fields.log"
    path.write_bytes(VALID_LINE + b'{"op_code":6,"worker_id":"w"}\n')
    _expect_error(path, r"line 2 is not a valid journal operation \(KeyError")


# ------------------------------------------------------------------------------------------ names / URLs
def test_unknown_study_name_lists_the_studies(good_db):
    with open_reader(str(good_db)) as reader:
        with pytest.raises(StorageError, match=r"no study named 'nope' in .* \(studies: 'old'\)"):
            reader.trials("nope")


def test_in_memory_sqlite_url():
    _expect_error("sqlite:///:memory:", "in-memory SQLite URL has no study")


def test_server_without_reachable_server():
    # Port 9 (discard) on localhost: nothing listens there, the connection is refused at once.
    message = _expect_error("postgresql+psycopg://u:secret@127.0.0.1:9/db", "cannot connect to|not installed")
    assert "secret" not in message


# ----------------------------------------------------------------------------------- unusual but valid
def test_zero_trials_only_running_fail_unicode_three_objectives(unusual_db, tmp_path):
    path = _copy(unusual_db, tmp_path / "u.db")
    before = file_state(path)
    with open_reader(str(path)) as reader:
        summaries = {s.name: s for s in reader.studies()}
        empty = reader.trials("empty")
        assert len(empty) == 0 and empty.values.shape == (0, 1) and summaries["empty"].best_values is None
        assert np.isnat(summaries["empty"].first_activity)
        bad = reader.trials("only-running-fail")
        assert sorted(bad.state.tolist()) == [RUNNING, FAIL, FAIL] and np.isnan(bad.values).all()
        assert np.isnan(bad.best_so_far()).all() and summaries["only-running-fail"].best_values is None
        long_name = reader.trials(UNICODE_NAME)
        assert long_name.study_name == UNICODE_NAME and list(long_name.params) == ["参数 ü"]
        three = reader.trials("three")
        assert three.values.shape[1] == 3 and np.isneginf(three.values[:, 1]).any()
        varied = reader.trials("varied")
        assert np.isposinf(varied.values[:, 0]).any() and np.isneginf(varied.values[:, 0]).any()
        complete = varied.state == COMPLETE
        # Conditional params: each trial has exactly the params of its branch.
        assert not (varied.params["lr"].present & varied.params["depth"].present).any()
        assert (varied.params["x"].present | (varied.state == 4)).all()
        assert complete.any()
        inter = reader.intermediate_values("varied")
        assert np.isnan(inter.value).any() and np.isposinf(inter.value).any()
        kinds = set(varied.params["kind"].decoded()[varied.params["kind"].present].tolist())
        assert kinds <= {"linear", "tree", None, 3, 2.5, True}
    assert file_state(path) == before


def test_browsing_a_lot_changes_nothing(unusual_db, tmp_path):
    path = _copy(unusual_db, tmp_path / "browse.db")
    before = file_state(path)
    for _ in range(3):
        with open_reader(f"sqlite:///{path}") as reader:
            mark = None
            for summary in reader.studies():
                reader.trials(summary.name)
                reader.intermediate_values(summary.name)
                reader.trial_system_attrs(summary.name)
                mark = reader.poll(summary.name, mark if mark and mark.study_id == summary.study_id else None)
                mark = mark.watermark
    assert file_state(path) == before
    assert optuna.load_study(study_name="varied", storage=f"sqlite:///{path}").trials  # still a valid study
