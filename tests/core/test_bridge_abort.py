"""Abort trial with the objective in the user's Python: the bridge process is killed at once, the trial is
abandoned as a crash would be, and the next run recovers it and goes on (determinism kept)."""

from __future__ import annotations

import threading
import time

import optuna
import pytest

from optgui.core import records
from optgui.core.engine import RunInterrupted, RunRequest, StudyRunner
from tests.support.user_env import make_user_env, plain_optuna_trials, run_optgui, stored_trials

SLOW_ON_TRIAL_2 = """
import time
from pathlib import Path

import optgui_test_helper_pkg


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    if trial.number == 2 and not Path(__file__).with_name("aborted-once").exists():
        Path(__file__).with_name("aborted-once").write_text("")
        Path(__file__).with_name("in-trial-2").write_text("")
        time.sleep(120)  # never calls back: only killing the process stops it
    return optgui_test_helper_pkg.shifted(x) ** 2
"""


def _wait_for(path, seconds=60.0):
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)


def _prepared_runner(env, storage, sampler: str, n_trials: int) -> StudyRunner:
    """A run of the user env's objective in its own Python, prepared (its objective's process started)."""
    request = RunRequest(
        storage=str(storage),
        study_name="s",
        objective=env.objective,
        sampler=sampler,
        n_trials=n_trials,
        python=env.python,
    )
    runner = StudyRunner(request)
    runner.prepare()
    return runner


def test_abort_kills_the_objective_and_resume_recovers(tmp_path):
    env = make_user_env(tmp_path, objective_source=SLOW_ON_TRIAL_2)
    storage = tmp_path / "study.db"
    runner = _prepared_runner(env, storage, "TPESampler(seed=5)", 6)
    outcome: dict = {}

    def run() -> None:
        try:
            runner.run()
        except RunInterrupted as exc:
            outcome["interrupted"] = str(exc)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for(env.objective_file.with_name("in-trial-2"))
    bridge = runner._bridge
    assert bridge is not None and bridge._proc is not None
    process = bridge._proc
    started = time.monotonic()
    runner.abandon_trial()
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - started < 10  # not the objective's 120 s
    assert "abandoned" in outcome["interrupted"]
    assert process.poll() is not None  # the objective's process is gone

    resumed = run_optgui("run", str(storage), "--study", "s", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}")
    abandoned = [t.number for t in study.trials if records.TRIAL_ABANDONED in t.system_attrs]
    assert abandoned in ([], [2])  # the recovery abandons trial 2, or re-enters it under its number
    assert "recovered" in resumed.stderr
    kept = [t[1:] for t in stored_trials(storage, "s") if t[0] not in abandoned]
    (env.objective_file.with_name("aborted-once")).write_text("")  # the reference runs without the sleep
    assert kept == [t[1:] for t in plain_optuna_trials(env, 6, 5)]


def test_a_finished_run_ends_its_objectives_process(tmp_path):
    env = make_user_env(tmp_path)
    runner = _prepared_runner(env, tmp_path / "study.db", "RandomSampler(seed=1)", 2)
    process = runner._bridge._proc if runner._bridge is not None else None
    assert process is not None and process.poll() is None  # started by prepare: its import is checked first
    assert runner.run().reason == "completed"
    assert runner._bridge is None
    process.wait(timeout=10)  # (a run that left it alive would time out here)


def test_bridge_objective_abort_in_a_trial_raises_the_engines_abandon(tmp_path):
    from optgui.core.engine._bridge import BridgeObjective

    env = make_user_env(tmp_path, objective_source=SLOW_ON_TRIAL_2)
    bridge = BridgeObjective(
        env.python, env.objective, import_root=str(env.objective_file.parent), abandoned=RunInterrupted
    )
    study = optuna.create_study()
    for _ in range(2):
        trial = study.ask()
        study.tell(trial, bridge(trial))
    trial = study.ask()
    threading.Thread(target=lambda: (_wait_for(env.objective_file.with_name("in-trial-2")), bridge.abort())).start()
    started = time.monotonic()
    with pytest.raises(RunInterrupted):
        bridge(trial)
    assert time.monotonic() - started < 30
    assert bridge._proc is None
    bridge.close()
