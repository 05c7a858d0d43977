"""A live update changes counts, not the window's layout: texts that change with every poll must not lay the
window out again, which repaints whole tab widgets (measured at 1M trials: ~5 ms of every live update with the
trials tab shown, half its cost)."""

from __future__ import annotations

import warnings

import optuna
from PySide6.QtCore import QEvent, QObject, Qt

from optgui.qt.steady_label import SteadyLabel
from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", -1, 1) ** 2


class LayoutRequests(QObject):
    """Counts the layout requests each watched widget receives."""

    def __init__(self, widgets):
        super().__init__()
        self.count = {w: 0 for w in widgets}
        for w in widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest and obj in self.count:
            self.count[obj] += 1
        return False


def test_live_counts_change_without_laying_out_the_trials_page_or_the_status_bar(qtbot, tmp_path, make_window):
    db = plain_study(tmp_path / "s.db", trials=300, objective=_objective)
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(db))
    bench = window.workbench
    bench.show_tab(bench.trials_page)
    bench.table.view.horizontalHeader().setSortIndicator(
        bench.table.model.column_index("value"), Qt.SortOrder.DescendingOrder
    )
    qtbot.wait(700)  # first paints and background reads settle
    view = window.study_view
    # The trials page's and the status bar's counts change with every update. (The header's subtitle and the
    # plot's stopping evidence wrap their words: they lay their views out again, at most twice a second.)
    watched = LayoutRequests([bench.table, window.statusBar()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name="det", storage=f"sqlite:///{db}")
    for _ in range(3):
        study.optimize(_objective, n_trials=7)
        assert view.refresh() == 7
        qtbot.wait(20)  # the update's events and paints
    qtbot.waitUntil(lambda: "321 trials" in window.trials_label.text())  # (at the texts' rate)
    assert bench.table.count_label.text() == "321 trials"
    assert bench.table.model.rowCount() == 321
    assert watched.count == {bench.table: 0, window.statusBar(): 0}


def test_a_steady_label_keeps_its_size_until_a_text_needs_more_or_much_less_room(qtbot):
    label = SteadyLabel("1,000 trials")
    qtbot.addWidget(label)
    label.show()
    first = label.size()
    assert first.width() >= label.fontMetrics().horizontalAdvance("1,000 trials")
    label.setText("1,001 trials")
    assert label.size() == first
    long_text = "1,000,000 of 2,000,000 trials"
    label.setText(long_text)
    assert label.width() >= label.fontMetrics().horizontalAdvance(long_text) > first.width()
    label.setText("7 trials")
    assert label.width() < label.fontMetrics().horizontalAdvance(long_text)
