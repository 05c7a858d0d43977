"""A session's run state is a state machine over the core's RunState with one writer: the run's relay.

Every state the engine reports is a session state under the same value; a run begins only at rest; idle and starting
are never reported; and after a real run in a real window the shown session holds the controller's own machine (no
copy that could lag or be written by someone else)."""

from __future__ import annotations

import dataclasses

import pytest

from optgui.core.engine import RunStateChanged
from optgui.core.records import RunState
from optgui.qt.study.run_state import IllegalTransition, RunStateMachine, SessionRunState
from tests.support.studies import plain_study


def test_every_state_the_engine_reports_is_a_session_state_of_the_same_value():
    for state in RunState:
        session_state = SessionRunState.of(state)
        assert session_state == state.value and session_state.engine_state is state
    assert SessionRunState.IDLE.engine_state is None and SessionRunState.INTERRUPTED.engine_state is None
    with pytest.raises(ValueError):
        SessionRunState.of("idle")  # not a state an engine reports


def test_a_run_goes_through_the_engines_states_and_rests_at_the_end():
    machine = RunStateMachine()
    assert machine.state is SessionRunState.IDLE and machine.state.at_rest
    machine.start("opening")
    assert machine.state is SessionRunState.STARTING and machine.state.active
    for state in ("running", "pausing", "paused", "running", "stopping", "stopped"):
        machine.advance(RunStateChanged(state).state)
    assert machine.state is SessionRunState.STOPPED and machine.state.at_rest
    machine.advance(SessionRunState.INTERRUPTED, "trial abandoned")  # the relay's last word after the end
    machine.run_ended()
    assert machine.state is SessionRunState.INTERRUPTED and machine.message == "trial abandoned"
    machine.start()  # Resume after an interruption
    assert machine.state is SessionRunState.STARTING


def test_transitions_no_run_makes_are_refused():
    machine = RunStateMachine()
    with pytest.raises(IllegalTransition):
        machine.advance(SessionRunState.RUNNING)  # no run was started
    with pytest.raises(IllegalTransition):
        machine.advance(SessionRunState.IDLE)
    machine.start()
    with pytest.raises(IllegalTransition):
        machine.start()  # a second run while one is active
    with pytest.raises(IllegalTransition):
        machine.advance(SessionRunState.STARTING)
    machine.advance(SessionRunState.COMPLETED)
    machine.run_ended()
    with pytest.raises(IllegalTransition):
        machine.advance(SessionRunState.RUNNING)  # a finished run does not run again without a start


def test_the_shown_session_holds_the_runs_own_state_machine(qtbot, tmp_path, make_window, dialog_log):
    window = make_window()
    assert window.open_storage(str(plain_study(tmp_path / "study.db")))
    view = window.study_view
    view.panel.objective.setCurrentText("builtin:quadratic")
    view.panel.sampler.setText("RandomSampler(seed=4)")
    view.panel.n_trials.setValue(6)
    initial = view.session.run
    assert view.session.run_state is SessionRunState.IDLE
    states: list = []
    window.controller.state_changed.connect(lambda state, _message: states.append(state))
    view.start_run()
    qtbot.waitUntil(lambda: view.session.run_state == "completed" and not window.controller.active, timeout=120000)
    assert view.session.run is window.controller.run and view.session.run is not initial
    assert all(isinstance(state, SessionRunState) for state in states)
    assert states[0] is SessionRunState.STARTING and states[-1] is SessionRunState.COMPLETED
    assert SessionRunState.RUNNING in states
    assert view.panel.state is SessionRunState.COMPLETED and not view.panel.stop_action.isEnabled()
    assert not dialog_log.errors


def test_the_badge_stops_saying_nothing_to_check_once_the_run_has_trials(qtbot, tmp_path, make_window, dialog_log):
    from optgui.core.engine._runner import RunRequest, StudyRunner

    path = tmp_path / "new.db"
    request = RunRequest(
        storage=str(path), study_name="new", objective="builtin:slow(sleep=0.05)", sampler="RandomSampler(seed=2)"
    )
    StudyRunner(dataclasses.replace(request, n_trials=40)).create()
    window = make_window()
    view = window.study_view
    view.auto_verify = False  # (a check would replace the text anyway: a check ran less than 30 s before, say)
    assert window.open_storage(str(path))
    assert "no finished trials" in view.badge.state.text  # true when it opens
    field = view.panel.objective.lineEdit()  # a long recorded objective shows its start, not "uiltin:slow(…"
    assert field.text() == "builtin:slow(sleep=0.05)" and field.cursorPosition() == 0
    view.panel.buttons["Start"].click()
    qtbot.waitUntil(lambda: view.session.finished_count() >= 3, timeout=120000)
    qtbot.waitUntil(lambda: "no finished trials" not in view.badge.state.text, timeout=5000)
    assert view.badge.state.text.startswith("Not checked")
    assert window.status_badge.state == view.badge.state == view.session.verification
    window.controller.stop()
    qtbot.waitUntil(lambda: not window.controller.active, timeout=120000)
    assert not dialog_log.errors
