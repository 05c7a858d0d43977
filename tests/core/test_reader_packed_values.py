"""The packed read of values (one numpy structured array per chunk, straight from the SQLite cursor) gives what the
row-by-row read gives, for finite values, infinities (stored by Optuna as a NULL value with its type) and a NULL
value of an old file (NaN)."""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import optuna

from optgui.core.storage._reader import open_reader


def _study(path) -> None:
    values = iter([1.5, float("inf"), float("-inf"), 2.5, -0.25])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(storage=f"sqlite:///{path}", study_name="s")
        study.optimize(lambda trial: next(values), n_trials=5)
    with sqlite3.connect(path) as con:  # what an old file holds for a NaN value
        con.execute("UPDATE trial_values SET value = NULL WHERE value = 2.5")


def test_packed_values_equal_the_row_by_row_read(tmp_path):
    path = tmp_path / "values.db"
    _study(path)
    with open_reader(str(path)) as reader:
        packed = reader.trials("s", params=False, user_attrs=False, datetimes=False)  # the plot's read
        rows = reader.trials("s")  # with datetimes: read row by row
    want = np.array([1.5, np.inf, -np.inf, np.nan, -0.25])
    assert np.array_equal(packed.values[:, 0], want, equal_nan=True)
    assert np.array_equal(rows.values[:, 0], want, equal_nan=True)


def test_packed_params_equal_optuna_and_a_null_param_value_is_nan(tmp_path):
    path = tmp_path / "params.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            storage=f"sqlite:///{path}", study_name="s", sampler=optuna.samplers.RandomSampler(0)
        )
        study.optimize(lambda t: t.suggest_float("x", -1, 1) + t.suggest_int("k", 0, 9), n_trials=6)
    want_x = np.array([t.params["x"] for t in study.trials])
    want_k = np.array([t.params["k"] for t in study.trials], dtype=float)
    with sqlite3.connect(path) as con:  # never written by Optuna: read as NaN, as the row-by-row read did
        con.execute("UPDATE trial_params SET param_value = NULL WHERE param_name = 'x' AND trial_id = 3")
    want_x[2] = np.nan
    with open_reader(str(path)) as reader:
        table = reader.trials("s")
    assert np.array_equal(table.params["x"].values, want_x, equal_nan=True)
    assert np.array_equal(table.params["k"].values, want_k)
    assert table.params["x"].present.all()
