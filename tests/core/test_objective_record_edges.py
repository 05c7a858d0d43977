"""An objective record read from a study may name a file objective without a path, or a file Python does not
import as source: loading it is one ObjectiveError naming the problem, never a TypeError from deep inside."""

from __future__ import annotations

import pytest

from optgui.core.engine._objectives import ObjectiveRef, load_objective
from optgui.core.errors import ObjectiveError


def test_a_file_objective_record_without_a_path_is_an_objective_error():
    ref = ObjectiveRef.from_record({"kind": "file", "ref": "objective.py:f", "function": "f"})

    with pytest.raises(ObjectiveError, match="names no file"):
        load_objective(ref)


def test_a_file_objective_python_does_not_import_is_an_objective_error(tmp_path):
    path = tmp_path / "objective.txt"
    path.write_text("def f(trial):\n    return 1.0\n")
    ref = ObjectiveRef("file", f"{path}:f", str(path), "f", None, str(tmp_path))

    with pytest.raises(ObjectiveError, match="cannot be imported as a Python module"):
        load_objective(ref)


def test_a_split_file_objective_loads_both_functions(tmp_path):
    path = tmp_path / "objective.py"
    path.write_text(
        "def space(trial):\n    trial.suggest_float('x', 0, 1)\n\ndef evaluate(trial):\n    return trial.params['x']\n"
    )
    ref = ObjectiveRef("file", f"{path}:space,evaluate", str(path), "space,evaluate", None, str(tmp_path))

    objective = load_objective(ref)

    assert objective.search_space.__name__ == "space" and objective.evaluate.__name__ == "evaluate"


def test_the_slow_builtin_runs_its_suggest_phase_alone_and_sleeps_only_when_evaluated():
    import optuna

    from optgui.core.engine._objectives import parse_objective
    from optgui.core.engine._split_objective import run_suggest_phase

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    objective = load_objective(parse_objective("builtin:slow(sleep=0.0, jitter=0.01, seed=3)"))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    trial = study.ask()

    assert run_suggest_phase(objective, trial) == "split"
    assert sorted(trial.params) == ["x", "y"]
    x, y = trial.params["x"], trial.params["y"]
    assert objective(trial) == (x - 2.0) ** 2 + (y + 1.0) ** 2
