"""At 1000 x 700 px the run panel says every run state whole beside the count ("Paused after trial 4" was cut off),
and an empty study's convergence plot shows "No trials yet" in its middle (it stood on the right edge, cut to
"No tria") — issue 18, item 8."""

from __future__ import annotations

from optgui.qt.run.run_panel import STATE_TEXT
from tests.support.clipping import clipped_texts
from tests.support.studies import plain_study

MESSAGES = {"paused": "paused after trial 12345", "stopped": "after trial 12345", "completed": "12345 trials"}


def test_every_run_state_fits_beside_the_count(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db")
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(db))
    qtbot.waitUntil(lambda: window.width() == 1000)
    panel = window.study_view.panel
    for state in STATE_TEXT:
        panel.set_state(state, MESSAGES.get(state, ""))
        panel.set_progress(12345, 100000)
        try:
            qtbot.waitUntil(lambda: not clipped_texts(panel), timeout=1000)
        except AssertionError:
            raise AssertionError(f"{state}: {clipped_texts(panel)}") from None
    assert window.width() <= 1000


def test_no_trials_yet_stands_in_the_middle_of_an_empty_plot(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db")
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(db))
    plot = window.study_view.plot
    qtbot.waitUntil(lambda: plot.placeholder.isVisible())
    (x0, x1), (y0, y1) = plot.main.vb.viewRange()
    x, y = plot.placeholder.pos().x(), plot.placeholder.pos().y()
    assert x0 + 0.25 * (x1 - x0) < x < x1 - 0.25 * (x1 - x0), (x, x0, x1)
    assert y0 + 0.25 * (y1 - y0) < y < y1 - 0.25 * (y1 - y0), (y, y0, y1)
