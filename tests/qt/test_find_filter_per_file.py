"""The find-study filter belongs to the file it was typed for: opening another file clears it, so the new file's
studies show and the first of them opens (issue 18, item 8)."""

from __future__ import annotations

from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", 0, 1)


def test_opening_another_file_clears_the_find_filter(qtbot, tmp_path, make_window, dialog_log):
    first = plain_study(tmp_path / "first.db", name="alpha", trials=2, objective=_objective)
    plain_study(first, name="beta", trials=2, objective=_objective)
    second = plain_study(tmp_path / "second.db", name="gamma", trials=3, objective=_objective)
    window = make_window()
    assert window.open_storage(str(first))
    qtbot.keyClicks(window.study_list.find, "alp")
    assert [s.name for s in window.study_list.model.rows] == ["alpha"]
    assert window.open_storage(str(second))
    assert window.study_list.find.text() == ""
    assert [s.name for s in window.study_list.model.rows] == ["gamma"]
    assert window.study_view.session is not None and window.study_view.session.name == "gamma"
