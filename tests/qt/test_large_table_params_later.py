"""A large study's trials table is shown at once from the session's store (numbers, states, values); its params
arrive from a read in the worker thread and then equal a fresh read."""

from __future__ import annotations

import warnings

import numpy as np
import optuna

from optgui.core.storage._reader import open_reader


def _study(path) -> None:
    def objective(trial):
        x = trial.suggest_float("x", -1, 1)
        trial.suggest_categorical("kind", ["u", "v"])
        return x * x

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(storage=f"sqlite:///{path}", study_name="big")
        study.optimize(objective, n_trials=30)


def test_the_table_of_a_large_study_shows_at_once_and_its_params_follow(qtbot, tmp_path, make_window, monkeypatch):
    from optgui.qt.workbench import workbench

    monkeypatch.setattr(workbench, "TABLE_READ_IN_BACKGROUND_FROM", 10)  # 30 trials count as large here
    path = tmp_path / "big.db"
    _study(path)
    window = make_window()
    assert window.open_storage(str(path), "big")
    view, bench = window.study_view, window.workbench
    bench.show_tab(bench.trials_page)
    model = bench.table.model
    assert bench.loaded and model.frame is view.session.store and len(model.order) == 30
    assert not any(c.key.startswith("params_") for c in model.columns)  # not read yet: the table is usable anyway
    qtbot.waitUntil(lambda: view.session.store.params_loaded, timeout=60000)
    assert {c.key for c in model.columns} >= {"params_x", "params_kind"}
    with open_reader(str(path)) as reader:
        fresh = reader.trials("big")
    store = view.session.store
    column = store.column("params_kind")
    assert [store.display(column, r) for r in range(30)] == [str(v) for v in fresh.params["kind"].decoded()]
    assert np.array_equal(store.snapshot().datetime_start, fresh.datetime_start)
    index = model.index(0, [c.key for c in model.columns].index("params_kind"))
    assert model.data(index) == str(fresh.params["kind"].decoded()[0])
