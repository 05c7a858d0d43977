"""The trials table shares the study view's selection with the analysis plots, through the real window on a
study made by Optuna: a row picked in the table is ringed in the plots and shown in the details pane, a point
clicked in a plot selects and scrolls to its row, and brushing in parallel coordinates narrows the table until
the user removes the filter from either side."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from PySide6.QtCore import Qt

from tests.support.studies import plain_study

# Building the module's study took 48 s (in the first test's setup) on a busy 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

N_TRIALS = 160


def objective(trial):
    x = trial.suggest_float("x", -5, 5)
    y = trial.suggest_float("y", 1e-3, 1.0, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if trial.number % 17 == 5:
        raise optuna.TrialPruned()
    return (x - 1) ** 2 + y + (kind == "b")


@pytest.fixture(scope="module")
def study_path(tmp_path_factory):
    return plain_study(tmp_path_factory.mktemp("selection") / "study.db", trials=N_TRIALS, objective=objective)


@pytest.fixture
def window(make_window, study_path):
    window = make_window()
    window.resize(1300, 850)
    assert window.open_storage(str(study_path))
    return window


def trials_of(path):
    return optuna.load_study(study_name="det", storage=f"sqlite:///{path}").trials


def row_is_on_screen(table, number: int) -> bool:
    view = table.view
    rect = view.visualRect(table.model.index(table.model.position_of(number), 0))
    return rect.isValid() and view.viewport().rect().contains(rect.center())


def test_a_row_selected_in_the_table_is_ringed_in_the_plots(qtbot, window, study_path):
    bench, selection = window.workbench, window.study_view.selection
    slice_view = window.study_view.analysis.view("slice")
    bench.show_tab(bench.trials_page)
    trial = trials_of(study_path)[40]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    bench.table.view.selectRow(bench.table.model.position_of(40))
    assert selection.selected == 40
    assert bench.details.header.text().startswith("Trial 40")
    slice_view.redraw()  # drawn while hidden, as an export would; the ring follows the selection
    param = slice_view.param_box.currentText()
    x, y = slice_view.marker.getData()
    expected_x = np.log10(trial.params[param]) if param == "y" else trial.params[param]
    if param == "kind":
        expected_x = ["a", "b"].index(trial.params[param])
    assert (x.tolist(), y.tolist()) == ([pytest.approx(expected_x)], [pytest.approx(trial.value)])


def test_a_point_clicked_in_a_plot_selects_and_scrolls_to_its_row(qtbot, window):
    bench, selection = window.workbench, window.study_view.selection
    bench.show_tab(bench.trials_page)  # the table is loaded, then hidden behind the Analysis tab
    study_view = window.study_view
    study_view.tabs.setCurrentWidget(study_view.analysis)
    slice_view = study_view.analysis.show_view("slice")
    slice_view.redraw()
    item = slice_view.scatter.item
    point = next(p for p in item.points() if int(p.data()) > 120)  # far below the first screen of rows
    item.sigClicked.emit(item, [point], None)
    number = int(point.data())
    assert selection.selected == number
    assert bench.table.current_trial() == number and bench.table.selected_trials() == [number]
    assert bench.details.header.text().startswith(f"Trial {number}")
    bench.show_tab(bench.trials_page)
    qtbot.waitUntil(lambda: row_is_on_screen(bench.table, number), timeout=3000)
    # A trial filtered out of the table still fills the details pane (and leaves the table alone).
    bench.table.expression.setText(f"number != {number - 1}")
    assert bench.table.apply_expression()
    selection.select(number - 1)
    assert bench.details.header.text().startswith(f"Trial {number - 1}")
    assert bench.table.current_trial() == number


def test_brushing_parallel_coordinates_filters_the_table_until_removed(qtbot, window, study_path):
    bench, selection = window.workbench, window.study_view.selection
    parallel = window.study_view.analysis.view("parallel-coordinates")
    parallel.redraw()
    labels = [d.label for d in parallel.pc.dimensions]
    axis = labels.index("x")
    # Brushed before the Trials tab was ever shown: the table applies the filter when it loads.
    parallel.set_brush(axis, 0.0, 0.4)
    cut = parallel.pc.dimensions[axis].to_axis(0.4)
    inside = sorted(
        t.number for t in trials_of(study_path) if t.state == optuna.trial.TrialState.COMPLETE and t.params["x"] <= cut
    )
    assert 0 < len(inside) < N_TRIALS
    bench.show_tab(bench.trials_page)
    table = bench.table
    assert table.model.order.tolist() == inside
    assert table.subset_bar.isVisible()
    assert (
        "parallel coordinates" in table.subset_label.text() and f"{len(inside):,} trials" in table.subset_label.text()
    )
    assert table.count_label.text() == f"{len(inside):,} of {N_TRIALS:,} trials"
    # Other filters combine with it.
    table.expression.setText("kind == 'a'")
    assert table.apply_expression()
    kinds = {t.number: t.params["kind"] for t in trials_of(study_path)}
    assert table.model.order.tolist() == [n for n in inside if kinds[n] == "a"]
    table.expression.setText("")
    assert table.apply_expression()
    # Removed from the table: every trial again, and the brushes are gone from the plot too.
    qtbot.mouseClick(table.subset_clear, Qt.MouseButton.LeftButton)
    assert selection.filter is None and not parallel.brushes and parallel.kept is None
    assert table.model.order.tolist() == list(range(N_TRIALS))
    assert not table.subset_bar.isVisible()
    # Removed from the plot: the table follows.
    parallel.set_brush(axis, 0.5, 1.0)
    assert table.subset_bar.isVisible() and len(table.model.order) < N_TRIALS
    parallel.clear_brushes()
    assert not table.subset_bar.isVisible() and len(table.model.order) == N_TRIALS
