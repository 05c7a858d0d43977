"""Helpers for the determinism tests and the kill soak: the plain-Optuna reference and comparisons.

The reference is exactly the determinism contract of docs/determinism.md:
`optuna.create_study(sampler=S(seed=k)).optimize(objective, n_trials=N, catch=(Exception,))`, uninterrupted, same
study name (HyperbandPruner hashes it) and Optuna's default pruner.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import optuna

from optgui.core.engine._builtin_objectives import BUILTINS, DEFAULT_DIRECTIONS
from optgui.core.engine._objectives import load_objective, parse_objective
from optgui.core.engine._replay import float_bits
from optgui.core.engine._samplers import parse_spec
from optgui.core.records import TRIAL_ABANDONED

STUDY = "det"


def objective_for(ref: str):
    return load_objective(parse_objective(ref))


def directions_for(ref: str) -> list[str]:
    name = parse_objective(ref).builtin_name or ""
    return DEFAULT_DIRECTIONS.get(name, ["minimize"])


def trial_signature(trial) -> tuple:
    """What must be identical: state, params as internal bit patterns in suggest order, and values."""
    params = tuple(
        (name, float_bits(dist.to_internal_repr(trial.params[name]))) for name, dist in trial.distributions.items()
    )
    values = tuple(float_bits(v) for v in trial.values) if trial.values is not None else None
    return (trial.state.name, params, values)


def reference(sampler: str, objective: str, n_trials: int, *, study_name: str = STUDY) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            sampler=parse_spec(sampler).build(), directions=directions_for(objective), study_name=study_name
        )
        study.optimize(objective_for(objective), n_trials=n_trials, catch=(Exception,))
    return [trial_signature(t) for t in study.trials]


def recorded(storage: str, *, study_name: str = STUDY, drop_abandoned: bool = True) -> list[tuple]:
    """The finished trials of a study in number order, without trials crash recovery abandoned."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        if storage.endswith((".log", ".jsonl")):
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            store = JournalStorage(JournalFileBackend(storage))
        else:
            store = f"sqlite:///{storage}"
        study = optuna.load_study(study_name=study_name, storage=store)
        trials = study.get_trials(deepcopy=False)
    return [
        trial_signature(t)
        for t in trials
        if t.state.is_finished() and not (drop_abandoned and TRIAL_ABANDONED in t.system_attrs)
    ]


def first_difference(a: list, b: list) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def run_cli(
    storage: str,
    sampler: str,
    objective: str,
    n_trials: int,
    *,
    fault: str | None = None,
    study_name: str = STUDY,
    extra_env: dict | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OPTGUI_FAULT", None)
    if fault:
        env["OPTGUI_FAULT"] = fault
    env.update(extra_env or {})
    cmd = [
        sys.executable,
        "-m",
        "optgui",
        "run",
        storage,
        "--study",
        study_name,
        "--objective",
        objective,
        "--sampler",
        sampler,
        "--n-trials",
        str(n_trials),
        "--quiet",
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def naive_resume(
    storage: str, sampler: str, objective: str, first: int, total: int, *, study_name: str = STUDY
) -> list[tuple]:
    """Optuna's documented resume without sampler state: load_study with a freshly seeded sampler."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        url = f"sqlite:///{storage}"
        study = optuna.create_study(
            storage=url,
            sampler=parse_spec(sampler).build(),
            directions=directions_for(objective),
            study_name=study_name,
        )
        study.optimize(objective_for(objective), n_trials=first, catch=(Exception,))
        study = optuna.load_study(study_name=study_name, storage=url, sampler=parse_spec(sampler).build())
        study.optimize(objective_for(objective), n_trials=total - first, catch=(Exception,))
    return recorded(storage, study_name=study_name)


__all__ = ["BUILTINS", "reference", "recorded", "run_cli", "naive_resume", "first_difference", "trial_signature"]
