"""A run in the window reaches every view through the engine's events alone: no storage poll during the run, and
what the views show at its end equals a fresh read of the study."""

from __future__ import annotations

import warnings

import numpy as np
from PySide6.QtCore import Qt

from optgui.core.engine._runner import RunRequest, StudyRunner
from optgui.core.storage._reader import open_reader
from optgui.qt.study import reading

N_TRIALS = 14


def _define(path, name: str) -> None:
    runner = StudyRunner(
        RunRequest(
            storage=str(path),
            study_name=name,
            objective="builtin:mixed",
            sampler="RandomSampler(seed=4)",
            n_trials=N_TRIALS,
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.create()


def test_the_windows_own_run_updates_every_view_without_a_storage_poll(qtbot, tmp_path, make_window, monkeypatch):
    path = tmp_path / "own.db"
    _define(path, "own")
    window = make_window()
    assert window.open_storage(str(path), "own")
    view, bench = window.study_view, window.workbench
    bench.show_tab(bench.trials_page)  # the trials table is shown (and bound) before the run starts
    assert bench.loaded

    polls: list[str] = []  # the run state of the study when the reader was polled for its trials
    real_poll = reading.poll

    def counted_poll(reader, study, watermark):
        polls.append(view.run_session.run_state if view.run_session is not None else "idle")
        return real_poll(reader, study, watermark)

    monkeypatch.setattr(reading, "poll", counted_poll)
    at_end: dict = {}

    def on_state(state: str, _message: str) -> None:
        if state == "completed":  # before the end-of-run catch-up poll can have delivered anything
            store = view.session.store
            at_end.update(n=store.n, counts=store.counts(), rows=len(bench.table.model.order), polls=len(polls))

    window.controller.state_changed.connect(on_state)
    button = view.panel.buttons["Start"]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.session.run_state == "completed" and not window.controller.active, timeout=180000)

    assert at_end["polls"] == 0, f"the reader was polled during the run: {polls}"
    assert at_end["n"] == N_TRIALS and at_end["rows"] == N_TRIALS
    assert at_end["counts"]["COMPLETE"] + at_end["counts"]["FAIL"] + at_end["counts"]["PRUNED"] == N_TRIALS
    assert not [state for state in polls if state in ("starting", "running")]

    store = view.session.store
    assert bench.table.model.frame is store  # the table shows the session's store, not a copy
    with open_reader(str(path)) as reader:
        fresh = reader.trials("own")
    held = store.snapshot()
    assert np.array_equal(held.values, fresh.values, equal_nan=True)
    assert np.array_equal(held.state, fresh.state)
    assert np.array_equal(held.datetime_complete, fresh.datetime_complete)
    for name, column in fresh.params.items():
        assert held.params[name].decoded().tolist() == column.decoded().tolist(), name
    # The plot, the best panel and the table's cells show those trials.
    complete = fresh.state == 1
    x, y = view.plot.complete.getData()
    assert sorted(np.asarray(x).astype(int).tolist()) == np.flatnonzero(complete).tolist()
    best = int(np.flatnonzero(complete)[np.argmin(fresh.values[complete, 0])])
    assert bench.best.title.text().startswith(f"Best trial {best}:")
    param = next(iter(fresh.params))
    column = store.column(f"params_{param}")
    shown = [store.display(column, row) for row in range(N_TRIALS)]
    expected = ["" if v is None else str(v) for v in fresh.params[param].decoded().tolist()]
    assert shown == expected or [s.rstrip("0") for s in shown] == [e.rstrip("0") for e in expected]
