"""The "New study from these trials…" action through the window: select trials in the table, name the new
study; it opens with the trials copied and the source's run definition filled in, runs, equals plain Optuna given
the same add_trials and seed, and verifies as equivalent."""

from __future__ import annotations

import warnings

import optuna
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from optgui.core.engine._warm_start import copied_trial
from optgui.core.storage import read_study
from optgui.core.verify import verify_with_cache
from optgui.qt import dialogs
from tests.support.determinism import objective_for, trial_signature
from tests.support.verify import run_in_process

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warm-start-gui")]
OBJECTIVE = "builtin:mixed"


def _load(db, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.load_study(study_name=name, storage=f"sqlite:///{db}")


def _select(bench, numbers):
    view, model = bench.table.view, bench.table.model
    selection = view.selectionModel()
    selection.clearSelection()
    for number in numbers:
        index = model.index(model.position_of(number), 0)
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection.select(index, flags)


def test_new_study_from_selected_trials_runs_and_verifies(qtbot, tmp_path, make_window, dialog_log, monkeypatch):
    db = tmp_path / "src.db"
    run_in_process(db, "TPESampler(seed=1)", OBJECTIVE, 8, study_name="a")
    window = make_window()
    assert window.open_storage(str(db), "a")
    bench = window.workbench
    window.study_view.tabs.setCurrentWidget(bench.trials_page)
    assert bench.ensure_loaded()
    _select(bench, [1, 2, 3, 5, 6])
    assert sorted(bench.table.selected_trials()) == [1, 2, 3, 5, 6]
    monkeypatch.setattr(dialogs, "text", lambda *a, **k: "warm")
    source_before = [trial_signature(t) for t in _load(db, "a").trials]

    bench.warm_start.action.trigger()

    assert dialog_log.errors == []
    view, panel = window.study_view, window.study_view.panel
    assert view.summary.name == "warm" and view.summary.n_trials == 5
    assert panel.objective.currentText() == OBJECTIVE
    assert panel.sampler.text() == "TPESampler(seed=1)" and panel.seed.text() == "1"
    source = _load(db, "a")
    assert [trial_signature(t) for t in source.trials] == source_before  # the source study is only read

    panel.n_trials.setValue(4)
    qtbot.mouseClick(panel.buttons["Start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.active and window.controller.state == "completed", timeout=90000)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = optuna.load_study(study_name="warm", storage=f"sqlite:///{db}")
        plain = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
        plain.add_trials([copied_trial(source.trials[n]) for n in (1, 2, 3, 5, 6)])
        plain.optimize(objective_for(OBJECTIVE), n_trials=4)
    assert len(warm.trials) == 9
    assert [trial_signature(t) for t in warm.trials] == [trial_signature(t) for t in plain.trials]
    verdict = verify_with_cache(read_study(str(db), "warm"))
    assert verdict.verified and verdict.equivalent and verdict.history == 5


def test_without_a_selection_it_says_what_to_do(qtbot, tmp_path, make_window, dialog_log):
    db = tmp_path / "src.db"
    run_in_process(db, "TPESampler(seed=1)", OBJECTIVE, 3, study_name="a")
    window = make_window()
    assert window.open_storage(str(db), "a")
    window.workbench.ensure_loaded()
    window.workbench.table.view.clearSelection()
    assert window.workbench.warm_start.new_study("x") is None
    assert dialog_log.errors and "Select the trials" in dialog_log.errors[0][1]
