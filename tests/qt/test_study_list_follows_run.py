"""During a run the study list's row of the running study counts what the header counts, not what the last read of
the storage found (issue 18, item 8: the study list lagged the header during a run)."""

from __future__ import annotations

from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", 0, 1)


def _row(window, name):
    model = window.study_list.model
    return model.rows[model.row_of(name)]


def test_the_running_studys_row_counts_what_the_header_counts(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", trials=2, objective=_objective)
    window = make_window()
    window.study_list.live.setChecked(False)  # no periodic re-read: the row can only follow the run itself
    assert window.open_storage(str(db))
    view, panel = window.study_view, window.study_view.panel
    panel.objective.setCurrentText("builtin:slow(sleep=0.05)")
    panel.sampler.setText("RandomSampler(seed=3)")
    panel.n_trials.setValue(400)
    panel.buttons["Start"].click()
    qtbot.waitUntil(lambda: view.session.data.n >= 12, timeout=120000)
    qtbot.waitUntil(lambda: _row(window, "det").n_trials >= 12, timeout=3000)
    assert window.controller.active, "the run ended first: the test shows nothing"
    row, data = _row(window, "det"), view.session.data
    assert row.n_trials <= data.n and row.state_counts.get("COMPLETE", 0) >= 10
    assert row.best_values == (data.best_value(),) or row.best_values[0] >= data.best_value()
    window.controller.stop("paused")
    qtbot.waitUntil(lambda: not window.controller.active, timeout=60000)
    assert not dialog_log.errors
