"""`optgui inspect` as a user runs it: output, --json, exit codes, one-line errors, no Qt, nothing written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.support.reader_fixtures import current_schema_db, file_state, make_old_schema

REPO = Path(__file__).resolve().parents[2]


def optgui(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "optgui", *args], capture_output=True, text=True, env=env, cwd=REPO)


@pytest.fixture(scope="module")
def study_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.db"
    study = optuna.create_study(
        storage=f"sqlite:///{path}", study_name="demo", sampler=optuna.samplers.RandomSampler(0)
    )
    study.optimize(lambda t: t.suggest_float("x", -2, 2) ** 2 + t.suggest_int("k", 1, 3), n_trials=5)
    study.optimize(lambda t: float("inf"), n_trials=1)
    optuna.create_study(storage=f"sqlite:///{path}", study_name="pair", directions=["minimize", "maximize"])
    return path


def assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optgui: error: "), result.stderr
    assert fragment in lines[0]
    assert result.stdout == ""


def test_lists_studies(study_db):
    before = file_state(study_db)
    result = optgui("inspect", str(study_db))
    assert result.returncode == 0, result.stderr
    assert "schema v3.2.0.a" in result.stdout and "2 studies" in result.stdout
    demo = next(line for line in result.stdout.splitlines() if line.startswith("demo "))
    assert demo.split()[:4] == ["demo", "minimize", "6", "6"]
    assert file_state(study_db) == before


def test_json_summaries_carry_a_schema_field(study_db):
    result = optgui("inspect", f"sqlite:///{study_db}", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "optgui.inspect/1"
    assert data["storage_schema"]["revision"] == "v3.2.0.a"
    studies = {s["name"]: s for s in data["studies"]}
    assert studies["demo"]["n_trials"] == 6 and studies["demo"]["state_counts"] == {"COMPLETE": 6}
    assert studies["pair"]["directions"] == ["minimize", "maximize"] and studies["pair"]["best_values"] is None


def test_trial_table_text_and_json(study_db):
    expected = optuna.load_study(study_name="demo", storage=f"sqlite:///{study_db}").trials
    text = optgui("inspect", str(study_db), "--study", "demo")
    assert text.returncode == 0
    header, *rows = text.stdout.strip().splitlines()
    assert header.split()[:5] == ["number", "state", "value", "x", "k"] and len(rows) == 6
    result = optgui("inspect", str(study_db), "--study", "demo", "--json")
    data = json.loads(result.stdout)
    assert data["schema"] == "optgui.inspect/1" and data["study"]["name"] == "demo"
    assert [t["params"] for t in data["trials"]] == [t.params for t in expected]
    assert data["trials"][-1]["values"] == ["inf"]
    limited = json.loads(optgui("inspect", str(study_db), "--study", "demo", "--json", "--limit", "2").stdout)
    assert [t["number"] for t in limited["trials"]] == [4, 5]


def test_never_imports_qt(study_db):
    code = (
        "import sys\nfrom optgui.cli import main\nrc = main(['inspect', sys.argv[1], '--study', 'demo'])\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'optgui.qt'))]\n"
        "sys.exit(10 if bad else rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(study_db)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda d: d / "missing.db", "does not exist"),
        (lambda d: d, "no study could be read under"),  # a folder is a workspace: tests/commands/test_inspect_folder.py
        (lambda d: _write(d / "empty.db", b""), "is empty"),
        (
            lambda d: _write(
                d / "j.log",
                b'{"op_code":0,"worker_id":"w","study_name":"s","directions":[1]}\n{broken\n{"op_code":1}\n',
            ),
            "line 2 is not valid JSON",
        ),
    ],
)
def test_errors_are_one_line_with_exit_3(tmp_path, make, fragment):
    target = make(tmp_path)
    assert_one_line_error(optgui("inspect", str(target)), fragment)


def test_not_optuna_and_unknown_study(tmp_path, study_db):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    assert_one_line_error(optgui("inspect", str(other)), "not an Optuna study database")
    assert_one_line_error(optgui("inspect", str(study_db), "--study", "nope"), "no study named 'nope'")


def test_usage_error_exits_3():
    result = optgui("inspect")
    assert result.returncode == 3 and "error" in result.stderr


def test_old_schema_warns_exits_0_and_upgrades_on_request(tmp_path):
    path = make_old_schema(tmp_path / "old.db", "v3.0.0.d", "3.0.0")
    before = file_state(path)
    result = optgui("inspect", str(path))
    assert result.returncode == 0, result.stderr
    assert "optgui: warning: old Optuna schema (created by Optuna 3.0.0, schema v3.0.0.d" in result.stderr
    assert "--upgrade" in result.stderr
    assert json.loads(optgui("inspect", str(path), "--json").stdout)["storage_schema"]["current"] is False
    assert file_state(path) == before
    upgraded = optgui("inspect", str(path), "--upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    backups = [p for p in tmp_path.iterdir() if "backup" in p.name]
    assert len(backups) == 1 and file_state(backups[0])[0] == before[0]
    after = optgui("inspect", str(path))
    assert after.returncode == 0 and after.stderr == ""


def test_snapshot_option_reads_a_copy(tmp_path):
    path = current_schema_db(tmp_path / "wal.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    (tmp_path / "wal.db-shm").write_bytes(b"")  # a lone -shm: reading in place would create the -wal
    before = file_state(path)
    refused = optgui("inspect", str(path))
    assert_one_line_error(refused, "snapshot")
    result = optgui("inspect", str(path), "--snapshot")
    assert result.returncode == 0, result.stderr
    assert "reading a snapshot copy" in result.stderr and "old " in result.stdout
    assert file_state(path) == before


def test_lists_each_studys_health_in_text_and_json(study_db):
    text = optgui("inspect", str(study_db))
    assert text.returncode == 0, text.stderr
    header = next(line for line in text.stdout.splitlines() if line.startswith("study "))
    assert header.split()[-1] == "health"
    demo = next(line for line in text.stdout.splitlines() if line.startswith("demo "))
    assert demo.split()[-1] == "idle"  # plain Optuna, nothing RUNNING
    data = json.loads(optgui("inspect", str(study_db), "--json").stdout)
    health = {s["name"]: s["health"] for s in data["studies"]}
    assert health["demo"]["state"] == "idle" and health["demo"]["pruning_rate"] == 0.0
    assert health["pair"]["state"] == "idle" and health["pair"]["median_duration"] is None
    one = json.loads(optgui("inspect", str(study_db), "--study", "demo", "--json").stdout)
    assert one["study"]["health"]["state"] == "idle"
    lines = [json.loads(line) for line in optgui("inspect", str(study_db), "--jsonl").stdout.splitlines()]
    assert {s["name"]: s["health"]["state"] for s in lines} == {"demo": "idle", "pair": "idle"}
