"""Immutable events the run engine emits to its listener. Frozen dataclasses with plain values only, so they can
cross threads (the GUI queues them through a Signal(object) and coalesces them at <=10 Hz)."""

from __future__ import annotations

from dataclasses import dataclass

from optgui.core import _optuna_internals as oi
from optgui.core.records import RunState, SegmentStart


@dataclass(frozen=True)
class RunStarted:
    study_name: str
    segment: int
    n_finished: int  # finished trials of the run so far (as optimize counts them)
    n_target: int | None
    resumed_by: SegmentStart  # a plain string given is read as one (ValueError when it is none)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "resumed_by", SegmentStart(self.resumed_by))


@dataclass(frozen=True)
class TrialStarted:
    number: int


@dataclass(frozen=True)
class TrialFinished:
    """A told trial. With `full` set (the single-process engine sends it), the event is the trial's whole row as
    the storage holds it, so a window can show the run without reading the storage (optgui.core.engine._trial_store
    applies it like a poll's row): `trial_id`; `distributions` holds (name, internal value, distribution JSON) per
    param in suggest order; datetimes are ISO texts as Optuna returns them; `intermediate_values` (step, value);
    `user_attrs` (key, JSON value)."""

    number: int
    state: str  # "COMPLETE" | "PRUNED" | "FAIL"
    values: tuple[float, ...] | None
    params: tuple[tuple[str, object], ...]
    duration: float
    error: str | None
    n_finished: int
    n_target: int | None
    full: bool = False
    trial_id: int = -1
    distributions: tuple[tuple[str, float, str], ...] = ()
    datetime_start: str | None = None
    datetime_complete: str | None = None
    intermediate_values: tuple[tuple[int, float], ...] = ()
    user_attrs: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class RunStateChanged:
    state: RunState  # a plain string given is read as one (ValueError when it is none)
    message: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", RunState(self.state))


@dataclass(frozen=True)
class RunFailed:
    message: str
    details: str = ""


@dataclass(frozen=True)
class RecoveryPerformed:
    dead_segment: int
    zombie: int | None
    handling: str  # "reentered" | "abandoned" | "none"
    replayed_trials: int
    equivalent: bool
    reason: str


def trial_finished(frozen, duration: float, error: str | None, n_finished: int, n_target: int | None) -> TrialFinished:
    """The full event of a told trial, from the FrozenTrial the storage returns for it (so that what a window
    applies equals what a read of the storage gives)."""
    from optuna.distributions import distribution_to_json

    dists = frozen.distributions
    return TrialFinished(
        frozen.number,
        frozen.state.name,
        tuple(frozen.values) if frozen.values is not None else None,
        tuple(frozen.params.items()),
        duration,
        error,
        n_finished,
        n_target,
        full=True,
        trial_id=oi.trial_id(frozen),
        distributions=tuple(
            (name, float(dists[name].to_internal_repr(value)), distribution_to_json(dists[name]))
            for name, value in frozen.params.items()
        ),
        datetime_start=_iso(frozen.datetime_start),
        datetime_complete=_iso(frozen.datetime_complete),
        intermediate_values=tuple((int(k), float(v)) for k, v in sorted(frozen.intermediate_values.items())),
        user_attrs=tuple(frozen.user_attrs.items()),
    )


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()
