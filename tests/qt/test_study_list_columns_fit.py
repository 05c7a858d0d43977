"""The study list shows the columns that matter most in the width it has (issue 18, item 8: at 1000 px it showed
Study and Direction and a scroll bar, with the trial counts and the best value out of sight): the name takes the
rest of the width on one line, elided, and the hidden columns are in each row's tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.support.studies import plain_study

LONG = "a-study-with-a-rather-long-name-seed-3"


def _objective(trial):
    return trial.suggest_float("x", 0, 1)


def test_a_narrow_list_keeps_the_counts_and_elides_the_name(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", name=LONG, trials=5, objective=_objective)
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(db))
    qtbot.wait(50)
    studies = window.study_list
    table, header = studies.table, studies.table.horizontalHeader()
    shown = studies.shown_columns()
    assert shown[:2] == ["Study", "Trials"], shown
    widths = sum(header.sectionSize(c) for c in range(header.count()) if not header.isSectionHidden(c))
    assert widths <= table.viewport().width() + 1  # no horizontal scrolling
    assert not table.horizontalScrollBar().isVisible()
    assert header.sectionSize(0) >= 90  # the name keeps room
    assert table.rowHeight(0) < 2 * table.fontMetrics().height() + 4  # one line: the long name is not wrapped
    tip = studies.model.data(studies.model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "5 trials: 5 complete" in tip and "best:" in tip

    window.resize(1700, 900)
    window.splitter.setSizes([1000, 700])  # a wide list: every column (the Health column too)
    qtbot.waitUntil(lambda: len(studies.shown_columns()) == header.count(), timeout=5000)
    assert not dialog_log.errors
