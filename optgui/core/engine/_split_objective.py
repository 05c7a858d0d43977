"""Splitting an objective into a suggest phase (run by the coordinator) and an evaluation (run by a worker).

Deterministic parallelism needs every sampler call in one coordinating thread, in trial-number order (docs/fleet.md).
The sampler is only called from `trial.suggest_*`, so what must run in the coordinator is the objective's *suggest
phase*; everything else can run on any worker. The rule:

* **Two functions** — `file.py:search_space,evaluate` (or `module:search_space,evaluate`): the coordinator calls
  `search_space(trial)`, which may only call `trial.suggest_*` (and read `trial.number`/`trial.params`; it may
  branch on earlier suggestions, so conditional spaces work). A worker calls `evaluate(trial)` with the same trial:
  its `suggest_*` calls return the values the coordinator fixed (so an ordinary objective works unchanged as
  `evaluate`), and it may `report`, `should_prune` and set attributes. Its return value is the trial's value.
* **One function** — `file.py:objective`: the coordinator runs the objective with a *suggest-only trial* that
  passes `suggest_*` through and ends the suggest phase at the first other use of the trial (`report`,
  `should_prune`, `set_user_attr`, `study`, ...), by raising an exception that is not an `Exception`. A worker then
  runs the whole objective, whose suggests return the fixed values. So an objective that suggests first and then
  reports works as it is. One that never touches the trial after its suggests is evaluated in the coordinator as
  well (its result is discarded, the worker computes it again): optgui warns once; use the two-function form.
* In the worker, suggesting a name the suggest phase did not suggest fails the trial with a clear message: every
  suggest must happen before the first non-suggest use of the trial.

Built-in objectives carry their own search-space function (attribute `search_space`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import optuna

from optgui.core import _optuna_internals as oi
from optgui.core.errors import ObjectiveError, StorageError

SUGGEST_METHODS = (
    "suggest_float",
    "suggest_int",
    "suggest_categorical",
    "suggest_uniform",
    "suggest_loguniform",
    "suggest_discrete_uniform",
)
READ_ONLY = ("number", "params", "distributions")


class SplitObjective:
    """`search_space(trial)` then `evaluate(trial)`: called as one function, it is the plain objective (so
    `optgui run` without workers and the plain-Optuna reference use it directly)."""

    def __init__(self, search_space: Callable, evaluate: Callable):
        self.search_space = search_space
        self.evaluate = evaluate

    def __call__(self, trial):
        self.search_space(trial)
        return self.evaluate(trial)


class SuggestPhaseEnded(BaseException):
    """Raised by the suggest-only trial at the first non-suggest use (a BaseException, so that an objective's
    `except Exception` cannot swallow it)."""


class SuggestCallFailed(BaseException):
    """A suggest passed to the real trial failed in the storage or the system, not in the objective: the suggest
    phase stops with that error instead of releasing a trial without its parameters (which every worker would then
    fail). A BaseException for the reason SuggestPhaseEnded is one."""

    def __init__(self, error: Exception):
        super().__init__(error)
        self.error = error


# What a suggest in the coordinator can meet that the objective does not cause (a worker would not meet it again).
_NOT_THE_OBJECTIVES = (OSError, json.JSONDecodeError, optuna.exceptions.StorageInternalError, StorageError)


class SuggestOnlyTrial:
    """What a one-function objective sees in the coordinator: suggests pass through, anything else ends the phase."""

    suggest_phase_only = True  # (read on the class: an objective in another Python is then told where to end)

    def __init__(self, trial):
        object.__setattr__(self, "_trial", trial)

    def __getattr__(self, name: str) -> Any:
        trial = object.__getattribute__(self, "_trial")
        if name in SUGGEST_METHODS:
            return _passed_through(getattr(trial, name))
        if name in READ_ONLY:
            return getattr(trial, name)
        raise SuggestPhaseEnded(name)

    def __setattr__(self, name, value):
        raise SuggestPhaseEnded(name)


def _passed_through(suggest: Callable) -> Callable:
    def call(*args, **kwargs):
        try:
            return suggest(*args, **kwargs)
        except _NOT_THE_OBJECTIVES as exc:
            raise SuggestCallFailed(exc) from exc

    return call


def run_suggest_phase(objective: Callable, trial) -> str:
    """Run the suggest phase of `objective` on `trial` (a real optuna.Trial in the coordinator).

    Returns how it ended: "split" (a two-function objective or a built-in's search_space), "ended" (first non-suggest
    use), "returned" (the objective ran to completion in the coordinator) or "raised" (it raised; the worker will
    raise the same from the same parameters, which makes the trial FAIL there as in the reference). A storage or
    system error inside a suggest is raised (the run stops; a rerun recovers the trial).
    """
    try:
        return _suggest_phase(objective, trial)
    except SuggestCallFailed as failed:
        raise failed.error from None


def _suggest_phase(objective: Callable, trial) -> str:
    search_space = getattr(objective, "search_space", None)
    if search_space is not None:
        try:
            search_space(SuggestOnlyTrial(trial))
        except SuggestPhaseEnded as exc:
            raise ObjectiveError(
                f"the search-space function may only call trial.suggest_*; it used trial.{exc}"
            ) from None
        return "split"
    try:
        objective(SuggestOnlyTrial(trial))
    except SuggestPhaseEnded:
        return "ended"
    except Exception:  # noqa: BLE001 - the worker's evaluation meets the same error and records it
        return "raised"
    return "returned"


class UnfixedSuggestError(ObjectiveError):
    """An evaluation suggested a parameter the coordinator's suggest phase did not."""


def fix_suggests(trial) -> None:
    """Make `trial` (a worker's optuna.Trial of a RUNNING trial) return only the values fixed by the coordinator:
    a suggest of any other name raises instead of sampling."""

    def checked(original: oi.SuggestFn) -> oi.SuggestFn:
        def suggest(name: str, distribution: Any) -> Any:
            if name not in oi.fixed_distributions(trial):
                raise UnfixedSuggestError(
                    f"suggest {name!r} was not made in the coordinator's suggest phase; in a deterministic parallel "
                    "run every suggest must come before the objective's first other use of the trial (or use the "
                    "two-function form FILE.py:search_space,evaluate)"
                )
            return original(name, distribution)

        return suggest

    oi.wrap_suggest(trial, checked)
