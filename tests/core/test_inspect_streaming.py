"""`optgui inspect --json` streamed with json's C encoder, and `--jsonl` (one trial per line): the output parses and
holds exactly what Optuna holds, for every kind of param and value."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from optgui.commands import inspect as inspect_command
from optgui.core.storage._reader import open_reader

REPO = Path(__file__).resolve().parents[2]


def optgui(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "optgui", *args], capture_output=True, text=True, env=env, cwd=REPO)


def _objective(trial):
    x = trial.suggest_float("x", -2, 2)
    trial.suggest_float("lr", 1e-5, 1.0, log=True)
    trial.suggest_float("q", 0.0, 1.0, step=0.25)
    trial.suggest_int("k", 1, 9)
    choice = trial.suggest_categorical("c", ["adam", "sgd ✓", None, 3, 2.5, True, 'quote"and\\slash'])
    if trial.number % 3 == 0:
        trial.suggest_float("only_sometimes", 0, 1)  # absent from most trials
    trial.set_user_attr("note", f"trial {trial.number}")
    trial.set_user_attr("nested", {"a": [1, 2.5, None], "b": "ü"})
    if trial.number == 4:
        raise ValueError("a failed trial has no values")
    if trial.number == 5:
        return float("inf")
    return x**2 + (0 if choice is None else 1)


@pytest.fixture(scope="module")
def study_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("streaming") / "s.db"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(storage=f"sqlite:///{path}", study_name="s", sampler=optuna.samplers.RandomSampler(3))
    study.optimize(_objective, n_trials=14, catch=(ValueError,))
    study.ask()  # a RUNNING trial: no values, no completion time, no duration
    pair = optuna.create_study(storage=f"sqlite:///{path}", study_name="pair", directions=["minimize", "maximize"])
    pair.optimize(lambda t: (t.suggest_float("y", 0, 1), float("nan") if t.number == 1 else 1.0), n_trials=3)
    return path


def _expected_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _check_against_optuna(rows: list[dict], path: Path, study: str) -> None:
    trials = optuna.load_study(study_name=study, storage=f"sqlite:///{path}").get_trials(deepcopy=False)
    assert [row["number"] for row in rows] == [t.number for t in trials]
    for row, trial in zip(rows, trials, strict=True):
        assert row["trial_id"] == trial._trial_id
        assert row["state"] == trial.state.name
        assert row["params"] == {k: _expected_value(v) for k, v in trial.params.items()}
        for name, value in trial.params.items():  # bit for bit, not just ==
            if isinstance(value, float):
                assert row["params"][name].hex() == value.hex()
        assert list(row["params"]) == list(trial.params)
        expected_values = None if trial.values is None else [_expected_value(v) for v in trial.values]
        assert row["values"] == expected_values
        assert row["user_attrs"] == trial.user_attrs
        if trial.datetime_complete is None:
            assert row["datetime_complete"] is None and row["duration"] is None
        else:
            assert row["duration"] == pytest.approx((trial.datetime_complete - trial.datetime_start).total_seconds())


def test_json_holds_what_optuna_holds_one_trial_per_line(study_db):
    result = optgui("inspect", str(study_db), "--study", "s", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "optgui.inspect/1" and data["study"]["name"] == "s"
    _check_against_optuna(data["trials"], study_db, "s")
    # Streamed: the document's head on one line, then one trial per line (no indent pass over the pure encoder).
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + len(data["trials"]) + 1
    for line, trial in zip(lines[1:-1], data["trials"], strict=True):
        assert json.loads(line.rstrip(",")) == trial


def test_jsonl_prints_one_trial_per_line_and_nothing_else(study_db):
    result = optgui("inspect", str(study_db), "--study", "s", "--jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 15 and result.stdout.endswith("}\n")
    _check_against_optuna(rows, study_db, "s")
    as_json = json.loads(optgui("inspect", str(study_db), "--study", "s", "--json").stdout)
    assert rows == as_json["trials"]


def test_jsonl_of_a_multi_objective_study_with_limit(study_db):
    result = optgui("inspect", str(study_db), "--study", "pair", "--jsonl", "--limit", "2")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["number"] for row in rows] == [1, 2]
    assert rows[0]["state"] == "FAIL" and rows[0]["values"] is None  # Optuna fails a NaN value
    assert len(rows[1]["values"]) == 2


def test_jsonl_without_a_study_prints_one_study_per_line(study_db):
    result = optgui("inspect", str(study_db), "--jsonl")
    assert result.returncode == 0, result.stderr
    studies = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(s["name"] for s in studies) == ["pair", "s"]
    assert {s["name"]: s["n_trials"] for s in studies} == {"s": 15, "pair": 3}


def test_json_and_jsonl_exclude_each_other(study_db):
    result = optgui("inspect", str(study_db), "--study", "s", "--json", "--jsonl")
    assert result.returncode == 3 and result.stdout == ""
    assert "not allowed with" in result.stderr


def test_the_encoded_rows_equal_the_per_row_dicts(study_db):
    """encoded_trials builds the text column by column; trial_rows (per-row dicts, what --json encoded before) is
    its reference."""
    with open_reader(str(study_db)) as reader:
        for study in ("s", "pair"):
            table = reader.trials(study)
            encoded = [json.loads(text) for text in inspect_command.encoded_trials(table)]
            assert encoded == json.loads(json.dumps(list(inspect_command.trial_rows(table))))
