"""When a full read lands (every trial touched), the workbench's per-trial caches drop exactly the touched trials
they hold, and the best panel finds the same best rows, by the paths taken for many rows (masks and look-ups of the
few cached trials) as by the per-row paths."""

from __future__ import annotations

import numpy as np
import pytest

from optgui.core.storage import COMPLETE, FAIL, RUNNING, TrialFrame, TrialTable

NAT = np.datetime64("NaT", "us")


def _frame(values, states, directions=("minimize",)) -> TrialFrame:
    n = len(states)
    numbers, nat = np.arange(n, dtype=np.int64), np.full(n, NAT)
    values = np.asarray(values, dtype=float).reshape(n, len(directions))
    table = TrialTable("s", directions, numbers + 1, numbers, np.asarray(states, np.int8), values, nat, nat, nat)
    frame = TrialFrame(directions, capacity=n)
    frame.load(table)
    return frame


@pytest.mark.parametrize("directions", [("minimize",), ("maximize",), ("minimize", "maximize")])
def test_best_rows_of_many_candidates_equal_the_unique_path(directions, monkeypatch):
    from optgui.qt.workbench import best_panel

    rng = np.random.default_rng(3)
    n = 3000
    values = np.round(rng.normal(size=(n, len(directions))), 1)
    values[rng.random(n) < 0.05] = np.nan
    frame = _frame(values, rng.choice(np.array([COMPLETE, COMPLETE, FAIL, RUNNING]), size=n), directions)
    candidates = np.concatenate([rng.integers(0, n, size=2500), np.arange(0, n, 3), [5, 5, 5]])  # repeated rows
    monkeypatch.setattr(best_panel, "UNIQUE_BY_MASK_FROM", 10**9)
    by_unique = best_panel.best_rows(frame, candidates)
    monkeypatch.setattr(best_panel, "UNIQUE_BY_MASK_FROM", 0)
    by_mask = best_panel.best_rows(frame, candidates)
    assert len(by_unique) and np.array_equal(by_mask, by_unique)


def test_details_extras_forget_the_held_trials_a_full_change_touches():
    from optgui.qt.workbench.trial_details import StudyExtras

    extras = StudyExtras()
    extras._system = {3: {"a": 1}, 7: {}, 10**6 + 1: {}}
    extras._intermediate = {7: {0: 1.0}, 9: {}}
    extras.invalidate(np.arange(10**6))  # every trial but 10**6 + 1
    assert extras._system == {10**6 + 1: {}} and extras._intermediate == {}
    extras._system = {2: {}, 4: {}}
    extras.invalidate([4])
    assert set(extras._system) == {2}


def test_trials_model_drops_the_cached_rows_of_touched_trials(qtbot):
    from optgui.qt.workbench.trials_model import TrialsModel

    model = TrialsModel()
    model.bind(_frame(np.arange(100.0), [COMPLETE] * 100))
    for row in (1, 50, 99):
        model.data(model.index(row, 0))
    cached = set(model._cells)
    assert {1, 50, 99} <= cached
    model.rows_changed(np.empty(0, dtype=np.int64), np.arange(60), False)  # many rows: the look-up path
    assert 1 not in model._cells and 50 not in model._cells and 99 in model._cells
    model.rows_changed(np.empty(0, dtype=np.int64), np.array([99]), False)  # few rows: the per-row path
    assert 99 not in model._cells
