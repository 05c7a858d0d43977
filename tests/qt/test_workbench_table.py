"""The trials table at 100k rows through the real widget: sort and filter checked against numpy computed
directly from the same data, rejected expressions (never evaluated), live rows that keep the user's place, and
the column chooser."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from PySide6.QtCore import Qt

from optgui.core.storage._table_filter import FilterError
from optgui.core.storage._tables import COMPLETE, FAIL, PRUNED, STATE_NAMES
from tests.support.qt_tables import PaintCounter, synthetic_table

N = 100_000


@pytest.fixture(scope="module")
def big_table():
    return synthetic_table(N)


@pytest.fixture
def table_widget(qtbot, big_table):
    from optgui.qt.workbench.trials_table import TrialsTable

    widget = TrialsTable()
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    widget.show()
    widget.load(big_table, ("minimize",))
    return widget


def stable_order(key: np.ndarray, descending: bool = False) -> np.ndarray:
    """Reference order: numpy's stable argsort, missing (NaN) values last in both directions."""
    present = ~np.isnan(key)
    rows = np.flatnonzero(present)
    k = -key[rows] if descending else key[rows]
    return np.concatenate([rows[np.argsort(k, kind="stable")], np.flatnonzero(~present)])


def test_header_sort_of_100k_rows_equals_numpy(qtbot, table_widget, big_table):
    t = big_table
    opt = t.params["optimizer"].values  # choice index, NaN where absent
    duration = t.duration
    started = t.datetime_start.astype("int64").astype(float)
    expected = {
        "value": t.values[:, 0],
        "params_lr": t.params["lr"].values,
        "params_layers": t.params["layers"].values,
        "params_optimizer": opt,
        "state": t.state.astype(float),
        "duration": duration,
        "datetime_start": started,
    }
    header = table_widget.view.horizontalHeader()
    model = table_widget.model
    for key, values in expected.items():
        for descending in (False, True):
            header.setSortIndicator(
                model.column_index(key), Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            )
            np.testing.assert_array_equal(model.order, stable_order(values, descending), err_msg=key)
    # text attribute: alphabetical, missing last
    header.setSortIndicator(model.column_index("user_attrs_tag"), Qt.SortOrder.AscendingOrder)
    tags = t.user_attrs["tag"]
    shown = [tags[r] for r in model.order]
    present = [s for s in shown if s is not None]
    assert present == sorted(present) and all(s is None for s in shown[len(present) :])
    assert model.data(model.index(0, model.column_index("user_attrs_tag"))) == "baseline"


def test_filters_of_100k_rows_equal_numpy(qtbot, table_widget, big_table):
    t, model = big_table, table_widget.model
    lr, value, state = t.params["lr"].values, t.values[:, 0], t.state
    opt, opt_present = t.params["optimizer"].values, t.params["optimizer"].present
    tag = t.user_attrs["tag"]
    cases = {
        "lr < 0.01 and state == COMPLETE": (lr < 0.01) & (state == COMPLETE),
        "value < -1 or optimizer == 'adam'": (value < -1) | ((opt == 0) & opt_present),
        "not (state in (PRUNED, FAIL)) and 0.001 <= lr < 0.1": ~np.isin(state, [PRUNED, FAIL])
        & (0.001 <= lr)
        & (lr < 0.1),
        "optimizer != 'sgd'": opt_present & (opt != 1),
        "optimizer == None": ~opt_present,
        "tag == 'wide' and layers >= 5": np.array([v == "wide" for v in tag]) & (t.params["layers"].values >= 5),
        "params_lr > value": (lr > value) & ~np.isnan(value),
        "state == 'fail'": state == FAIL,
        "epochs > 40": np.array([v > 40 for v in t.user_attrs["epochs"]]),
    }
    for expression, mask in cases.items():
        table_widget.expression.setText(expression)
        assert table_widget.apply_expression(), table_widget.expression_error.text()
        np.testing.assert_array_equal(model.order, np.flatnonzero(mask), err_msg=expression)
    # sorted and filtered together, then the state boxes and the search field on top
    table_widget.expression.setText("lr < 0.01")
    table_widget.apply_expression()
    table_widget.view.horizontalHeader().setSortIndicator(model.column_index("value"), Qt.SortOrder.AscendingOrder)
    rows = np.flatnonzero(lr < 0.01)
    np.testing.assert_array_equal(model.order, rows[stable_order(value[rows])])
    table_widget.state_boxes[PRUNED].setChecked(False)
    table_widget.state_boxes[FAIL].setChecked(False)
    rows = np.flatnonzero((lr < 0.01) & ~np.isin(state, [PRUNED, FAIL]))
    np.testing.assert_array_equal(model.order, rows[stable_order(value[rows])])
    table_widget.search.setText("RMSprop")
    rows = np.flatnonzero((lr < 0.01) & ~np.isin(state, [PRUNED, FAIL]) & (opt == 2) & opt_present)
    np.testing.assert_array_equal(model.order, rows[stable_order(value[rows])])
    assert table_widget.count_label.text() == f"{len(rows):,} of {N:,} trials"


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('pathlib').Path(MARKER).touch() == 1", "function calls are not allowed"),
        ("(lambda: 1)() == 1", "function calls are not allowed"),
        ("lr.__class__ == 1", "attribute access"),
        ("lr + 1 < 2", "arithmetic"),
        ("[x for x in ()] == 1", "comprehensions"),
        ("lr[0] == 1", "subscripts"),
        ("lr", "is not a condition"),
        ("nonsense < 1", "unknown column 'nonsense'"),
        ("lr <", "not a valid expression"),
        ("state < COMPLETE", "states compare with == or !="),
        ("1 < 2", "compares two constants"),
        ("state == 'DONE'", "'DONE' is not a state"),
    ],
)
def test_bad_expressions_are_rejected_with_a_message_and_change_nothing(
    qtbot, table_widget, expression, message, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    table_widget.expression.setText("lr < 0.5")
    assert table_widget.apply_expression()
    before = table_widget.model.order.copy()
    table_widget.expression.setText(expression.replace("MARKER", "'touched'"))
    assert not table_widget.apply_expression()
    assert table_widget.expression_error.isVisible()
    assert message in table_widget.expression_error.text()
    np.testing.assert_array_equal(table_widget.model.order, before)
    assert not (tmp_path / "touched").exists()  # parsed, never run


def test_expression_parser_never_calls_eval(monkeypatch, big_table):
    import builtins

    from optgui.core.storage._table_filter import compile_expression
    from optgui.core.storage._trial_frame import TrialFrame

    real_compile = builtins.compile

    def forbidden(*_a, **_k):
        raise AssertionError("eval/exec must not be used")

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse is compile(..., PyCF_ONLY_AST): parsing is allowed, making code objects is not
        assert flags & ast.PyCF_ONLY_AST, "compile() must only parse"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", parse_only)
    frame = TrialFrame(("minimize",))
    frame.load(synthetic_table(50))
    assert compile_expression("lr < 0.5 and state == COMPLETE", frame)(frame).dtype == bool
    with pytest.raises(FilterError):
        compile_expression("open('x') == 1", frame)


def test_live_rows_keep_selection_and_scroll_position(qtbot, table_widget):
    model, view = table_widget.model, table_widget.view
    table_widget.select_trial(50_000)
    view.scrollTo(model.index(model.position_of(50_000), 0), view.ScrollHint.PositionAtCenter)
    scroll = view.verticalScrollBar().value()
    inserted = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    table_widget.apply(synthetic_table(10, first=N))
    assert inserted == [(N, N + 9)]  # one insert at the end, not a reset
    assert table_widget.current_trial() == 50_000 and table_widget.selected_trials() == [50_000]
    assert view.verticalScrollBar().value() == scroll
    # Sorted by value: new trials go to their sorted places, the selection stays on the same trial.
    view.horizontalHeader().setSortIndicator(model.column_index("value"), Qt.SortOrder.AscendingOrder)
    table_widget.select_trial(50_000)
    table_widget.apply(synthetic_table(10, first=N + 10))
    assert table_widget.current_trial() == 50_000
    key = model.frame.values[model.order, 0]
    present = key[~np.isnan(key)]
    assert np.all(np.diff(present) >= 0) and np.isnan(key[len(present) :]).all()
    assert len(model.order) == N + 20
    np.testing.assert_array_equal(model.order, stable_order(model.frame.values[: model.frame.n, 0]))
    view.horizontalHeader().setSortIndicator(model.column_index("value"), Qt.SortOrder.DescendingOrder)
    table_widget.apply(synthetic_table(10, first=N + 20))  # (sorted places found by bisection: a few rows, many)
    np.testing.assert_array_equal(model.order, stable_order(model.frame.values[: model.frame.n, 0], True))
    view.horizontalHeader().setSortIndicator(model.column_index("value"), Qt.SortOrder.AscendingOrder)
    table_widget.select_trial(50_000)
    # A RUNNING trial that completes moves to its sorted place, still selected.
    table_widget.apply(synthetic_table(1, first=N + 30, running_tail=1))
    table_widget.select_trial(N + 30)
    assert model.order[-1] == N + 30  # RUNNING: no value, sorted last
    done = synthetic_table(1, first=N + 30)
    table_widget.apply(done)
    assert table_widget.current_trial() == N + 30
    if done.state[0] == COMPLETE:
        assert model.order[-1] != N + 30


def test_sorted_places_found_by_bisection_equal_numpys():
    from optgui.qt.workbench.trials_model import _place_after

    rng = np.random.default_rng(5)
    key = rng.integers(0, 20, 500).astype(float)  # many ties
    key[rng.random(500) < 0.1] = np.nan
    key[:3] = (np.inf, -np.inf, np.inf)
    order, descending = stable_order(key), stable_order(key, descending=True)
    for value in [*rng.integers(-1, 21, 50).astype(float), np.nan, np.inf, -np.inf, 0.0, 19.0]:
        assert _place_after(key, order, float(value)) == np.searchsorted(key[order], value, side="right"), value
        # Descending: the place of -value in -key's order, found without negating the key.
        expected = np.searchsorted(-key[descending], -value, side="right")
        assert _place_after(key, descending, float(value), descending=True) == expected, value


def test_column_chooser_hides_columns_and_export_uses_shown_ones(qtbot, table_widget, tmp_path):
    from optgui.core.storage._exports import write_trials_csv

    table_widget.set_column_visible("params_layers", False)
    assert table_widget.view.isColumnHidden(table_widget.model.column_index("params_layers"))
    keys = [c.key for c in table_widget.visible_columns()]
    assert "params_layers" not in keys and "params_lr" in keys and "datetime_start" not in keys
    table_widget.expression.setText("number < 5")
    table_widget.apply_expression()
    path = tmp_path / "out.csv"
    write_trials_csv(table_widget.model.frame, table_widget.model.order, table_widget.visible_columns(), path)
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == [k if k != "duration" else "duration_seconds" for k in keys]
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2", "3", "4"]


def settle(qtbot):
    qtbot.wait(30)  # the view lays out on a zero timer, then paints


def test_live_rows_below_the_viewport_do_not_repaint_it(qtbot, table_widget):
    """Appending trials the user does not see costs no repaint of the 100k-row table (it used to redraw every
    cell on screen for each poll); rows that become visible are painted."""
    model, view = table_widget.model, table_widget.view
    table_widget.select_trial(50_000)
    settle(qtbot)
    paints = PaintCounter(view.viewport())
    maximum = view.verticalScrollBar().maximum()
    table_widget.apply(synthetic_table(10, first=N))
    settle(qtbot)
    assert paints.count == 0
    assert view.verticalScrollBar().maximum() == maximum + 10  # the scroll range still follows
    assert table_widget.count_label.text() == f"{N + 10:,} trials"
    # The user follows the newest trials at the bottom: new rows scroll into view and are painted.
    view.scrollToBottom()
    settle(qtbot)
    paints.count = 0
    table_widget.apply(synthetic_table(10, first=N + 10))
    qtbot.waitUntil(lambda: paints.count > 0, timeout=5000)
    assert paints.count > 0
    assert view.rowAt(view.viewport().height() - 1) == N + 19
    # A table shorter than the viewport: the new row appears in the empty space below the last row.
    table_widget.expression.setText("number < 3 or number >= 100020")
    assert table_widget.apply_expression()
    settle(qtbot)
    paints.count = 0
    table_widget.apply(synthetic_table(1, first=N + 20))
    qtbot.waitUntil(lambda: paints.count > 0, timeout=5000)
    assert paints.count > 0 and view.rowAt(view.visualRect(model.index(3, 0)).center().y()) == 3


def test_a_changed_trial_is_shown_with_its_new_values(qtbot, table_widget):
    """Shown rows are formatted once and kept; a poll that changes a trial must replace its cached text."""
    model = table_widget.model
    table_widget.apply(synthetic_table(1, first=N, running_tail=1))
    position = model.position_of(N)
    state_column, value_column = model.column_index("state"), model.column_index("value")
    table_widget.view.scrollToBottom()
    settle(qtbot)
    assert model.data(model.index(position, state_column)) == "RUNNING"
    assert model.data(model.index(position, value_column)) == ""
    done = synthetic_table(1, first=N, seed=3)
    table_widget.apply(done)
    expected_state = STATE_NAMES[int(done.state[0])]
    assert model.data(model.index(position, state_column)) == expected_state
    value = done.values[0, 0]
    assert model.data(model.index(position, value_column)) == ("" if np.isnan(value) else f"{value:.7g}")


def test_trial_numbers_of_seven_digits_are_not_elided(qtbot):
    """The "#" column fits the largest trial number, not only those of the first rows shown (at 1M trials it
    showed "999…"), with a digit to spare for a study that keeps growing."""
    from PySide6.QtWidgets import QStyle

    from optgui.qt.workbench.trials_table import TrialsTable

    widget = TrialsTable()
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.show()
    widget.load(synthetic_table(40, first=1_234_560), ("minimize",))
    column = widget.model.column_index("number")
    style = widget.view.style()
    margins = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget.view) + 1)
    metrics = widget.view.fontMetrics()
    assert widget.view.columnWidth(column) >= metrics.horizontalAdvance("12345999") + margins
    last = widget.model.index(widget.model.rowCount() - 1, column)
    assert widget.model.data(last) == "1234599"
