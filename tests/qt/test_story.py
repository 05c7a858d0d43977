"""The whole story through the real widgets: open a SQLite study, run TPE, pause, close the window, reopen,
resume, finish; the badge says verified and the trials equal plain Optuna's uninterrupted run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.core.determinism_support import recorded, reference
from tests.qt.conftest import plain_study

SAMPLER = "TPESampler(seed=42)"
OBJECTIVE = "builtin:quadratic"


def click(qtbot, panel, name):
    button = panel.buttons[name]
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_run_pause_close_reopen_resume_verified(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    assert window.open_storage(str(db))
    view = window.study_view
    panel = view.panel
    assert panel.objective.isEnabled()  # not run by optgui yet: the definition is editable
    panel.objective.setCurrentText(OBJECTIVE)
    panel.sampler.setText(SAMPLER)
    panel.n_trials.setValue(30)
    click(qtbot, panel, "Start")
    assert dialog_log.questions and dialog_log.questions[0][0] == "Run the study?"  # writing asks first
    qtbot.waitUntil(lambda: view.data.counts()["COMPLETE"] >= 5, timeout=30000)
    click(qtbot, panel, "Pause")
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=30000)
    assert panel.resume_action.isEnabled() and not panel.pause_action.isEnabled()
    paused_at = view.data.counts()["COMPLETE"]
    assert 5 <= paused_at < 30

    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30000)
    assert not window.controller.active

    again = make_window()
    assert again.open_storage(str(db), "det")
    view = again.study_view
    panel = view.panel
    assert view.data.counts()["COMPLETE"] == paused_at
    assert not panel.objective.isEnabled()  # recorded with the run
    assert panel.sampler.text() == SAMPLER
    assert panel.resume_action.isEnabled() and not panel.start_action.isEnabled()
    click(qtbot, panel, "Resume")
    qtbot.waitUntil(lambda: again.controller.state == "completed" and not again.controller.active, timeout=60000)
    assert view.data.counts()["COMPLETE"] == 30
    qtbot.waitUntil(lambda: view.badge.state.kind in ("verified", "diverged", "unverifiable"), timeout=60000)
    assert view.badge.state.kind == "verified", view.badge.state.text
    assert view.badge.state.text.startswith("Sampler replay verified 30/30 · equivalent to an uninterrupted run")
    assert again.status_badge.state == view.badge.state
    assert recorded(str(db)) == reference(SAMPLER, OBJECTIVE, 30)
    assert not dialog_log.errors
