"""Pickles inside a study: which trial attributes hold them, and how a replay does without ever loading them.

Optuna's CmaEsSampler stores its optimizer as `pickle.dumps(optimizer).hex()`, split over the trial system
attributes `<prefix>optimizer:<i>` (prefix `cma:`, `sepcma:` or `cmawm:`) of the trial that told it a generation,
and unpickles the latest such trial's attributes at every later ask. A study file is data a stranger may hand
over, and unpickling it runs whatever its pickles name. These are the only pickles Optuna 5 reads from the storages
optgui opens (the journal snapshot pickle exists only for Redis journals).

A replay (verify, crash recovery) therefore never copies these attributes from the record. It rebuilds the
optimizer the way the sampler built it (the same initial optimizer, told the same generations of recorded trials)
in this process and stores *that* pickle in its own in-memory study, so CmaEsSampler only ever loads bytes this
process wrote. The rebuilt optimizer is the sampler's truth: if the original run had continued from a different
one, its later suggestions differ from the replay's and verification reports the divergence.
"""

from __future__ import annotations

import copy
import pickle
import re
from typing import Any

from optuna.trial import FrozenTrial

from optgui.core import _optuna_internals as oi

# Trial system attributes holding a pickle that Optuna unpickles.
_PICKLED_KEY = re.compile(r"^(cma|sepcma|cmawm):optimizer:\d+$")


def is_pickled_attr(key: str) -> bool:
    return bool(_PICKLED_KEY.match(key))


def pickled_attrs(system_attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in system_attrs.items() if is_pickled_attr(k)}


def without_pickled_attrs(system_attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in system_attrs.items() if not is_pickled_attr(k)}


def with_system_attrs(trial: FrozenTrial, system_attrs: dict[str, Any], **changes: Any) -> FrozenTrial:
    """A copy of `trial` with other system attributes (and optionally other fields)."""
    fields = dict(
        number=trial.number,
        state=trial.state,
        value=None,
        values=trial.values,
        datetime_start=trial.datetime_start,
        datetime_complete=trial.datetime_complete,
        params=dict(trial.params),
        distributions=dict(trial.distributions),
        user_attrs=dict(trial.user_attrs),
        system_attrs=system_attrs,
        intermediate_values=dict(trial.intermediate_values),
        trial_id=oi.trial_id(trial),
    )
    fields.update(changes)
    return FrozenTrial(**fields)


def find_cmaes(sampler) -> Any | None:
    """The CmaEsSampler a replay samples with, if that is what it is."""
    try:
        from optuna.samplers import CmaEsSampler
    except ImportError:  # pragma: no cover - optuna always has it; cmaes itself is imported lazily
        return None
    return sampler if isinstance(sampler, CmaEsSampler) else None


class CmaOptimizerRebuilder:
    """Computes, for a recorded trial being copied into a replay, the optimizer attributes CmaEsSampler would have
    stored on it, from the trials already in the replay. Works on a private copy of the sampler: building an
    initial optimizer draws from the sampler's RNG, which must not move the replay's own sampler."""

    def __init__(self, sampler):
        self._sampler = copy.deepcopy(sampler)

    def attrs_for(self, study, recorded: FrozenTrial) -> dict[str, str] | None:
        """The `<prefix>optimizer:<i>` attributes for `recorded`, or None when the trials before it do not make
        the sampler tell a generation at this trial (then nothing is stored for it)."""
        import cmaes
        import numpy as np
        from optuna.study import StudyDirection

        sampler = self._sampler
        cma = oi.CmaInternals(sampler)
        oi.drop_trials_cache(study)  # trials were added behind the study's back
        seen = oi.filter_study(study, recorded)  # as Trial.relative_params does
        search_space = sampler.infer_relative_search_space(seen, recorded)
        completed = cma.completed_trials(seen)
        if not search_space or len(completed) < cma.n_startup_trials:
            return None
        transform = oi.search_space_transform()
        trans = transform(search_space, transform_step=not cma.with_margin, transform_0_1=True)
        optimizer = cma.restore_optimizer(completed)  # only pickles this process stored in the replay
        if optimizer is None:
            optimizer = cma.init_optimizer(trans, seen.direction)
        if optimizer.dim != len(trans.bounds):
            return None
        solution_trials = cma.solution_trials(completed, optimizer.generation)
        if len(solution_trials) < optimizer.population_size:
            return None
        # The same tell as CmaEsSampler.sample_relative (optuna 5.0).
        solutions = []
        for t in solution_trials[: optimizer.population_size]:
            if isinstance(optimizer, cmaes.CMAwM):
                x = np.array(t.system_attrs["x_for_tell"])
            else:
                x = trans.transform(t.params)
            assert t.value is not None  # solution trials are COMPLETE
            y = t.value if seen.direction == StudyDirection.MINIMIZE else -t.value
            solutions.append((x, y))
        optimizer.tell(solutions)
        return cma.split_optimizer_str(pickle.dumps(optimizer).hex())
