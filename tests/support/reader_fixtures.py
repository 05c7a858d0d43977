"""Study builders and comparisons shared by the reader tests.

Every study is made here with plain Optuna (or, for old schemas, by rewriting a fresh file the way an old Optuna
laid it out); nothing is copied from elsewhere.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import warnings
from datetime import UTC
from pathlib import Path

import numpy as np
import optuna

from optgui.core.storage._tables import STATE_NAMES

optuna.logging.set_verbosity(optuna.logging.ERROR)

UNICODE_NAME = "étude-Δ-研究-🚀-" + "long" * 100  # 419 characters, within VARCHAR(512)


def objective_varied(trial: optuna.Trial) -> float:
    """Conditional params, every distribution kind, odd categorical choices, pruning, failures, ±inf."""
    kind = trial.suggest_categorical("kind", ["linear", "tree", None, 3, 2.5, True])
    x = trial.suggest_float("x", -5.0, 5.0)
    if kind == "linear":
        trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    elif kind == "tree":
        trial.suggest_int("depth", 1, 64, log=True)
        trial.suggest_int("leaves", 2, 20, step=2)
    else:
        trial.suggest_float("q", 0.0, 1.0, step=0.25)
    trial.set_user_attr("note", {"kind": str(kind), "list": [1, 2.5, None]})
    trial.report(float("nan") if trial.number % 5 == 0 else x * 2, 0)
    trial.report(float("inf") if trial.number % 7 == 0 else x, 1)
    if trial.number % 9 == 4:
        raise optuna.TrialPruned()
    if trial.number % 11 == 6:
        raise ValueError("objective failed on purpose")
    if trial.number % 13 == 3:
        return float("inf")
    if trial.number % 13 == 5:
        return float("-inf")
    return x * x


def objective_three(trial: optuna.Trial) -> tuple[float, float, float]:
    a = trial.suggest_float("a", 0, 1)
    b = trial.suggest_int("b", 0, 10)
    if trial.number % 6 == 2:
        raise ValueError("fails")
    return a, float(b) if trial.number % 4 else float("-inf"), a * b


def populate(storage, *, interleave: bool = True, prefix: str = "") -> list[str]:
    """Several studies in one storage; returns their names. Trials of two studies are interleaved.

    `prefix` makes the names unique when a server database is shared by several test runs.
    """
    sampler = optuna.samplers.RandomSampler(seed=1)
    varied = optuna.create_study(storage=storage, study_name=prefix + "varied", sampler=sampler)
    varied.set_user_attr("owner", "tests")
    other = optuna.create_study(
        storage=storage,
        study_name=prefix + UNICODE_NAME,
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=2),
    )
    for _ in range(2 if interleave else 1):
        varied.optimize(objective_varied, n_trials=10, catch=(ValueError,))
        other.optimize(lambda t: t.suggest_float("参数 ü", -1, 1), n_trials=3)
    # A trial left RUNNING with a param and an intermediate value, and an enqueued WAITING trial.
    running = varied.ask()
    running.suggest_float("x", -5, 5)
    running.report(0.5, 3)
    varied.enqueue_trial({"x": 1.25, "kind": "tree"}, user_attrs={"enqueued": True})
    multi = optuna.create_study(
        storage=storage,
        study_name=prefix + "three",
        sampler=optuna.samplers.RandomSampler(seed=3),
        directions=["minimize", "maximize", "minimize"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        multi.set_metric_names(["loss", "accuracy", "latency"])
    multi.optimize(objective_three, n_trials=12, catch=(ValueError,))
    optuna.create_study(storage=storage, study_name=prefix + "empty")
    only_bad = optuna.create_study(storage=storage, study_name=prefix + "only-running-fail")
    only_bad.ask()
    only_bad.optimize(lambda t: 1 / 0, n_trials=2, catch=(ZeroDivisionError,))
    fixed = optuna.create_study(storage=storage, study_name=prefix + "added")
    fixed.add_trial(
        optuna.trial.create_trial(
            params={"c": "b", "v": 3},
            distributions={
                "c": optuna.distributions.CategoricalDistribution(["a", "b"]),
                "v": optuna.distributions.IntDistribution(0, 5),
            },
            value=1.5,
            user_attrs={"u": "ü"},
        )
    )
    return [prefix + name for name in ("varied", UNICODE_NAME, "three", "empty", "only-running-fail", "added")]


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def utc_datetime64(moment) -> np.datetime64:
    """FrozenTrial datetimes are naive local time; the reader's are UTC."""
    if moment is None:
        return np.datetime64("NaT", "us")
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "us")


def assert_matches_optuna(reader, storage, study_name: str) -> None:
    """The reader's table for `study_name` equals optuna.load_study(...).trials in every field it carries."""
    study = optuna.load_study(study_name=study_name, storage=storage)
    expected = study.trials
    table = reader.trials(study_name)
    assert len(table) == len(expected)
    assert table.directions == tuple(d.name.lower() for d in study.directions)
    decoded = {name: column.decoded() for name, column in table.params.items()}
    inter = reader.intermediate_values(study_name)
    for row, trial in enumerate(expected):
        assert table.number[row] == trial.number
        assert STATE_NAMES[table.state[row]] == trial.state.name
        if trial.values is None:
            assert np.isnan(table.values[row]).all()
        else:
            assert all(
                _same_float(float(a), float(b)) for a, b in zip(table.values[row], trial.values, strict=False)
            ), row
        assert table.datetime_start[row] == utc_datetime64(trial.datetime_start) or (
            trial.datetime_start is None and np.isnat(table.datetime_start[row])
        )
        assert table.datetime_complete[row] == utc_datetime64(trial.datetime_complete) or (
            trial.datetime_complete is None and np.isnat(table.datetime_complete[row])
        )
        got_params = {name: decoded[name][row] for name in table.params if table.params[name].present[row]}
        assert got_params == trial.params
        assert [type(v) for v in got_params.values()] == [type(trial.params[k]) for k in got_params]
        # Column order follows suggest order for every trial's own params.
        assert [k for k in table.params if k in trial.params] == list(trial.params)
        for name, dist in trial.distributions.items():
            column = table.params[name]
            assert column.distributions[column.distribution_index[row]].to_optuna() == dist
        got_attrs = {k: v[row] for k, v in table.user_attrs.items() if v[row] is not None}
        assert got_attrs == trial.user_attrs
        got_inter = inter.of_trial(trial.number)
        assert got_inter.keys() == trial.intermediate_values.keys()
        assert all(_same_float(got_inter[k], v) for k, v in trial.intermediate_values.items())
        if table.datetime_complete[row] and not np.isnat(table.datetime_start[row]) and trial.duration:
            assert abs(table.duration[row] - trial.duration.total_seconds()) < 1e-6


def file_state(path: Path) -> tuple:
    """What must not change while a file is read: its bytes, its mtime, and the names in its folder."""
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    mtime = os.stat(path).st_mtime_ns if path.exists() else None
    return digest, mtime, sorted(os.listdir(path.parent))


def current_schema_db(path: Path) -> Path:
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    study = optuna.create_study(storage=storage, study_name="old", sampler=optuna.samplers.RandomSampler(seed=4))
    study.optimize(
        lambda t: t.suggest_float("x", 0, 4) + t.suggest_int("n", 1, 3) + len(t.suggest_categorical("c", ["a", "bb"])),
        n_trials=6,
    )
    study.optimize(lambda t: float("inf"), n_trials=1)
    storage.engine.dispose()
    return path


def make_old_schema(path: Path, revision: str = "v2.6.0.a", library_version: str = "2.6.0") -> Path:
    """A SQLite study laid out as Optuna 2.6 left it: no value/intermediate type columns, no trials.study_id
    index, pre-3.0 distribution class names, and the old alembic stamp. Built from a fresh file."""
    current_schema_db(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP INDEX IF EXISTS ix_trials_study_id")
        conn.execute("ALTER TABLE trial_values RENAME TO trial_values_new")
        conn.execute("""CREATE TABLE trial_values (
            trial_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, objective INTEGER NOT NULL,
            value FLOAT NOT NULL, PRIMARY KEY (trial_value_id), UNIQUE (trial_id, objective),
            FOREIGN KEY(trial_id) REFERENCES trials (trial_id))""")
        # Optuna 2.x had no encoding for infinity and stored the float itself.
        conn.execute("""INSERT INTO trial_values SELECT trial_value_id, trial_id, objective,
            CASE value_type WHEN 'INF_POS' THEN 9e999 WHEN 'INF_NEG' THEN -9e999 ELSE value END
            FROM trial_values_new""")
        conn.execute("DROP TABLE trial_values_new")
        conn.execute("ALTER TABLE trial_intermediate_values RENAME TO tiv_new")
        conn.execute("""CREATE TABLE trial_intermediate_values (
            trial_intermediate_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, step INTEGER NOT NULL,
            intermediate_value FLOAT, PRIMARY KEY (trial_intermediate_value_id), UNIQUE (trial_id, step),
            FOREIGN KEY(trial_id) REFERENCES trials (trial_id))""")
        conn.execute(
            "INSERT INTO trial_intermediate_values SELECT trial_intermediate_value_id, trial_id, step, "
            "intermediate_value FROM tiv_new"
        )
        conn.execute("DROP TABLE tiv_new")
        rows = conn.execute("SELECT param_id, distribution_json FROM trial_params").fetchall()
        for param_id, text in rows:
            conn.execute(
                "UPDATE trial_params SET distribution_json = ? WHERE param_id = ?",
                (_legacy_distribution(text), param_id),
            )
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.execute("UPDATE version_info SET library_version = ?", (library_version,))
    conn.close()
    return path


def _legacy_distribution(text: str) -> str:
    import json

    data = json.loads(text)
    attrs = data["attributes"]
    if data["name"] == "FloatDistribution":
        name = "LogUniformDistribution" if attrs["log"] else "UniformDistribution"
        return json.dumps({"name": name, "attributes": {"low": attrs["low"], "high": attrs["high"]}})
    if data["name"] == "IntDistribution":
        return json.dumps(
            {
                "name": "IntUniformDistribution",
                "attributes": {"low": attrs["low"], "high": attrs["high"], "step": attrs["step"]},
            }
        )
    return text
