"""report() and set_user_attr() travel through the bridge without waiting for an answer (one process round trip
less each); an error one of them raises in the engine still reaches the objective, at its next call (which is not
performed), or fails the trial: the trials are those of the same objective run in-process by plain Optuna."""

from __future__ import annotations

import importlib.util
import sys

import optuna

from optgui.core.engine import BridgeObjective
from tests.support.user_env import make_user_env

OBJECTIVE = """
def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    for step in range(3):
        trial.report(x + step, step)
    trial.set_user_attr("seen", x)
    if trial.number == 1:
        try:
            trial.report("not a number", 3)
            trial.suggest_float("never", 0, 1)  # in-process the report raised first: this is not made
        except TypeError as exc:
            trial.set_user_attr("caught", type(exc).__name__)
            return -1.0
    if trial.number == 2:
        trial.report("not a number", 3)  # not caught: the trial fails with the report's error
        trial.set_user_attr("after", True)
        return x
    if trial.number == 3:
        return trial.should_prune()
    return x
"""


def _trials(study: optuna.Study) -> list:
    return [(t.number, t.state.name, t.params, t.values, t.user_attrs, t.intermediate_values) for t in study.trials]


def _run(objective) -> optuna.Study:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=4))
    study.optimize(objective, n_trials=5, catch=(Exception,))
    return study


def test_calls_without_an_answer_behave_as_in_process(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    env = make_user_env(tmp_path, objective_source=OBJECTIVE)
    spec = importlib.util.spec_from_file_location("no_reply_objective", env.objective_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = _run(module.objective)

    bridge = BridgeObjective(env.python, env.objective, import_root=str(env.objective_file.parent))
    try:
        got = _run(bridge)
    finally:
        bridge.close()

    assert _trials(got) == _trials(expected)
    states = [t.state.name for t in got.trials]
    assert states == ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert got.trials[1].user_attrs["caught"] == "TypeError" and "never" not in got.trials[1].params
    assert "after" not in got.trials[2].user_attrs
    assert sys.executable != env.python
