"""The run's count is shown beside the progress bar, never drawn over its fill (issue 18, item 8: the text was lost
where the fill overlapped it)."""

from __future__ import annotations

from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", 0, 1)


def test_the_count_is_a_label_beside_the_bar(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", trials=3, objective=_objective)
    window = make_window()
    window.resize(1000, 700)
    assert window.open_storage(str(db))
    panel = window.study_view.panel
    panel.set_progress(30, 60)
    assert not panel.progress.isTextVisible()  # nothing is drawn over the fill
    assert panel.progress_text.isVisible() and panel.progress_text.text() == "30 / 60 trials"
    qtbot.wait(20)
    text = panel.progress_text
    assert text.width() >= text.fontMetrics().horizontalAdvance("30 / 60 trials")  # and it is not clipped
    panel.set_progress(4, None)
    assert panel.progress_text.text() == "4 trials"
