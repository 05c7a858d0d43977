"""An analysis view of a study with nothing to draw keeps nothing of the study shown before it: no trial counts in
its status, no param names or value ranges on its axes, no colour bar (issue 18, item 1, for a new or empty study:
the slice view said "22 complete trials" with the axis "a (x0.001)" and the previous study's range)."""

from __future__ import annotations

import warnings

import optuna

PARAM_VIEWS = ("slice", "rank", "contour")
ALL_AXES_VIEWS = ("intermediate-values", "edf", "compare")


def _objective(trial):
    a = trial.suggest_float("alpha", 0, 1000)
    b = trial.suggest_float("beta", 0, 1000)
    for step in range(3):
        trial.report(a + step, step)
    return 500 + a + b


def _file(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        storage = f"sqlite:///{path}"
        study = optuna.create_study(storage=storage, study_name="full", sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(_objective, n_trials=15)
        optuna.create_study(storage=storage, study_name="none")
    return path


def _labels(plot) -> str:
    return " ".join(plot.getAxis(name).labelText for name in ("bottom", "left"))


def test_an_empty_study_shows_no_counts_axes_or_ranges_of_the_previous_one(qtbot, tmp_path, make_window, dialog_log):
    window = make_window()
    window.study_list.live.setChecked(False)
    assert window.open_storage(str(_file(tmp_path / "s.db")), "full")
    view = window.study_view
    view.tabs.setCurrentWidget(view.analysis)
    for key in PARAM_VIEWS + ALL_AXES_VIEWS:
        view.analysis.show_view(key).redraw()
    slice_view = view.analysis.views["slice"]
    assert "complete trials" in slice_view.status.text() and "alpha" in _labels(slice_view.plot)  # (the test sees)

    assert window.study_list.select("none")
    for key in PARAM_VIEWS + ALL_AXES_VIEWS:
        plot_view = view.analysis.show_view(key)
        plot_view.redraw()
        assert "trials" not in plot_view.status.text(), (key, plot_view.status.text())
        for plot in plot_view.plot_items():
            assert "alpha" not in _labels(plot) and "beta" not in _labels(plot), (key, _labels(plot))
            (x0, x1), (y0, y1) = plot.vb.viewRange()
            assert max(abs(x0), abs(x1), abs(y0), abs(y1)) < 100, (key, plot.vb.viewRange())
    assert not view.analysis.views["contour"].bar.isVisible()
    assert not dialog_log.errors
