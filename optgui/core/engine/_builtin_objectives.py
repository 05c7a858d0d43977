"""Built-in objectives (`builtin:NAME` or `builtin:NAME(arg=value)`) for demos and tests.

Each entry is a factory taking keyword arguments and returning an objective `f(trial)`. They cover the shapes the
engine must handle: continuous, mixed float/int/log/categorical, conditional search spaces, intermediate values
with pruning, two objectives, slow trials, and trials that fail.
"""

from __future__ import annotations

import math
import time
from typing import Any


def quadratic():
    """2-D quadratic bowl, minimum 0 at (2, -1)."""

    def objective(trial):
        x = trial.suggest_float("x", -10.0, 10.0)
        y = trial.suggest_float("y", -10.0, 10.0)
        return (x - 2.0) ** 2 + (y + 1.0) ** 2

    return objective


def mixed():
    """5-D mixed space: float, int, log-float, stepped float and a categorical."""

    def objective(trial):
        x = trial.suggest_float("x", -5.0, 5.0)
        layers = trial.suggest_int("layers", 1, 8)
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.05)
        optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd", "rmsprop"])
        penalty = {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.1}[optimizer]
        return x**2 + (layers - 3) ** 2 * 0.1 + (math.log10(lr) + 3.0) ** 2 + (dropout - 0.2) ** 2 + penalty

    return objective


def conditional():
    """Conditional search space: which parameters exist depends on a categorical choice."""

    def objective(trial):
        kind = trial.suggest_categorical("classifier", ["svm", "forest", "linear"])
        if kind == "svm":
            c = trial.suggest_float("svm_c", 1e-3, 1e3, log=True)
            return (math.log10(c) - 1.0) ** 2
        if kind == "forest":
            depth = trial.suggest_int("forest_depth", 2, 32, log=True)
            trees = trial.suggest_int("forest_trees", 10, 200, step=10)
            return (depth - 8) ** 2 / 64.0 + (trees - 100) ** 2 / 1e4 + 0.05
        alpha = trial.suggest_float("linear_alpha", 0.0, 1.0)
        return (alpha - 0.3) ** 2 + 0.5

    return objective


def pruned(steps: int = 10):
    """An iterative 'training curve' that reports intermediate values and honours the pruner."""
    import optuna

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        momentum = trial.suggest_float("momentum", 0.0, 0.99)
        loss = 10.0
        for step in range(steps):
            loss = loss * (1.0 - min(0.9, lr * (1.0 + momentum))) + abs(math.log10(lr) + 1.5) * 0.1
            trial.report(loss, step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return loss

    return objective


def multi():
    """Two objectives (both minimised): a Pareto front between two bowls."""

    def objective(trial):
        x = trial.suggest_float("x", 0.0, 5.0)
        y = trial.suggest_float("y", 0.0, 3.0)
        return 4.0 * x**2 + 4.0 * y**2, (x - 5.0) ** 2 + (y - 5.0) ** 2

    return objective


def _quadratic_space(trial):
    trial.suggest_float("x", -10.0, 10.0)
    trial.suggest_float("y", -10.0, 10.0)


class _SlowQuadratic:
    """The 2-D quadratic, sleeping after each trial; a class so that it can carry `search_space`, the suggest phase
    a deterministic parallel run executes in its coordinator (optgui.core.engine._split_objective)."""

    def __init__(self, sleep: float, jitter: float, seed: int | None) -> None:
        import random

        self._inner = quadratic()
        self._sleep = sleep
        self._jitter = jitter
        self._delays = random.Random(seed)

    @staticmethod
    def search_space(trial: Any) -> None:
        _quadratic_space(trial)

    def __call__(self, trial: Any) -> float:
        value = self._inner(trial)
        time.sleep(float(self._sleep) + (self._delays.random() * float(self._jitter) if self._jitter else 0.0))
        return value


def slow(sleep: float = 0.5, jitter: float = 0.0, seed: int | None = None) -> _SlowQuadratic:
    """The 2-D quadratic, sleeping `sleep` seconds per trial (for pause/abort demos and parallel benchmarks), plus
    a random extra of up to `jitter` seconds (the value never depends on it; `seed` fixes the delays)."""
    return _SlowQuadratic(sleep, jitter, seed)


def flaky(every: int = 4):
    """The 2-D quadratic that raises for some parameter values and returns NaN for others (deterministic in the
    parameters, so a rerun of the same trial fails the same way)."""
    inner = quadratic()

    def objective(trial):
        value = inner(trial)
        bucket = int(abs(trial.params["x"]) * 1000) % every
        if bucket == 0:
            raise ValueError(f"simulated failure at x={trial.params['x']:.4f}")
        if bucket == 1 and every > 2:
            return float("nan")
        return value

    return objective


def discrete():
    """A finite 6 x 6 integer grid (for GridSampler and BruteForceSampler), minimum at (4, 1)."""

    def objective(trial):
        x = trial.suggest_int("x", 0, 5)
        y = trial.suggest_int("y", 0, 5)
        return (x - 4) ** 2 + (y - 1) ** 2 + 0.1 * x * y

    return objective


# The search space of `discrete` as a GridSampler argument.
DISCRETE_GRID = {"x": list(range(6)), "y": list(range(6))}


BUILTINS = {
    "discrete": discrete,
    "quadratic": quadratic,
    "mixed": mixed,
    "conditional": conditional,
    "pruned": pruned,
    "multi": multi,
    "slow": slow,
    "flaky": flaky,
}

# Directions a built-in needs when the user gives none.
DEFAULT_DIRECTIONS = {"multi": ["minimize", "minimize"]}
