"""At 1000×700 px the live-refresh control and the study's summary line up to its best value are not clipped
(issue 18, item 8: "Live refresh eve", and the best value cut off behind zero counts)."""

from __future__ import annotations

from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", -1, 1) ** 2 + trial.suggest_float("y", -1, 1)


def test_live_refresh_and_the_best_value_fit_in_a_1000px_window(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", trials=30, objective=_objective)
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(db))
    qtbot.waitUntil(lambda: window.width() == 1000)
    qtbot.wait(50)
    live, interval = window.study_list.live, window.study_list.interval
    assert live.width() >= live.sizeHint().width(), (live.text(), live.width(), live.sizeHint().width())
    assert interval.width() >= interval.sizeHint().width()
    subtitle = window.study_view.subtitle
    text = subtitle.text().replace("\u00a0", " ")
    assert "best " in text and " 0 " not in text.replace("0 complete", "")
    through_best = text[: text.index("best ") + len("best ") + 8]
    assert subtitle.fontMetrics().horizontalAdvance(through_best) <= subtitle.width(), (text, subtitle.width())
