"""Studies made by plain Optuna, for the GUI tests that open, inspect or run them."""

from __future__ import annotations

import warnings

import optuna


def plain_study(path, name="det", directions=("minimize",), trials=0, objective=None, seed=0):
    """A study made by plain Optuna (no optgui metadata)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=f"sqlite:///{path}",
            study_name=name,
            directions=list(directions),
            sampler=optuna.samplers.RandomSampler(seed=seed),
        )
        if trials:
            study.optimize(objective, n_trials=trials)
    return path


def finished_trial(value: float, ended) -> optuna.trial.FrozenTrial:
    """A COMPLETE trial of param x that ran for 10 s and ended at `ended` (a datetime), for add_trial: studies
    whose last activity lies in the past (stalled, idle)."""
    import datetime as dt

    return optuna.trial.FrozenTrial(
        number=0,
        trial_id=0,
        state=optuna.trial.TrialState.COMPLETE,
        value=value,
        params={"x": value},
        distributions={"x": optuna.distributions.FloatDistribution(-100, 100)},
        datetime_start=ended - dt.timedelta(seconds=10),
        datetime_complete=ended,
        user_attrs={},
        system_attrs={},
        intermediate_values={},
    )
