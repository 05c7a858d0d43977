"""Reproduce a trial: the script re-runs the objective with exactly that trial's params in a fresh interpreter and
prints the recorded value bit for bit; it warns when the objective file changed; building it never writes to the
study and never runs anything of it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from optgui.core.engine import RunRequest, StudyRunner
from optgui.core.errors import StudyStateError
from optgui.core.share import read_trial, reproduce_trial
from tests.support.trust import cli_env

USER_OBJECTIVE = """
import math

def objective(trial):
    x = trial.suggest_float("x", -3.0, 3.0)
    n = trial.suggest_int("n", 1, 9)
    kind = trial.suggest_categorical("kind", ["sin", "cos", None])
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    f = {"sin": math.sin, "cos": math.cos, None: math.tanh}[kind]
    return f(x * n) / 7.0 + math.log(lr) * 1e-3 + x / 3.0
"""


def _run(storage: str, study: str, objective: str, n_trials: int, sampler: str = "TPESampler(seed=5)") -> None:
    request = RunRequest(storage, study, objective=objective, sampler=sampler, n_trials=n_trials)
    assert StudyRunner(request).run().reason == "completed"


def _run_script(script: str, folder: Path, name: str = "again.py") -> subprocess.CompletedProcess:
    path = folder / name
    path.write_text(script)
    return subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, env=cli_env(), cwd=folder
    )


def _recorded_values(storage: str, study: str) -> list:
    trials = optuna.load_study(study_name=study, storage=f"sqlite:///{storage}").trials
    return [t.values for t in trials]


@pytest.mark.parametrize("objective", ["builtin:quadratic", "builtin:mixed", "builtin:conditional", "builtin:multi"])
def test_a_builtin_trial_reproduces_bit_for_bit(tmp_path, objective):
    storage = str(tmp_path / "s.db")
    _run(storage, "s", objective, 6)
    before = hashlib.sha256(Path(storage).read_bytes()).hexdigest()
    values = _recorded_values(storage, "s")
    for number in (0, 5):  # a random start-up trial and one TPE suggested
        script = reproduce_trial(storage, "s", number)
        proc = _run_script(script, tmp_path)
        assert proc.returncode == 0, proc.stderr
        expected = repr(values[number][0]) if len(values[number]) == 1 else repr(values[number])
        assert proc.stdout.splitlines()[-1] == expected
        assert proc.stderr == ""
    assert hashlib.sha256(Path(storage).read_bytes()).hexdigest() == before  # read-only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.py", "s.db"]


def test_a_user_file_trial_reproduces_and_needs_no_optgui(tmp_path):
    objective_file = tmp_path / "obj.py"
    objective_file.write_text(USER_OBJECTIVE)
    storage = str(tmp_path / "s.db")
    _run(storage, "s", f"{objective_file}:objective", 12)
    values = _recorded_values(storage, "s")
    script = reproduce_trial(storage, "s", 11)
    sha = hashlib.sha256(objective_file.read_bytes()).hexdigest()
    assert f"Objective:  {objective_file}:objective" in script and f"sha256:     {sha}" in script
    assert "optgui" not in script.split('"""')[2]  # the code after the header: Optuna and the objective only
    proc = _run_script(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == repr(values[11][0])

    # The objective changed since: the script says so on stderr (and the value differs).
    objective_file.write_text(USER_OBJECTIVE.replace("/ 7.0", "/ 8.0"))
    proc = _run_script(script, tmp_path)
    assert "the objective file" in proc.stderr and "changed since the run" in proc.stderr
    assert proc.stdout.splitlines()[-1] != repr(values[11][0])


def test_the_objective_of_a_study_optgui_did_not_run_is_asked_for(tmp_path):
    storage = str(tmp_path / "plain.db")
    study = optuna.create_study(storage=f"sqlite:///{storage}", study_name="plain")
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=3)
    with pytest.raises(StudyStateError, match="was not run by optgui.*--objective"):
        read_trial(storage, "plain", 1)
    # Named by the user, the script is written (the objective is named, not run)
    trial = read_trial(storage, "plain", 1, objective="builtin:quadratic")
    assert trial.objective["ref"] == "builtin:quadratic" and set(trial.params) == {"x"}


def test_history_from_before_optgui_ran_the_study_is_not_claimed(tmp_path):
    storage = str(tmp_path / "adopted.db")
    study = optuna.create_study(storage=f"sqlite:///{storage}", study_name="a")
    study.optimize(lambda t: (t.suggest_float("x", -10, 10) - 2) ** 2 + t.suggest_float("y", -10, 10) ** 2, n_trials=2)
    _run(storage, "a", "builtin:quadratic", 4)
    with pytest.raises(StudyStateError, match="trial 1 .*not made by optgui"):
        read_trial(storage, "a", 1)
    assert read_trial(storage, "a", 3).objective["ref"] == "builtin:quadratic"


def test_unknown_study_and_trial_are_clear_errors(tmp_path):
    storage = str(tmp_path / "s.db")
    _run(storage, "s", "builtin:quadratic", 2)
    with pytest.raises(StudyStateError, match="no study named 'nope'.*'s'"):
        read_trial(storage, "nope", 0)
    with pytest.raises(StudyStateError, match="no trial 7 "):
        read_trial(storage, "s", 7)


def test_awkward_names_and_values_make_a_valid_script(tmp_path):
    storage = str(tmp_path / 's """ q.db')
    name = 'study "quoted" \\ """ ünïcode'
    _run(storage, name, "builtin:quadratic", 2)
    script = reproduce_trial(storage, name, 1)
    compile(script, "again.py", "exec")
    proc = _run_script(script, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == repr(_recorded_values(storage, name)[1][0])
