"""The whole story through the real widgets: open a SQLite study, run TPE, pause, close the window, reopen,
resume, finish; the badge says verified and the trials equal plain Optuna's uninterrupted run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.support.determinism import recorded, reference
from tests.support.studies import plain_study

pytestmark = pytest.mark.slow

SAMPLER = "TPESampler(seed=42)"
OBJECTIVE = "builtin:quadratic"


def click(qtbot, panel, name):
    button = panel.buttons[name]
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.timeout(240)  # took 78 s on a busy 2-core machine
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
    qtbot.waitUntil(lambda: view.data.counts()["COMPLETE"] >= 5, timeout=180000)
    click(qtbot, panel, "Pause")
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=180000)
    assert panel.resume_action.isEnabled() and not panel.pause_action.isEnabled()
    paused_at = view.data.counts()["COMPLETE"]
    assert 5 <= paused_at < 30

    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=180000)
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
    qtbot.waitUntil(lambda: again.controller.state == "completed" and not again.controller.active, timeout=180000)
    assert view.data.counts()["COMPLETE"] == 30
    qtbot.waitUntil(lambda: view.badge.state.kind in ("verified", "diverged", "unverifiable"), timeout=180000)
    assert view.badge.state.kind == "verified", view.badge.state.text
    assert view.badge.state.text.startswith("Sampler replay verified 30/30 · equivalent to an uninterrupted run")
    assert again.status_badge.state == view.badge.state
    assert recorded(str(db)) == reference(SAMPLER, OBJECTIVE, 30)

    # The verdict dialog's button runs the objective check.
    def press_check_objective(dialog):
        dialog.objective_button.click()
        return True

    dialog_log.dialog_hook = press_check_objective
    qtbot.mouseClick(view.badge, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "objective reproduced" in view.badge.state.text, timeout=180000)
    assert view.badge.state.text.endswith("· objective reproduced 10/10")
    assert not dialog_log.errors


@pytest.mark.timeout(180)  # took 59 s on a busy 2-core machine
def test_abort_trial_in_child_process_then_resume_equals_uninterrupted(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    window.open_storage(str(db))
    view, panel = window.study_view, window.study_view.panel
    panel.objective.setCurrentText("builtin:slow(sleep=0.4)")
    panel.sampler.setText(SAMPLER)
    panel.n_trials.setValue(8)
    panel.child_process.setChecked(True)
    click(qtbot, panel, "Start")
    qtbot.waitUntil(
        lambda: view.data.counts()["COMPLETE"] >= 2 and window.controller.trial_in_flight is not None, timeout=180000
    )
    aborted = window.controller.trial_in_flight
    click(qtbot, panel, "Abort trial")
    # The child is killed at once: the run ends long before the trial's 0.4 s sleep could have finished twice.
    qtbot.waitUntil(lambda: not window.controller.active, timeout=5000)
    assert window.controller.state == "interrupted"
    view.refresh()  # (the engine's events end at the abort: its trial is read from the storage)
    assert view.data.n > aborted and view.data.state[aborted] == 0  # left RUNNING, as a crash would
    qtbot.waitUntil(lambda: panel.resume_action.isEnabled(), timeout=10000)
    panel.child_process.setChecked(False)
    click(qtbot, panel, "Resume")
    qtbot.waitUntil(lambda: window.controller.state == "completed" and not window.controller.active, timeout=180000)
    # The zombie trial was re-entered under its number: the study equals an uninterrupted run.
    assert recorded(str(db)) == reference(SAMPLER, OBJECTIVE, 8)
    qtbot.waitUntil(lambda: view.badge.state.kind == "verified", timeout=180000)
    assert "equivalent to an uninterrupted run" in view.badge.state.text


def test_second_run_refused_while_another_process_holds_the_study(qtbot, tmp_path, make_window, dialog_log):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "study.db"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "optgui",
            "run",
            str(db),
            "--study",
            "det",
            "--objective",
            "builtin:slow(sleep=0.3)",
            "--sampler",
            SAMPLER,
            "--n-trials",
            "200",
            "--quiet",
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        window = make_window()

        def opened_with_a_trial():
            if not db.exists() or not window.open_storage(str(db)) or window.study_view.summary is None:
                return False
            view = window.study_view
            return view.summary.name == "det" and view.data is not None and view.data.n >= 1

        qtbot.waitUntil(opened_with_a_trial, timeout=180000)
        panel = window.study_view.panel
        # The window sees the live lease: Resume and Start wait, and the notice says who holds the study.
        assert not panel.resume_action.isEnabled() and not panel.start_action.isEnabled()
        assert "Another process is running this study" in panel.notice.text()
        # A lease taken after the window last looked (a race) is refused by the engine itself.
        window.study_view.resume_run()
        qtbot.waitUntil(lambda: window.controller.state == "leased" and not window.controller.active, timeout=180000)
        assert panel.notice.isVisible()
        assert "Another process is running this study" in panel.notice.text()
        assert f"process {proc.pid}" in panel.notice.text()
        assert window.study_view.data.n >= 1  # the study stays readable while the other process runs it
        assert proc.poll() is None  # the other run goes on untouched
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def test_objective_errors_show_in_the_run_panel(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    window.open_storage(str(db))
    panel = window.study_view.panel
    panel.objective.setCurrentText("builtin:flaky")
    panel.sampler.setText("RandomSampler(seed=3)")
    panel.n_trials.setValue(12)
    click(qtbot, panel, "Start")
    qtbot.waitUntil(lambda: not window.controller.active, timeout=180000)
    assert window.controller.state == "completed", (window.controller.state, panel.notice.text(), dialog_log.errors)
    assert window.study_view.data.counts()["FAIL"] > 0
    assert panel.last_error.isVisible()
    assert "failed" in panel.last_error.text()
    assert not dialog_log.errors  # objective errors are not application errors
