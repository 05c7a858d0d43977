"""On the start page (no study shown: at launch, or after File ▸ Close) Start and Export are disabled; they are
enabled once a study is shown (issue 18, item 8)."""

from __future__ import annotations

from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", 0, 1)


def _study_menu(window):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == "&Study")


def _enabled(window) -> dict[str, bool]:
    menu = _study_menu(window)
    menu.aboutToShow.emit()  # as opening the menu does
    panel = window.study_view.panel
    return {
        "start": panel.start_action.isEnabled(),
        "start_button": panel.buttons["Start"].isEnabled(),
        "resume": panel.resume_action.isEnabled(),
        "export": window.workbench.export_menu.isEnabled(),
    }


def test_start_and_export_follow_whether_a_study_is_shown(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", trials=2, objective=_objective)
    window = make_window()
    assert window.stack.currentWidget() is window.start_page
    assert _enabled(window) == {"start": False, "start_button": False, "resume": False, "export": False}
    assert window.open_storage(str(db))
    shown = _enabled(window)
    assert shown["start"] and shown["start_button"] and shown["export"]
    window.close_storage()
    assert window.stack.currentWidget() is window.start_page
    assert _enabled(window) == {"start": False, "start_button": False, "resume": False, "export": False}
