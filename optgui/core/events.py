"""Immutable events the run engine emits to its listener. Frozen dataclasses with plain values only, so they can
cross threads (the GUI queues them through a Signal(object) and coalesces them at <=10 Hz)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunStarted:
    study_name: str
    segment: int
    n_finished: int  # finished trials of the run so far (as optimize counts them)
    n_target: int | None
    resumed_by: str  # "start" | "resume" | "recovery"
    notes: tuple[str, ...] = ()


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
    state: str  # "running" | "pausing" | "paused" | "stopping" | "stopped" | "completed" | "failed"
    message: str = ""


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
