"""The Fleet tab's phase is a run state (the session's SessionRunState, over the core's RunState), not a string of
its own; None says no fleet has run the study."""

from __future__ import annotations

from optgui.core import fleet as fl
from optgui.qt.fleet.fleet_panel import PHASE_TEXT, fleet_phase
from optgui.qt.study.run_state import SessionRunState


def _worker(state: str) -> fl.WorkerStatus:
    return fl.WorkerStatus(0, "host", 1, state, None, 3, "", 0.5, 0)


def _status(state, command="run", workers=(), running=()) -> fl.FleetStatus:
    return fl.FleetStatus("deterministic", state, command, tuple(workers), tuple(running))


def test_the_fleet_phase_is_a_run_state():
    assert fleet_phase(_status(None)) is None and PHASE_TEXT[None] == "No fleet has run this study"
    assert fleet_phase(_status("completed", workers=[_worker("exited")])) is SessionRunState.COMPLETED
    assert fleet_phase(_status("running", workers=[_worker("running")])) is SessionRunState.RUNNING
    pausing = _status("running", "pause", [_worker("running")], running=(4,))
    assert fleet_phase(pausing) is SessionRunState.PAUSING
    assert fleet_phase(_status("paused", "pause", [_worker("paused")])) is SessionRunState.PAUSED
    assert fleet_phase(_status("running", "stop", [_worker("running")])) is SessionRunState.STOPPING
    assert fleet_phase(_status("stopped", "stop", [_worker("dead")])) is SessionRunState.STOPPED
    assert fleet_phase(_status(None, workers=[_worker("dead")])) is SessionRunState.IDLE
    for phase in (SessionRunState.RUNNING, SessionRunState.PAUSED, SessionRunState.IDLE):
        assert phase in PHASE_TEXT
