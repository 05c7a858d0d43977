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


def _datetimes_study(path, texts) -> None:
    """A study whose trials carry the given datetime texts (start and, reversed, complete), None as NULL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(storage=f"sqlite:///{path}", study_name="s")
        study.optimize(lambda trial: 1.0, n_trials=len(texts))
    with sqlite3.connect(path) as con:
        for number, (start, complete) in enumerate(zip(texts, reversed(texts), strict=True)):
            con.execute(
                "UPDATE trials SET datetime_start = ?, datetime_complete = ? WHERE number = ?",
                (start, complete, number),
            )


def _rows_read(reader, monkeypatch):
    from optgui.core.storage import _rdb_reader

    with monkeypatch.context() as m:
        m.setattr(_rdb_reader.RdbStudyReader, "_packs", lambda self, sel: False)
        return reader.trials("s")


def test_packed_datetimes_equal_the_row_by_row_read(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    micros = rng.integers(-(10**15), 4 * 10**15, size=60)  # 1938 .. 2096, any microsecond
    texts = [str(v).replace("T", " ") for v in micros.astype("datetime64[us]")]
    texts += ["1970-01-01 00:00:00.000000", "2024-02-29 23:59:59.999999", "1969-12-31 23:59:59.500000", None]
    path = tmp_path / "dt.db"
    _datetimes_study(path, texts)
    with open_reader(str(path)) as reader:
        packed = reader.trials("s")
        rows = _rows_read(reader, monkeypatch)
    want = np.array([np.datetime64("NaT") if t is None else np.datetime64(t) for t in texts], dtype="datetime64[us]")
    for got in (packed, rows):
        assert np.array_equal(got.datetime_start.astype(np.int64), want.astype(np.int64))
        assert np.array_equal(got.datetime_complete.astype(np.int64), want[::-1].astype(np.int64))
    assert np.array_equal(packed.duration, rows.duration, equal_nan=True)


def test_datetimes_in_another_form_are_read_row_by_row(tmp_path, monkeypatch):
    from optgui.core.storage._rdb_reader import _parse_joined_datetimes

    # Texts SQLAlchemy does not write: without a fraction, with a "T", a shorter fraction, a day past the month.
    odd = ["2026-01-02 03:04:05", "2026-01-02T03:04:05.000001", "2026-01-02 03:04:05.5", "2026-02-30 00:00:00.000000"]
    for text in [*odd, "N" * 25 + "0", "N" + "o" * 25]:  # (26 characters starting with N: not a NULL)
        assert _parse_joined_datetimes(",".join(["2026-01-01 00:00:00.000000", text]), 2) is None
    assert _parse_joined_datetimes(",".join(["N" * 26, "2026-01-01 00:00:00.000000"]), 2) is not None  # NULL
    path = tmp_path / "odd.db"
    texts = ["2026-01-01 00:00:00.000000", *odd[:3]]
    _datetimes_study(path, texts)
    with open_reader(str(path)) as reader:
        packed = reader.trials("s")
        rows = _rows_read(reader, monkeypatch)
    want = np.array([np.datetime64(t) for t in texts], dtype="datetime64[us]")
    assert np.array_equal(packed.datetime_start, want) and np.array_equal(rows.datetime_start, want)
