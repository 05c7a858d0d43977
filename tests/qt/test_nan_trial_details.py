"""A trial optgui ran whose objective returned NaN is FAIL by Optuna's rule: the details pane says so, in Optuna's
words, instead of "not run by optgui" (issue 18, defect 6)."""

from __future__ import annotations

import warnings

import optuna

from tests.support.determinism import run_cli
from tests.support.verify import cli_env


def _nan_trials(db: str) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name="det", storage=f"sqlite:///{db}")
    return [t.number for t in study.trials if t.state.name == "FAIL" and "simulated failure" not in str(t.system_attrs)]


def test_a_trial_whose_objective_returned_nan_says_so(qtbot, tmp_path, make_window):
    db = str(tmp_path / "flaky.db")
    done = run_cli(db, "RandomSampler(seed=1)", "builtin:flaky", 16, study_name="det", extra_env=cli_env())
    assert done.returncode == 0, done.stderr
    nan_trials = _nan_trials(db)
    assert nan_trials, "the flaky objective returned NaN for none of the trials"
    window = make_window()
    assert window.open_storage(db)
    bench = window.workbench
    bench.show_tab(bench.trials_page)
    qtbot.waitUntil(lambda: bench.loaded, timeout=10000)
    bench.table.select_trial(nan_trials[0])
    details = bench.details
    assert details.number == nan_trials[0] and "FAIL" in details.header.text()
    assert details.error_box.isVisible()
    shown = details.error_title.text() + "\n" + details.error_text.toPlainText()
    assert "not run by optgui" not in shown
    assert "The value nan is not acceptable" in shown, shown
