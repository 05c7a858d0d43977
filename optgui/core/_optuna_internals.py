"""Every use of Optuna's private API in optgui, in one module, so that an Optuna upgrade is one file to check.

optgui reproduces `Study.optimize` trial by trial (pause, resume, crash recovery, replay, a fleet's split of asking
and evaluating), which needs a few of Optuna's internals. Each one is wrapped here, and
`tests/core/test_optuna_internals.py` pins each against the installed Optuna (it exists and behaves as relied on),
so an upgrade that moves one fails a test that names it. Nothing else in optgui touches a private Optuna name.

What is touched, and why (Optuna 5.0):

Study
  - `optuna.study._tell._tell_with_warning` (`tell`): the tell `optimize` makes; unlike the public `Study.tell` it
    returns the final state, values and the reason of a FAIL, and it accepts a trial number (a fleet's coordinator
    tells trials it did not ask in this process).
  - `Study._thread_local.in_optimize_loop` (`enter_optimize_loop`): `Study.stop()` (GridSampler's after_trial)
    raises outside `optimize`; optgui's own loops are optimize loops.
  - `Study._thread_local.cached_all_trials` (`drop_trials_cache`): `Study.ask` clears the per-thread trial cache
    before creating a trial; a trial re-entered by id must see the storage as `ask` does.
  - `Study._stop_flag` (`stop_requested`): set by `Study.stop()`; `optimize` ends its loop when it is set.
  - `Study._storage`, `Study._study_id` (`study_storage`, `study_id_of`): the (cached) storage a loaded study
    writes through, which a pickle recorder wraps, and the id a replay's in-memory study writes under.
Trial
  - `Trial._trial_id`, `FrozenTrial._trial_id` (`trial_id`): storage calls take trial ids, not numbers.
  - `optuna.Trial(study, trial_id)` (`trial_of_id`, `reenter_trial`): a Trial object for an existing RUNNING trial
    (a recovered zombie asked again under its number; a worker evaluating a trial the coordinator asked).
  - `Trial._suggest(name, distribution)` (`suggest`, `wrap_suggest`): the one call every `suggest_*` goes through;
    a replay calls it with the recorded distributions, and the engine hooks it (abandon, lease, fault points).
  - `Trial._cached_frozen_trial` (`fixed_distributions`): the distributions a trial held when it was built, i.e.
    the ones a fleet's coordinator fixed before the worker evaluates it.
Storage
  - `_CachedStorage._backend.engine` (`sql_engine`): the SQLAlchemy engine under an RDB storage, for the few
    statements optgui issues itself (a zombie's reset, a fleet's insert-once claims) and to dispose of it.
  - `optuna.storages._rdb.models` (`rdb_models`): the table models a fleet store queries.
Samplers and pruners
  - `optuna.pruners._filter_study` (`filter_study`): the study view `Trial.relative_params` hands the sampler.
  - CmaEsSampler's `_get_trials`, `_n_startup_trials`, `_with_margin`, `_restore_optimizer`, `_init_optimizer`,
    `_get_solution_trials`, `_split_optimizer_str` (`CmaInternals`): a replay rebuilds the optimizer CmaEsSampler
    would have pickled, instead of unpickling bytes from a file (optgui.core.engine._pickled_attrs).
  - `optuna._transform._SearchSpaceTransform` (`search_space_transform`): the transform CMA-ES and fANOVA use.
  - Samplers' attributes (`object_attributes`), walked to find their generators: `_rng`, `_random_sampler`,
    `_independent_sampler`, `_cma_rng`, NSGA strategies sharing `_rng`.
  - GPSampler's `_gprs_cache_list`, `_constraints_gprs_cache_list` (`GP_CACHE_ATTRS`), QMCSampler's `_seed`
    (`QMC_SEED_ATTR`), `optuna._gp.gp.GPRegressor` (`gp_regressor_class`) and the `LazyRandomState` type
    (`is_lazy_random_state`): the in-memory sampler state optgui saves as JSON (optgui.core.engine._rng_state).
Analysis (plots equal to Optuna's)
  - TPE's `_BatchedCategoricalDistributions`, `_BatchedDiscreteTruncNormDistributions`,
    `_MixtureOfProductDistribution` (`tpe_mixture_classes`), `optuna.importance._fanova._fanova._Fanova`
    (`fanova_class`) and `optuna._hypervolume.compute_hypervolume` (`compute_hypervolume`).

Optuna is imported inside the functions: the window imports modules that use this one (analysis, study_admin) at
start-up, where importing Optuna would cost half a second before the first paint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna import Study, Trial
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial, TrialState

SuggestFn = Callable[[str, "BaseDistribution"], Any]

# GPSampler warm-starts each kernel fit from the previous one: these regressor lists change later suggestions.
GP_CACHE_ATTRS = ("_gprs_cache_list", "_constraints_gprs_cache_list")
# An unseeded QMCSampler draws its own scrambling seed at construction.
QMC_SEED_ATTR = "_seed"


# --- Study ------------------------------------------------------------------------------------------------------
def tell(
    study: Study, trial: Trial | int, values: float | Sequence[float] | None, state: TrialState | None
) -> tuple[TrialState, list[float] | None, str | None]:
    """Tell a trial (object or number) as `optimize` does: (final state, values, why it FAILed or None)."""
    from optuna.study._tell import _tell_with_warning

    return _tell_with_warning(study, trial, values, state=state, suppress_warning=True)


def enter_optimize_loop(study: Study) -> None:
    """Let `Study.stop()` work, as inside `optimize` (GridSampler calls it when its grid is exhausted)."""
    study._thread_local.in_optimize_loop = True


def drop_trials_cache(study: Study) -> None:
    """Forget the study's per-thread trial cache, as `Study.ask` and `Study.tell` do."""
    study._thread_local.cached_all_trials = None


def stop_requested(study: Study) -> bool:
    """Whether `Study.stop()` was called (the loop ends, as `optimize` does)."""
    return bool(study._stop_flag)


def study_storage(study: Study) -> Any:
    """The storage object the study writes through (Optuna's cached wrapper of an RDB storage)."""
    return study._storage


def study_id_of(study: Study) -> int:
    return int(study._study_id)


# --- Trial ------------------------------------------------------------------------------------------------------
def trial_id(trial: Trial | FrozenTrial) -> int:
    """The storage id of a trial (Trial or FrozenTrial)."""
    return int(trial._trial_id)


def trial_of_id(study: Study, trial_id: int) -> Trial:
    """A Trial object for an existing trial of `study` (calls the sampler's before_trial, as ask does)."""
    import optuna

    return optuna.Trial(study, trial_id)


def reenter_trial(study: Study, trial_id: int) -> Trial:
    """A RUNNING trial asked again under its number: what `Study.ask` does after creating a trial."""
    drop_trials_cache(study)
    return trial_of_id(study, trial_id)


def suggest(trial: Trial, name: str, distribution: BaseDistribution) -> Any:
    """Suggest with a given distribution: what every `suggest_*` call does."""
    return trial._suggest(name, distribution)


def wrap_suggest(trial: Trial, wrap: Callable[[SuggestFn], SuggestFn]) -> None:
    """Route the trial's suggests (and so every sampler call of its objective) through `wrap(original)`."""
    trial._suggest = wrap(trial._suggest)  # type: ignore[method-assign,assignment]


def fixed_distributions(trial: Trial) -> dict[str, BaseDistribution]:
    """The distributions the trial had when its Trial object was built (its stored params' distributions)."""
    return trial._cached_frozen_trial.distributions


# --- Storage ----------------------------------------------------------------------------------------------------
def sql_engine(storage: Any) -> Any:
    """The SQLAlchemy engine of an RDB storage (plain or wrapped in Optuna's cache); None for other storages."""
    return getattr(getattr(storage, "_backend", storage), "engine", None)


def rdb_models() -> Any:
    """Optuna's SQLAlchemy table models (optuna.storages._rdb.models)."""
    from optuna.storages._rdb import models

    return models


# --- Samplers and pruners ---------------------------------------------------------------------------------------
def filter_study(study: Study, trial: FrozenTrial) -> Study:
    """The study as `Trial.relative_params` shows it to the sampler (pruners' view of finished trials)."""
    from optuna import pruners

    return pruners._filter_study(study, trial)


def search_space_transform() -> type:
    from optuna._transform import _SearchSpaceTransform

    return _SearchSpaceTransform


class CmaInternals:
    """CmaEsSampler's steps of `sample_relative` that decide which optimizer it pickles (optuna 5.0)."""

    def __init__(self, sampler: Any):
        self.sampler = sampler

    @property
    def n_startup_trials(self) -> int:
        return int(self.sampler._n_startup_trials)

    @property
    def with_margin(self) -> bool:
        return bool(self.sampler._with_margin)

    def completed_trials(self, study: Study) -> list[FrozenTrial]:
        return self.sampler._get_trials(study)

    def restore_optimizer(self, completed: list[FrozenTrial]) -> Any:
        return self.sampler._restore_optimizer(completed)

    def init_optimizer(self, transform: Any, direction: Any) -> Any:
        return self.sampler._init_optimizer(transform, direction)

    def solution_trials(self, completed: list[FrozenTrial], generation: int) -> list[FrozenTrial]:
        return self.sampler._get_solution_trials(completed, generation)

    def split_optimizer_str(self, optimizer_str: str) -> dict[str, str]:
        return self.sampler._split_optimizer_str(optimizer_str)


def object_attributes(obj: Any) -> dict[str, Any] | None:
    """An Optuna object's attributes (its `__dict__`), private ones included: optgui.core.engine._rng_state walks a
    sampler's attributes to find its generators (`_rng`, `_random_sampler._rng`, `_independent_sampler._rng`,
    `_cma_rng`, NSGA strategies sharing `_rng`…) and nested samplers. The paths found are saved with the state;
    tests/core/test_rng_state.py pins them per sampler."""
    return getattr(obj, "__dict__", None)


def is_lazy_random_state(value: Any) -> bool:
    """Optuna's LazyRandomState (optuna.samplers._lazy_random_state), found by type name so that nothing is
    imported to recognise it."""
    return type(value).__name__ == "LazyRandomState" and type(value).__module__.startswith("optuna.")


def gp_regressor_class() -> type:
    from optuna._gp.gp import GPRegressor

    return GPRegressor


# --- Analysis ---------------------------------------------------------------------------------------------------
def tpe_mixture_classes() -> tuple[type, type, type]:
    """(categorical, discrete truncated normal, mixture of products): TPE's batched distributions."""
    from optuna.samplers._tpe.probability_distributions import (
        _BatchedCategoricalDistributions,
        _BatchedDiscreteTruncNormDistributions,
        _MixtureOfProductDistribution,
    )

    return _BatchedCategoricalDistributions, _BatchedDiscreteTruncNormDistributions, _MixtureOfProductDistribution


def fanova_class() -> type:
    from optuna.importance._fanova._fanova import _Fanova

    return _Fanova


def compute_hypervolume(points: Any, reference_point: Any, assume_pareto: bool = False) -> float:
    from optuna._hypervolume import compute_hypervolume as _compute

    return float(_compute(points, reference_point, assume_pareto))
