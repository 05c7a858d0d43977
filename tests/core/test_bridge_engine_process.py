"""The window's door to the engine (EngineProcess, what Start/Resume/Abort trial use) with the objective in the
user's Python: a run, an Abort trial that kills the objective's process at once, and a resume that recovers."""

from __future__ import annotations

import time

from optgui.core.engine._engine_process import EngineProcess
from optgui.core.engine._events import TrialStarted
from optgui.core.engine._runner import RunRequest
from tests.support.user_env import make_user_env, plain_optuna_trials, stored_trials

HANGS_ON_TRIAL_3_ONCE = """
import time
from pathlib import Path

import optgui_test_helper_pkg


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    marker = Path(__file__).with_name("hung-once")
    if trial.number == 3 and not marker.exists():
        marker.write_text("")
        time.sleep(300)  # never calls back
    return optgui_test_helper_pkg.shifted(x) ** 2
"""


def _drive(engine: EngineProcess, on_event, limit: float = 240) -> tuple:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for message in engine.receive(0.2):
            if message[0] == "event":
                on_event(message[1])
            else:
                engine.join(30)
                return message[1:]
    raise AssertionError("the engine did not end")


def test_abort_trial_through_the_engine_process_then_resume(tmp_path):
    env = make_user_env(tmp_path, objective_source=HANGS_ON_TRIAL_3_ONCE)
    storage = tmp_path / "study.db"
    request = RunRequest(
        storage=str(storage),
        study_name="s",
        objective=env.objective,
        sampler="TPESampler(seed=8)",
        n_trials=7,
        python=env.python,
    )
    engine = EngineProcess(request, env.objective).start()  # as the window starts it (objective_ref given)
    aborted_at: list[float] = []

    def on_event(event) -> None:
        if isinstance(event, TrialStarted) and event.number == 3:
            time.sleep(1.0)  # the objective is inside its sleep by now
            aborted_at.append(time.monotonic())
            engine.abandon()

    ending = _drive(engine, on_event)
    assert ending[0] == "interrupted", ending
    assert time.monotonic() - aborted_at[0] < 30  # not the objective's 300 s

    resume = RunRequest(storage=str(storage), study_name="s")  # the recorded Python again
    ending = _drive(EngineProcess(resume, env.objective).start(), lambda event: None)
    assert ending[0] == "outcome", ending
    assert ending[1].reason == "completed"
    import optuna

    from optgui.core import records

    study = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}")
    abandoned = {t.number for t in study.trials if records.TRIAL_ABANDONED in t.system_attrs}
    kept = [t[1:] for t in stored_trials(storage, "s") if t[0] not in abandoned]
    assert kept == [t[1:] for t in plain_optuna_trials(env, 7, 8)]
