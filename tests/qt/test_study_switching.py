"""Switching studies: whatever was shown before, every view shows the selected study and nothing of another one.

Two studies in one file and a third in another file, with disjoint values (1000-1100, 0-265 and 0-1), params,
objectives and verdicts. Each switch (study list, File > Open, File > New study, a run, a switch during a run) is
followed by a check of the convergence plot's point layers and best line, the legend, both badges, the run panel's
fields, the trials table, the best panel, the details pane and every analysis view's plotted data.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import optuna
import pytest
from PySide6.QtCore import Qt

from optgui.core.engine._runner import RunRequest, StudyRunner

HIGH = "high"  # plain Optuna, values 1000-1100, params a, b, kind
LOW = "low"  # run by optgui (builtin:quadratic), values 0-265, params x, y
TINY = "tiny"  # plain Optuna in another file, values 0-1, param p, two failed trials
LOW_SAMPLER = "RandomSampler(seed=1)"


@dataclass(frozen=True)
class Expected:
    name: str
    lo: float
    hi: float
    complete: int
    failed: int
    params: frozenset
    objective: str  # the run panel's objective field
    n_trials: int  # the run panel's "Trials (total)"
    recorded: bool  # the definition is fixed (run by optgui)
    badge: str  # the badge's kind once the study is checked


EXPECT = {
    HIGH: Expected(HIGH, 1000, 1100, 20, 0, frozenset({"a", "b", "kind"}), "", 120, False, "unverifiable"),
    LOW: Expected(LOW, 0, 265, 12, 0, frozenset({"x", "y"}), "builtin:quadratic", 12, True, "verified"),
    TINY: Expected(TINY, 0, 1, 6, 2, frozenset({"p"}), "", 108, False, "unverifiable"),
}


def _high(trial):
    a = trial.suggest_float("a", 0, 1)
    trial.suggest_int("b", 0, 10)
    trial.suggest_categorical("kind", ["u", "v"])
    return 1000 + 100 * a


def _tiny(trial):
    p = trial.suggest_float("p", 0, 1)
    if trial.number in (2, 5):
        raise ValueError("failed on purpose")
    return p


def _plain(path, name, objective, n_trials):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=f"sqlite:///{path}", study_name=name, sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(objective, n_trials=n_trials, catch=(ValueError,))


def _optgui(path, name, objective, sampler, n_trials, run=True):
    runner = StudyRunner(
        RunRequest(storage=str(path), study_name=name, objective=objective, sampler=sampler, n_trials=n_trials)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.run() if run else runner.create()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("switching")
    two, other = folder / "two.db", folder / "other.db"
    _plain(two, HIGH, _high, 20)
    _optgui(two, LOW, "builtin:quadratic", LOW_SAMPLER, 12)
    _plain(other, TINY, _tiny, 8)
    return two, other


# --- what the window shows ------------------------------------------------------------------------------------------
def _layer(item) -> tuple[np.ndarray, np.ndarray]:
    x, y = item.getData()
    return np.asarray(x if x is not None else []), np.asarray(y if y is not None else [])


def assert_plot_shows(view, e: Expected) -> None:
    plot = view.plot
    x, y = _layer(plot.complete)
    assert len(x) == e.complete, f"{e.name}: {len(x)} complete points drawn"
    assert ((y >= e.lo) & (y <= e.hi)).all(), f"{e.name}: complete points {y.min()}..{y.max()}"
    assert (x < e.complete + e.failed).all()
    fx, _ = _layer(plot.failed)
    assert len(fx) == e.failed and plot.strip.isVisible() == (e.failed > 0)
    px, _ = _layer(plot.pruned)
    assert len(px) == 0
    bx, by = plot.best.getData()
    by = np.asarray(by)[np.isfinite(by)]
    if e.complete:
        assert len(by) and ((by >= e.lo) & (by <= e.hi)).all(), f"{e.name}: best line {by}"
    else:
        assert len(by) == 0 and plot.placeholder.isVisible()
    # The value axis frames this study's values, not another's.
    y0, y1 = plot.main.vb.viewRange()[1]
    if e.complete:
        assert y0 <= y.min() and y1 >= y.max()
        assert y1 - y0 <= 3 * (e.hi - e.lo), f"{e.name}: y range {y0}..{y1}"
    assert "complete" in plot.legend.text() and "best so far" in plot.legend.text()


def assert_badges_agree(window, e: Expected | None = None) -> None:
    view = window.study_view
    assert window.status_badge.state == view.badge.state == view.session.verification
    if e is not None:
        assert view.badge.state.kind == e.badge, view.badge.state.text


def assert_panel_shows(view, e: Expected) -> None:
    panel = view.panel
    assert panel.objective.currentText() == e.objective
    assert panel.objective.isEnabled() == (not e.recorded)
    assert (panel.sampler.text() == LOW_SAMPLER) == (e.name == LOW)
    assert panel.n_trials.value() == e.n_trials
    assert view.title.text() == e.name
    assert f"{e.complete + e.failed} trials" in view.subtitle.text().replace("\u00a0", " ")


def assert_workbench_shows(window, e: Expected) -> None:
    wb = window.workbench
    wb.show_tab(wb.trials_page)
    frame = wb.table.model.frame
    assert frame.n == e.complete + e.failed
    params = {c.key.removeprefix("params_") for c in wb.table.model.columns if c.key.startswith("params_")}
    assert params == set(e.params)
    values = frame.values[: frame.n, 0]
    finite = values[np.isfinite(values)]
    assert ((finite >= e.lo) & (finite <= e.hi)).all()
    # Best panel: this study's best trial and params.
    wb.show_tab(wb.best)
    best = float(np.nanmin(finite))
    assert wb.best.title.text().startswith(f"Best trial {int(np.flatnonzero(values == best)[0])}:")
    shown = {wb.best.params.item(i, 0).text() for i in range(wb.best.params.rowCount())}
    assert shown == set(e.params)
    # Details pane: picking a trial shows this study's trial.
    window.study_view.selection.select(1)
    assert wb.details.number == 1 and wb.details.frame is frame
    tree = wb.details.tree
    groups = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    params = next(g for g in groups if g.text(0).startswith("Params"))
    assert {params.child(j).text(0) for j in range(params.childCount())} == set(e.params)
    wb.show_tab(window.study_view.plot)


COMMON_COLUMNS = {
    "number",
    "state",
    "step",
    "value",
    "Objective Value",
    "rank_fraction",
    "best_value",
    "interpolated",
    "x",
    "param",
    "importance",
    "start",
    "end",
    "duration_s",
}
VALUE_COLUMNS = ("value", "Objective Value", "x", "best_value", "interpolated")


def assert_analysis_shows(view, e: Expected) -> None:
    analysis = view.analysis
    assert analysis.source.session is view.session
    for key in analysis.classes:
        plot = analysis.show_view(key)
        plot.redraw()
        columns = plot.csv_columns()
        names = {n.removesuffix(" (y)") for n, c in columns.items() if len(c) and n not in COMMON_COLUMNS}
        for name in [n for n in names if n.startswith("edf ")]:
            assert name == f"edf {e.name}", (key, name)
            names.discard(name)
        assert names <= set(e.params), (key, names)
        for name in VALUE_COLUMNS:
            column = np.asarray(columns.get(name, []))
            if name not in e.params and column.dtype.kind == "f":
                finite = column[np.isfinite(column)]
                assert ((finite >= e.lo) & (finite <= e.hi)).all(), (key, name, finite)
        if "number" in columns and len(columns["number"]):
            assert int(np.max(columns["number"])) < e.complete + e.failed, key
        if "param" in columns:
            assert set(map(str, columns["param"])) <= set(e.params), key


def assert_shows(window, name: str, qtbot, *, checked: bool = True) -> None:
    e = EXPECT[name]
    view = window.study_view
    assert view.session.name == name
    assert_plot_shows(view, e)
    assert_panel_shows(view, e)
    if checked:
        qtbot.waitUntil(lambda: view.badge.state.kind not in ("checking", "none"), timeout=120000)
        assert_badges_agree(window, e)
    else:
        assert_badges_agree(window)
    assert_workbench_shows(window, e)
    assert_analysis_shows(view, e)


def select(window, name: str) -> None:
    assert window.study_list.select(name)  # as a click in the list does
    assert window.study_view.session.name == name


# --- the tests ------------------------------------------------------------------------------------------------------
def test_switching_back_and_forth_in_one_file_shows_only_the_selected_study(qtbot, files, make_window, dialog_log):
    two, _ = files
    window = make_window()
    assert window.open_storage(str(two), HIGH)
    assert_shows(window, HIGH, qtbot)
    for name in (LOW, HIGH, LOW, HIGH):
        select(window, name)
        assert_shows(window, name, qtbot)
        window.refresh()  # F5 keeps showing the same study
        assert_plot_shows(window.study_view, EXPECT[name])
    assert not dialog_log.errors


def test_file_open_of_another_file_replaces_every_view(qtbot, files, make_window, dialog_log):
    two, other = files
    window = make_window()
    assert window.open_storage(str(two), LOW)
    assert_shows(window, LOW, qtbot)
    dialog_log.open_file = str(other)
    window.open_dialog()
    assert_shows(window, TINY, qtbot)
    dialog_log.open_file = str(two)
    window.open_dialog()  # its first study, HIGH
    assert_shows(window, HIGH, qtbot)
    assert not dialog_log.errors


def test_a_new_study_shows_no_points_and_no_green_badge(qtbot, tmp_path, files, make_window, dialog_log):
    two, _ = files
    window = make_window()
    assert window.open_storage(str(two), HIGH)
    assert_plot_shows(window.study_view, EXPECT[HIGH])

    def fill(dialog):
        dialog.storage.setText(str(tmp_path / "fresh.db"))
        dialog.name.setText("fresh")
        dialog.objective.setCurrentText("builtin:quadratic")
        dialog.sampler.setText("RandomSampler")
        dialog.n_trials.setValue(40)
        return True

    dialog_log.dialog_hook = fill
    window.new_study()  # File > New study (Ctrl+N)
    view = window.study_view
    assert view.session.name == "fresh"
    fresh = Expected("fresh", 0, 0, 0, 0, frozenset(), "builtin:quadratic", 40, True, "none")
    assert_plot_shows(view, fresh)
    # Its trial-number axis shows trials 0-9 in whole numbers, not a one-trial range in thousandths.
    plot = view.plot
    (x0, x1), _ = plot.main.vb.viewRange()
    assert x0 <= 0 and 9 <= x1 < 12, (x0, x1)
    axis = plot.strip.getAxis("bottom")
    assert not axis.autoSIPrefix
    assert all(spacing >= 1 for spacing, _ in axis.tickSpacing(0.0, 3.0, 600))
    assert_panel_shows(view, fresh)
    # Nothing to check: neither badge claims a verification, and both say the same.
    assert_badges_agree(window, fresh)
    assert "no finished trials" in view.badge.state.text
    qtbot.wait(400)
    assert_badges_agree(window, fresh)
    assert not dialog_log.errors


def test_the_run_panel_shows_the_selected_studys_definition(qtbot, files, make_window, dialog_log):
    two, _ = files
    window = make_window()
    window.resize(1000, 700)
    window.show()
    assert window.open_storage(str(two), LOW)
    panel = window.study_view.panel
    assert panel.objective.currentText() == "builtin:quadratic" and panel.n_trials.value() == 12
    select(window, HIGH)
    assert panel.objective.currentText() == ""  # not the other study's objective
    assert panel.objective.isEnabled() and panel.pruner.text() == "" and panel.seed.text() == ""
    assert panel.n_trials.value() == 120  # its 20 trials plus 100, not the other study's target
    assert panel.start_action.isEnabled() and not panel.resume_action.isEnabled()
    select(window, LOW)
    assert panel.sampler.text() == LOW_SAMPLER and not panel.sampler.isEnabled()


def test_the_run_panels_notes_are_drawn_whole_after_a_switch(qtbot, tmp_path, make_window, dialog_log):
    """A note that grows when another study is selected (an empty study's, then one with trials made without
    optgui) gets the height its text needs at the panel's width; it was drawn cut off at 1000 px."""
    path = tmp_path / "two.db"
    _plain(path, "empty", _tiny, 0)
    _plain(path, "seven", _tiny, 7)
    window = make_window()
    window.resize(1000, 700)
    window.show()
    note = window.study_view.panel.definition_note
    for name in ("empty", "seven", "empty", "seven"):
        assert window.open_storage(str(path), name)
        qtbot.wait(100)  # (the layout settles)
        assert note.height() >= note.heightForWidth(note.width()), (name, note.text())
    assert "made without optgui" in note.text()


def test_live_refresh_keeps_an_edit_of_the_trial_target(qtbot, files, make_window, dialog_log):
    two, _ = files
    window = make_window()
    assert window.open_storage(str(two), LOW)
    panel = window.study_view.panel
    panel.n_trials.setFocus()
    panel.n_trials.selectAll()
    qtbot.keyClicks(panel.n_trials, "50")
    assert panel.n_trials.value() == 50
    window.refresh()  # what the live-refresh timer does every few seconds
    assert panel.n_trials.value() == 50
    panel.objective.setFocus()  # the edit stays after the field loses focus too
    window.refresh()
    assert panel.n_trials.value() == 50
    select(window, HIGH)  # another study: its own target
    assert panel.n_trials.value() == 120
    select(window, LOW)
    assert panel.n_trials.value() == 12


def _click(qtbot, panel, name):
    button = panel.buttons[name]
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_flaky_run_after_another_study_draws_only_its_own_trials(qtbot, tmp_path, make_window, dialog_log):
    path = tmp_path / "flaky.db"
    _plain(path, HIGH, _high, 20)
    _optgui(path, "flaky", "builtin:flaky", "RandomSampler(seed=3)", 30, run=False)
    window = make_window()
    assert window.open_storage(str(path), HIGH)
    view = window.study_view
    assert_plot_shows(view, EXPECT[HIGH])
    select(window, "flaky")
    _click(qtbot, view.panel, "Start")
    qtbot.waitUntil(lambda: view.session.run_state == "completed" and not window.controller.active, timeout=180000)
    data = view.session.data
    counts = data.counts()
    assert counts["FAIL"] > 0 and counts["COMPLETE"] > 0
    x, y = _layer(view.plot.complete)
    assert len(x) == counts["COMPLETE"] and (y < 300).all()  # the quadratic's values, none of HIGH's
    fx, _ = _layer(view.plot.failed)
    assert len(fx) == counts["FAIL"]
    assert set(fx.astype(int)) == set(np.flatnonzero(data.state[: data.n] == 3).tolist())  # FAIL == 3
    select(window, HIGH)
    assert_plot_shows(view, EXPECT[HIGH])
    assert not dialog_log.errors


def test_switching_while_a_study_runs(qtbot, tmp_path, files, make_window, dialog_log):
    _, other = files
    path = tmp_path / "running.db"
    _plain(path, HIGH, _high, 20)
    _optgui(path, "slowrun", "builtin:slow(sleep=0.1)", "RandomSampler(seed=5)", 25, run=False)
    window = make_window()
    assert window.open_storage(str(path), "slowrun")
    view = window.study_view
    panel = view.panel
    _click(qtbot, panel, "Start")
    qtbot.waitUntil(lambda: view.session.data.counts()["COMPLETE"] >= 3, timeout=120000)
    run_session = view.session

    select(window, HIGH)  # the list stays usable during a run
    assert window.controller.active
    assert_plot_shows(view, EXPECT[HIGH])
    assert_panel_shows(view, EXPECT[HIGH])
    assert_badges_agree(window)
    assert panel.state == "idle" and not panel.start_action.isEnabled() and not panel.pause_action.isEnabled()
    assert "slowrun" in panel.notice.text()
    drawn = len(_layer(view.plot.complete)[0])
    qtbot.waitUntil(lambda: run_session.data.counts()["COMPLETE"] >= 8, timeout=120000)
    assert len(_layer(view.plot.complete)[0]) == drawn == 20  # the run's trials go to its own session only
    assert_analysis_shows(view, EXPECT[HIGH])
    assert_workbench_shows(window, EXPECT[HIGH])  # table, best panel and details: HIGH's, while the other runs
    assert window.state_label.text() == "Running slowrun"  # the header names the study that runs
    assert view.session.run_state == "idle" and run_session.run_state == "running"

    assert not window.open_storage(str(other))  # another file waits for the run: one dialog, nothing changed
    assert dialog_log.errors.pop()[0] == "A run is in progress"
    assert view.session.name == HIGH
    assert_plot_shows(view, EXPECT[HIGH])

    select(window, "slowrun")
    assert view.session is run_session
    assert panel.state == "running" and panel.pause_action.isEnabled()
    n = run_session.data.counts()["COMPLETE"]
    x, y = _layer(view.plot.complete)
    assert len(x) >= n - 1 and (y < 300).all()
    _click(qtbot, panel, "Stop")
    qtbot.waitUntil(lambda: not window.controller.active, timeout=120000)
    x, y = _layer(view.plot.complete)
    assert len(x) == run_session.data.counts()["COMPLETE"] and (y < 300).all()
    assert not math.isnan(view.session.data.best_value())
    select(window, HIGH)
    assert panel.start_action.isEnabled() and panel.notice.isHidden()
    assert not dialog_log.errors


def test_the_legend_draws_each_layer_with_its_own_symbol(qtbot, make_window):
    plot = make_window().study_view.plot
    # pyqtgraph's "t" is a triangle pointing down (its "t1" points up): the legend shows the pruned points' one.
    assert plot.pruned._symbol == "t"
    legend = plot.legend.text()
    assert "▼</span> pruned" in legend and "▲" not in legend
