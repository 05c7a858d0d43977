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
