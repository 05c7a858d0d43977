"""The run panel says what the shown study's run is: elapsed time stops with the run, a completed study offers
Start (not a Resume with nothing to do), a run killed with SIGKILL reads as interrupted (Resume recovers it), and
the recovery's message is information, not an error."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt

from tests.support.determinism import run_cli
from tests.support.studies import plain_study

ROOT = Path(__file__).resolve().parents[2]

SAMPLER = "RandomSampler(seed=4)"


def cli_env() -> dict:
    """The subprocess imports this checkout's optgui."""
    return {"PYTHONPATH": str(ROOT) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")}


def _click(qtbot, panel, name):
    button = panel.buttons[name]
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_elapsed_stops_with_the_run_and_a_completed_study_offers_start(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    assert window.open_storage(str(db))
    view, panel = window.study_view, window.study_view.panel
    panel.objective.setCurrentText("builtin:quadratic")
    panel.sampler.setText(SAMPLER)
    panel.n_trials.setValue(6)
    _click(qtbot, panel, "Start")
    qtbot.waitUntil(lambda: view.session.run_state == "completed" and not window.controller.active, timeout=120000)
    elapsed = panel.elapsed_label.text()
    assert elapsed != "Elapsed —"
    qtbot.wait(2300)
    window.refresh()  # (live refresh: updates the progress texts)
    assert panel.elapsed_label.text() == elapsed, "the elapsed time kept counting after the run completed"
    assert not panel.resume_action.isEnabled()  # nothing is left to resume

    again = make_window()
    assert again.open_storage(str(db), "det")
    panel = again.study_view.panel
    assert again.study_view.session.run_state == "idle"
    assert not panel.resume_action.isEnabled() and panel.start_action.isEnabled()
    assert panel.elapsed_label.text() == "Elapsed —"


def test_a_killed_run_reads_as_interrupted_and_resume_recovers_it(qtbot, tmp_path, make_window, dialog_log):
    db = tmp_path / "killed.db"
    # SIGKILL of the engine in the middle of trial 3 (before it is told): the trial stays RUNNING in the file.
    result = run_cli(
        str(db), SAMPLER, "builtin:quadratic", 8, fault="before_tell:3", study_name="det", extra_env=cli_env()
    )
    assert result.returncode != 0
    window = make_window()
    assert window.open_storage(str(db), "det")
    view, panel = window.study_view, window.study_view.panel
    assert view.session.data.counts()["RUNNING"] == 1
    assert view.session.run_state == "interrupted" and panel.state == "interrupted"
    assert "Resume" in panel.state_label.text()
    assert panel.resume_action.isEnabled() and not panel.start_action.isEnabled()
    _click(qtbot, panel, "Resume")
    qtbot.waitUntil(lambda: view.session.run_state == "completed" and not window.controller.active, timeout=120000)
    assert view.session.data.counts()["COMPLETE"] == 8
    if panel.notice.isVisible():  # what the recovery did: shown as information
        assert not panel.notice_is_error, panel.notice.text()
    assert not dialog_log.errors
