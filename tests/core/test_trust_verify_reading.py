"""`optgui verify` reads a study exactly as carefully as `optgui inspect` (issue 16, Major 4).

Every bad input gets one line on stderr, in the same words as inspect, with exit code 3 and the file unchanged; a
WAL-mode study is read from a private snapshot (its committed WAL content included), so nothing appears beside it,
not after the CLI and not after the app's verifier; a study in a read-only folder verifies.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from optgui.core.verify._process import VerifyJob
from tests.support.reader_fixtures import current_schema_db, file_state
from tests.support.verify import run_in_process

OPTGUI = str(Path(sys.executable).parent / "optgui")  # the console script a user runs
VALID_LINE = b'{"op_code":0,"worker_id":"w-1","study_name":"s","directions":[1]}\n'
TRIAL_LINE = b'{"op_code":4,"worker_id":"w-1","study_id":0,"datetime_start":"2026-01-01T00:00:00.000000+00:00"}\n'


def optgui(*args: str, cache: Path, prefix: tuple = (), cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPTGUI_CACHE_DIR": str(cache)}
    return subprocess.run([*prefix, OPTGUI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=240)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("optgui: error: ") and "Traceback" not in result.stderr
    return lines[0]


def _sql(path: Path, *statements: str) -> Path:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return path


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> Path:
    return current_schema_db(tmp_path_factory.mktemp("good") / "good.db")


def truncated(tmp_path, good_db):
    data = good_db.read_bytes()
    path = tmp_path / "truncated.db"
    path.write_bytes(data[: len(data) // 2])
    return str(path)


def truncated_wal(tmp_path, good_db):
    path = Path(shutil.copyfile(good_db, tmp_path / "twal.db"))
    _sql(path, "PRAGMA journal_mode=WAL")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return str(path)


def not_optuna(tmp_path, good_db):
    return str(_sql(tmp_path / "other.db", "CREATE TABLE invoices (id INTEGER, total REAL)"))


def future_schema(tmp_path, good_db):
    path = Path(shutil.copyfile(good_db, tmp_path / "future.db"))
    return str(_sql(path, "UPDATE alembic_version SET version_num = 'v9.1.0.a'"))


def garbage_journal_line(tmp_path, good_db):
    path = tmp_path / "garbage.log"
    path.write_bytes(VALID_LINE + TRIAL_LINE + b"\xff\xfe not json \x00\n" + TRIAL_LINE)
    return str(path)


def unknown_op_code(tmp_path, good_db):
    path = tmp_path / "op.log"
    path.write_bytes(VALID_LINE + b'{"op_code":42,"worker_id":"w"}\n')
    return str(path)


def refused_postgresql(tmp_path, good_db):
    return "postgresql://u:secret@127.0.0.1:9/db"  # port 9: nothing listens, the connection is refused


def refused_mysql(tmp_path, good_db):
    return "mysql://u:secret@127.0.0.1:9/db"


BAD_INPUTS = [
    truncated,
    truncated_wal,
    not_optuna,
    future_schema,
    garbage_journal_line,
    unknown_op_code,
    refused_postgresql,
    refused_mysql,
]


@pytest.mark.parametrize("make", BAD_INPUTS, ids=[f.__name__ for f in BAD_INPUTS])
def test_verify_answers_a_bad_input_with_inspects_one_line(tmp_path, good_db, make):
    (tmp_path / "studies").mkdir()
    storage = make(tmp_path / "studies", good_db)
    path = Path(storage) if "://" not in storage else None
    before = file_state(path) if path else None
    verified = optgui("verify", storage, cache=tmp_path / "cache")
    inspected = optgui("inspect", storage, cache=tmp_path / "cache")
    assert verified.returncode == 3 and inspected.returncode == 3
    assert one_error_line(verified) == one_error_line(inspected)
    assert "secret" not in verified.stderr
    if path:
        assert file_state(path) == before


@pytest.mark.skipif(importlib.util.find_spec("pymysql") is None, reason="PyMySQL is not installed")
def test_verify_reaches_a_mysql_url_through_pymysql(tmp_path):
    line = one_error_line(optgui("verify", "mysql://u:secret@127.0.0.1:9/db", cache=tmp_path))
    assert "ImportError" not in line and "not installed" not in line
    assert line.startswith("optgui: error: cannot connect to mysql://u:***@127.0.0.1:9/db")


def test_verify_waits_for_a_locked_database_and_says_so_like_inspect(tmp_path, good_db):
    (tmp_path / "studies").mkdir()
    path = Path(shutil.copyfile(good_db, tmp_path / "studies" / "locked.db"))
    # Taken before locking: closing any descriptor of the file in this process would drop the holder's POSIX lock.
    before = file_state(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        verified = optgui("verify", str(path), cache=tmp_path / "cache")
        inspected = optgui("inspect", str(path), cache=tmp_path / "cache")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert verified.returncode == 3
    assert one_error_line(verified) == one_error_line(inspected)
    assert "is locked by another process" in verified.stderr
    assert file_state(path) == before


# ------------------------------------------------------------------------------------- optgui metadata
@pytest.fixture(scope="module")
def optgui_study(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("optgui") / "run.db"
    run_in_process(path, "RandomSampler(seed=3)", "builtin:quadratic", 5)
    return path


MALFORMED = {
    "run-not-an-object": ("optgui:run", "[1, 2]"),
    "segment-start-is-text": ("optgui:segment:0", '{"index": 0, "start_trial": "zero", "end": null}'),
    "segment-without-index": ("optgui:segment:0", '{"start_trial": 0}'),
    "state-without-sampler-state": ("optgui:state:0", '{"boundary": 0}'),
    "state-key-not-a-number": ("optgui:state:x", "{}"),
    "objective-not-an-object": ("optgui:run", None),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_optgui_metadata_is_unverifiable_naming_the_key(tmp_path, optgui_study, case):
    key, value = MALFORMED[case]
    (tmp_path / "studies").mkdir()
    path = Path(shutil.copyfile(optgui_study, tmp_path / "studies" / "tampered.db"))
    conn = sqlite3.connect(path)
    with conn:
        if value is None:  # edit one field of the run record
            (raw,) = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = ?", (key,)).fetchone()
            record = json.loads(raw)
            record["objective"] = "x"
            value = json.dumps(record)
        conn.execute("DELETE FROM study_system_attributes WHERE key = ?", (key,))
        conn.execute("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (1, ?, ?)", (key, value))
    conn.close()
    before = file_state(path)
    result = optgui("verify", str(path), "--no-cache", cache=tmp_path / "cache")
    assert result.returncode == 2, result.stderr  # unverifiable: the replay cannot lean on a record it cannot trust
    assert "Traceback" not in result.stderr + result.stdout
    assert "optgui metadata is malformed" in result.stdout and key in result.stdout, result.stdout
    assert file_state(path) == before


# -------------------------------------------------------------------------------------------- WAL studies
def wal_study(folder: Path) -> Path:
    """An optgui study switched to WAL mode, with no writer connected (no -wal/-shm beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "wal.db"
    run_in_process(path, "RandomSampler(seed=3)", "builtin:quadratic", 6)
    _sql(path, "PRAGMA journal_mode=WAL")
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    return path


def test_verifying_a_wal_study_leaves_nothing_beside_it(tmp_path):
    path = wal_study(tmp_path / "studies")
    before = file_state(path)
    result = optgui("verify", str(path), "--no-cache", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert file_state(path) == before  # bytes, mtime and the folder's names: no -wal, no -shm
    # The app verifies on open through the same child process.
    verdict = VerifyJob(str(path), use_cache=False, env={"OPTGUI_CACHE_DIR": str(tmp_path / "cache")}).wait(300)
    assert verdict.kind == "verified"
    assert file_state(path) == before


def test_a_wal_study_is_read_with_its_wal_content(tmp_path):
    """Trials committed only to the -wal file (a writer is still connected) are part of what verify reads."""
    (tmp_path / "studies").mkdir()
    path = tmp_path / "studies" / "live.db"
    holder = sqlite3.connect(path)
    holder.execute("PRAGMA journal_mode=WAL").fetchall()
    holder.execute("PRAGMA wal_autocheckpoint=0").fetchall()
    with_wal = None
    try:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            storage=f"sqlite:///{path}", study_name="plain", sampler=optuna.samplers.RandomSampler(seed=8)
        )
        study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=7)
        with_wal = [file_state(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-shm")]
        assert Path(f"{path}-wal").stat().st_size > 0
        result = optgui("verify", str(path), "--no-cache", "--json", "--spec", "RandomSampler(seed=8)", cache=tmp_path)
        assert result.returncode == 0, result.stderr
        verdict = json.loads(result.stdout)
        assert verdict["kind"] == "verified" and verdict["n_total"] == 7 and verdict["n_checked"] == 7
        assert [file_state(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-shm")] == with_wal
    finally:
        holder.close()


def _without_capabilities() -> tuple[str, ...] | None:
    """A command prefix that runs as root without capabilities (file permissions apply), or None."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--inh-caps=-all", "--bounding-set=-all")
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def test_a_study_in_a_read_only_folder_verifies(tmp_path):
    prefix = _without_capabilities()
    if prefix is None:
        pytest.skip("setpriv cannot drop capabilities here")
    folder = tmp_path / "readonly"
    path = wal_study(folder)
    os.chmod(folder, 0o555)
    try:
        denied = subprocess.run([*prefix, "touch", str(folder / "probe")], capture_output=True)
        if denied.returncode == 0:
            pytest.skip("dropping capabilities does not make the folder read-only here")
        before = file_state(path)
        result = optgui("verify", str(path), "--no-cache", cache=tmp_path / "cache", prefix=prefix)
        assert result.returncode == 0, result.stderr
        assert "verified" in result.stdout.lower()
        assert file_state(path) == before
    finally:
        os.chmod(folder, 0o755)
