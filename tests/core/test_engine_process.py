"""The engine in a child process (what the GUI runs): events and control over the pipe, and a child that dies
mid-trial is reported and recovered like any crash."""

from __future__ import annotations

import time

from optgui.core.engine._engine_process import EngineProcess
from optgui.core.engine._events import RunStateChanged, TrialFinished
from optgui.core.engine._runner import RunRequest
from tests.support.determinism import STUDY, first_difference, recorded, reference

SAMPLER = "TPESampler(seed=3)"


def _request(path, n_trials=14):
    return RunRequest(
        storage=str(path), study_name=STUDY, objective="builtin:quadratic", sampler=SAMPLER, n_trials=n_trials
    )


def _drive(engine: EngineProcess, on_event=lambda e: None, limit: float = 240) -> tuple:
    """Receive until the engine ends; returns (events, ending)."""
    events, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        for message in engine.receive(0.2):
            if message[0] == "event":
                events.append(message[1])
                on_event(message[1])
            else:
                engine.join(30)
                return events, message[1:]
    raise AssertionError("the engine did not end")


def test_pause_resume_over_the_pipe_equals_an_uninterrupted_run(tmp_path):
    path = tmp_path / "p.db"
    engine = EngineProcess(_request(path)).start()

    def control(event):
        if isinstance(event, TrialFinished) and event.number == 5:
            engine.pause()
        if isinstance(event, RunStateChanged) and event.state == "paused":
            engine.resume()

    events, ending = _drive(engine, control)
    assert ending[0] == "outcome" and ending[1].reason == "completed" and ending[1].n_finished == 14
    states = [e.state for e in events if isinstance(e, RunStateChanged)]
    assert "pausing" in states and "paused" in states and states[-1] == "completed"
    assert [e.number for e in events if isinstance(e, TrialFinished)] == list(range(14))
    assert first_difference(reference(SAMPLER, "builtin:quadratic", 14), recorded(str(path))) is None


def test_a_child_killed_mid_trial_is_reported_and_the_next_run_recovers(tmp_path, monkeypatch):
    path = tmp_path / "k.db"
    monkeypatch.setenv("OPTGUI_FAULT", "before_tell:6")  # the child SIGKILLs itself at trial 6
    events, ending = _drive(EngineProcess(_request(path)).start())
    assert ending[0] == "failed" and "exited unexpectedly" in ending[1]
    assert max(e.number for e in events if isinstance(e, TrialFinished)) == 5
    monkeypatch.delenv("OPTGUI_FAULT")
    _, ending = _drive(EngineProcess(_request(path)).start())
    assert ending[0] == "outcome" and ending[1].reason == "completed"
    assert first_difference(reference(SAMPLER, "builtin:quadratic", 14), recorded(str(path))) is None


def test_a_refused_lease_and_a_bad_request_end_with_their_messages(tmp_path):
    path = tmp_path / "l.db"
    first = EngineProcess(_request(path, n_trials=400)).start()
    events, deadline = [], time.monotonic() + 120
    while not any(isinstance(e, TrialFinished) for e in events) and time.monotonic() < deadline:
        events += [m[1] for m in first.receive(0.2) if m[0] == "event"]
    _, ending = _drive(EngineProcess(_request(path, n_trials=400)).start())
    assert ending[0] == "lease"
    first.stop()
    _, ending = _drive(first)
    assert ending[0] == "outcome" and ending[1].reason == "stopped"
    bad = RunRequest(storage=str(path), study_name="other", objective=None)
    _, ending = _drive(EngineProcess(bad).start())
    assert ending[0] == "error" and "objective" in ending[1]


def test_the_engine_runs_below_the_callers_priority_and_still_equals_plain_optuna(tmp_path):
    import os

    path = tmp_path / "n.db"
    engine = EngineProcess(_request(path, n_trials=6), niceness=7).start()
    seen = []

    def note(event):
        if isinstance(event, TrialFinished) and not seen:
            seen.append(os.getpriority(os.PRIO_PROCESS, engine.pid))

    _, ending = _drive(engine, note)
    assert ending[0] == "outcome" and seen == [min(os.getpriority(os.PRIO_PROCESS, 0) + 7, 19)]
    assert first_difference(reference(SAMPLER, "builtin:quadratic", 6), recorded(str(path))) is None
