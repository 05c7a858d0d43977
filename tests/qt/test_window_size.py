"""A window of 1000 x 700 px shows every view without growing, and can be made that small after any view."""

from __future__ import annotations

import warnings

import optuna

from optgui.core.engine._runner import RunRequest, StudyRunner


def _two_objective_study(path):
    request = RunRequest(
        storage=str(path), study_name="multi", objective="builtin:multi", sampler="RandomSampler(seed=2)", n_trials=15
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        StudyRunner(request).run()

    def objective(trial):
        return trial.suggest_float("a_rather_long_parameter_name", 0, 1) + trial.suggest_int("b", 0, 3)

    study = optuna.create_study(storage=f"sqlite:///{path}", study_name="single")
    study.optimize(objective, n_trials=10)


def _pages(view):
    """Every page a user can show: each tab, and each analysis view."""
    for index in range(view.tabs.count()):
        if view.tabs.isTabVisible(index):
            view.tabs.setCurrentIndex(index)
            yield view.tabs.tabText(index)
            if view.tabs.widget(index) is view.analysis:
                for key in view.analysis.classes:
                    view.analysis.show_view(key)
                    yield key


def test_a_small_window_shows_every_view_without_growing(qtbot, tmp_path, make_window, dialog_log):
    path = tmp_path / "size.db"
    _two_objective_study(path)
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(path), "multi")
    view = window.study_view
    for study in ("multi", "single"):
        window.study_list.select(study)
        for page in _pages(view):
            qtbot.wait(20)
            assert window.width() <= 1000, f"{study}: the window widened itself to {window.width()} px on {page}"
            assert window.minimumSizeHint().width() <= 1000, page
    window.resize(900, 650)  # and it can be made smaller still
    qtbot.wait(20)
    assert window.width() <= 1000
    assert not dialog_log.errors
