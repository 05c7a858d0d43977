"""Re-enacting a recorded study history with a rebuilt sampler, without calling the objective.

The truth of a run is *seed + recorded history*: a sampler rebuilt from its spec, fed the same trials in the same
order (ask, the same suggests in the recorded order with the recorded distributions, the same intermediate values
and constraints, tell with the recorded state and values), passes through exactly the RNG states the original did.
Crash recovery uses this to rebuild the sampler state of a dead process; the verifier uses it to prove a study is
reproducible. Replay runs in a fresh in-memory study with the original's name and pruner (HyperbandPruner's
brackets, which filter what the sampler sees, hash the study name and trial number).
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi
from optgui.core.engine import _rng_state as rng_state
from optgui.core.engine._pickled_attrs import (
    CmaOptimizerRebuilder,
    find_cmaes,
    pickled_attrs,
    with_system_attrs,
    without_pickled_attrs,
)
from optgui.core.records import PREFIX

# Study system attributes that hold storage trial ids (GA samplers' parent cache "<Class>:parent:<generation>"):
# ids differ between the recorded storage and the in-memory replay, so they are translated both ways.
_TRIAL_ID_LIST_KEY = re.compile(r".+:parent:\d+$")

# Trial system attributes the user's objective (not the sampler) sets, which samplers read: constraints.
_USER_SET_TRIAL_ATTRS = ("constraints",)


def float_bits(value: float) -> int:
    """The IEEE-754 bit pattern, so that comparisons are exact (0.0 != -0.0, one ulp counts)."""
    return struct.unpack("<q", struct.pack("<d", float(value)))[0]


def _study_direction(direction: str | StudyDirection) -> StudyDirection:
    """A direction as recorded ("minimize"/"maximize", or Optuna's enum) as Optuna's enum."""
    return direction if isinstance(direction, StudyDirection) else StudyDirection[direction.upper()]


@dataclass(frozen=True)
class Mismatch:
    """The first parameter of a trial that the replay suggested differently from the record."""

    number: int
    param: str
    recorded: Any
    replayed: Any


def _user_set_attrs(trial: FrozenTrial) -> dict[str, Any]:
    return {k: v for k, v in trial.system_attrs.items() if k in _USER_SET_TRIAL_ATTRS or k.startswith("constraints:")}


class Reenactor:
    """A sampler plus an in-memory study that mirrors a recorded study, advanced trial by trial."""

    def __init__(self, sampler, *, study_name: str, directions: Sequence[str | StudyDirection], pruner=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.sampler = sampler
            self.study = optuna.create_study(
                storage=optuna.storages.InMemoryStorage(),
                sampler=sampler,
                pruner=pruner,
                study_name=study_name,
                directions=[_study_direction(d) for d in directions],
            )
        self._storage = oi.study_storage(self.study)
        self._study_id = oi.study_id_of(self.study)
        # Grid's after_trial calls study.stop(), which Optuna only allows inside its optimize loop.
        oi.enter_optimize_loop(self.study)
        self.n_trials = 0
        self._replay_id_of: dict[int, int] = {}  # recorded trial_id -> replay trial_id
        cmaes_sampler = find_cmaes(sampler)
        self._cma_rebuilder = CmaOptimizerRebuilder(cmaes_sampler) if cmaes_sampler is not None else None
        # Copied trials that store an optimizer pickle where the sampler, given the trials before them, stores none.
        self.pickle_mismatches: list[int] = []

    # --- building the starting point ----------------------------------------------------------------------
    def add_history(self, trials: Iterable[FrozenTrial]) -> None:
        """Copy trials with the sampler's own system attributes, without sampling. Pickled attributes (CMA-ES
        optimizers) are never copied: the optimizer is rebuilt here from the trials before (see pickled_attrs)."""
        for trial in trials:
            try:
                new_id = self._storage.create_new_trial(self._study_id, template_trial=self._without_pickles(trial))
            except RecursionError:  # Optuna's in-memory storage deep-copies the trial: a crafted, deeply nested value
                raise ReplayError(
                    f"trial {trial.number} holds an attribute nested too deeply to copy; the file was crafted or is "
                    "damaged"
                ) from None
            self._replay_id_of[oi.trial_id(trial)] = new_id
            self.n_trials += 1

    def _without_pickles(self, trial: FrozenTrial) -> FrozenTrial:
        recorded = pickled_attrs(trial.system_attrs)
        if not recorded:
            return trial
        attrs = without_pickled_attrs(trial.system_attrs)
        rebuilt = None
        if self._cma_rebuilder is not None:
            try:
                rebuilt = self._cma_rebuilder.attrs_for(self.study, trial)
            except Exception:  # noqa: BLE001 - a crafted record the sampler cannot tell: store nothing, say so
                rebuilt = None
        # Bytes are not compared: cmaes pickles uninitialised memory (CMA._funhist_values comes from np.empty).
        if rebuilt is None and self._cma_rebuilder is not None:
            self.pickle_mismatches.append(trial.number)
        attrs.update(rebuilt or {})
        return with_system_attrs(trial, attrs)

    def set_study_attrs(self, attrs: dict[str, Any]) -> None:
        """Set sampler-owned study system attributes (QMC counters, GA parent caches) as of a boundary."""
        for key, value in attrs.items():
            if not key.startswith(PREFIX):
                if _TRIAL_ID_LIST_KEY.match(key) and isinstance(value, list):
                    value = [self._replay_id_of[i] for i in value]
                self._storage.set_study_system_attr(self._study_id, key, value)

    def study_attrs(self) -> dict[str, Any]:
        """Sampler-owned study system attributes, with trial ids translated back to the recorded storage's."""
        recorded_id_of = {v: k for k, v in self._replay_id_of.items()}
        out = {}
        for key, value in self._storage.get_study_system_attrs(self._study_id).items():
            if key.startswith(PREFIX):
                continue
            if _TRIAL_ID_LIST_KEY.match(key) and isinstance(value, list):
                value = [recorded_id_of[i] for i in value]
            out[key] = value
        return out

    def restore(self, sampler_state: dict) -> None:
        rng_state.restore(self.sampler, sampler_state)

    def capture(self) -> dict:
        return rng_state.capture(self.sampler)

    def replayed_trial(self, recorded: FrozenTrial) -> FrozenTrial:
        """The replay's version of a recorded trial asked already: what the sampler suggested for it."""
        return self._storage.get_trial(self._replay_id_of[oi.trial_id(recorded)])

    # --- re-enacting ------------------------------------------------------------------------------------------
    def _ask(self, recorded: FrozenTrial):
        fixed = recorded.system_attrs.get("fixed_params")
        if fixed is not None:
            # An enqueued trial: the sampler sees fixed_params exactly as in the original.
            self.study.enqueue_trial(fixed, skip_if_exists=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = self.study.ask()
        if trial.number != recorded.number:
            raise ReplayError(f"replay numbered trial {trial.number} where the record has {recorded.number}")
        self._replay_id_of[oi.trial_id(recorded)] = oi.trial_id(trial)
        return trial

    def _suggest_all(
        self, trial, recorded: FrozenTrial, params: Sequence[tuple[str, BaseDistribution]]
    ) -> Mismatch | None:
        first = None
        for name, dist in params:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = oi.suggest(trial, name, dist)
            if first is None:
                rec_internal = dist.to_internal_repr(recorded.params[name])
                got_internal = dist.to_internal_repr(value)
                if float_bits(rec_internal) != float_bits(got_internal) and not (
                    math.isnan(rec_internal) and math.isnan(got_internal)
                ):
                    first = Mismatch(recorded.number, name, recorded.params[name], value)
        return first

    def reenact(self, recorded: FrozenTrial) -> Mismatch | None:
        """Re-enact one finished trial; return the first parameter that differs from the record, if any.

        After a mismatch the replayed study holds the values the sampler produced, not the recorded ones: a
        caller that goes on sees what the sampler really does from there.
        """
        trial = self._ask(recorded)
        mismatch = self._suggest_all(trial, recorded, list(recorded.distributions.items()))
        self.n_trials += 1
        self.finish(trial, recorded)
        return mismatch

    def finish(self, trial, recorded: FrozenTrial) -> None:
        """Tell a trial asked earlier (reenact_partial) what the record says: its intermediate values, the
        attributes samplers read, its state and values. A deterministic fleet's coordinator asks a whole batch
        before telling any of it, so its schedule is re-enacted with asks and tells apart."""
        for step in sorted(recorded.intermediate_values):
            trial.report(recorded.intermediate_values[step], step)
        for key, value in _user_set_attrs(recorded).items():
            self._storage.set_trial_system_attr(oi.trial_id(trial), key, value)
        self._tell(trial, recorded)

    def reenact_partial(self, recorded: FrozenTrial) -> tuple[Any, Mismatch | None]:
        """Ask and re-issue the suggests a zombie trial made before its process died; leave it RUNNING."""
        trial = self._ask(recorded)
        mismatch = self._suggest_all(trial, recorded, list(recorded.distributions.items()))
        self.n_trials += 1
        return trial, mismatch

    # --- batched re-enactment (deterministic fleets: asks of a batch first, tells later in number order) -------
    def ask_only(self, recorded: FrozenTrial) -> Mismatch | None:
        """Ask and re-issue the recorded suggests; the trial stays RUNNING until `finish_by_number`."""
        return self.reenact_partial(recorded)[1]

    def finish_by_number(self, recorded: FrozenTrial) -> None:
        """Report, set the objective's attributes and tell a trial asked earlier by `ask_only` (or restored by
        `add_running`). Goes through the storage and the trial number, not a Trial object: building an
        optuna.Trial calls the sampler's before_trial, which an earlier ask already did."""
        trial_id = self._storage.get_trial_id_from_study_id_trial_number(self._study_id, recorded.number)
        for step in sorted(recorded.intermediate_values):
            self._storage.set_trial_intermediate_value(trial_id, step, float(recorded.intermediate_values[step]))
        for key, value in _user_set_attrs(recorded).items():
            self._storage.set_trial_system_attr(trial_id, key, value)
        if recorded.state in (TrialState.RUNNING, TrialState.WAITING):
            raise ReplayError(f"trial {recorded.number} is {recorded.state.name}; only finished trials can be told")
        values = list(recorded.values) if recorded.state == TrialState.COMPLETE else None
        oi.tell(self.study, recorded.number, values, recorded.state)

    def add_running(self, recorded: FrozenTrial) -> None:
        """Copy a trial as it was right after its suggest phase (RUNNING, its params, nothing reported): how a
        later session restores the asked-but-untold trials of a batched replay without sampling again."""
        running = FrozenTrial(
            number=recorded.number,
            state=TrialState.RUNNING,
            value=None,
            values=None,
            datetime_start=recorded.datetime_start,
            datetime_complete=None,
            params=dict(recorded.params),
            distributions=dict(recorded.distributions),
            user_attrs=dict(recorded.user_attrs),
            system_attrs={
                k: v
                for k, v in recorded.system_attrs.items()
                if k not in _USER_SET_TRIAL_ATTRS and not k.startswith("constraints:")
            },
            intermediate_values={},
            trial_id=oi.trial_id(recorded),
        )
        self.add_history([running])

    def _tell(self, trial, recorded: FrozenTrial) -> None:
        state = recorded.state
        if state == TrialState.COMPLETE:
            values = list(recorded.values)
        else:
            values = None
        if state == TrialState.RUNNING or state == TrialState.WAITING:
            raise ReplayError(f"trial {recorded.number} is {state.name}; only finished trials can be re-enacted")
        oi.tell(self.study, trial, values, state)

    def tell_fail(self, trial) -> None:
        oi.tell(self.study, trial, None, TrialState.FAIL)


class ReplayError(Exception):
    """The recorded history cannot be re-enacted as it stands."""
