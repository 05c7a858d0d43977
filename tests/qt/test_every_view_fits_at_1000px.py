"""At 1000 x 700 px every page of the window (each tab, each analysis view, for a study with pruned trials and a
categorical param, a two-objective study and an empty one) shows its texts whole and the window does not grow
(issue 18, items 5 and 8: "Prune", "sigmoi", "No trials", "best so far", the analysis views' header)."""

from __future__ import annotations

import warnings

import optuna
import pytest

from tests.support.clipping import clipped_on_each_page


def _pruned_objective(trial):
    a = trial.suggest_float("a", 0, 1)
    trial.suggest_int("b", 0, 5)
    c = trial.suggest_float("c", 1e-3, 1, log=True)
    trial.suggest_categorical("kind", ["sigmoid", "relu", "tanh"])
    for step in range(5):
        trial.report(a * (5 - step) / 5, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return a * 0.5 + c * 0.5


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "studies.db"
    storage = f"sqlite:///{path}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pruned = optuna.create_study(
            storage=storage,
            study_name="pruned",
            sampler=optuna.samplers.TPESampler(seed=1),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        )
        pruned.optimize(_pruned_objective, n_trials=30)
        two = optuna.create_study(
            storage=storage,
            study_name="two-objectives",
            directions=["minimize", "maximize"],
            sampler=optuna.samplers.RandomSampler(seed=3),
        )
        two.optimize(lambda t: (t.suggest_float("p", 0, 1), t.suggest_float("q", 0, 2)), n_trials=20)
        optuna.create_study(storage=storage, study_name="empty")
    return path


def test_every_page_shows_its_texts_whole_in_a_1000x700_window(qtbot, studies, make_window, dialog_log):
    window = make_window()
    window.resize(1000, 700)
    window.study_list.live.setChecked(False)
    assert window.open_storage(str(studies), "pruned")
    qtbot.waitUntil(lambda: window.width() == 1000)
    view = window.study_view
    problems = []
    for study in ("pruned", "two-objectives", "empty"):
        assert window.study_list.select(study)
        problems += clipped_on_each_page(qtbot, window, view, max_width=1000, prefix=f"{study} ")
    assert not problems, "\n".join(problems)
    assert not dialog_log.errors
