"""Immutable events the run engine emits to its listener. Frozen dataclasses with plain values only, so they can
cross threads (the GUI queues them through a Signal(object) and coalesces them at <=10 Hz)."""

from __future__ import annotations

from dataclasses import dataclass

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
    number: int
    state: str  # "COMPLETE" | "PRUNED" | "FAIL"
    values: tuple[float, ...] | None
    params: tuple[tuple[str, object], ...]
    duration: float
    error: str | None
    n_finished: int
    n_target: int | None


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
