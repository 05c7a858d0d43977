"""The records of parallel runs (optgui.core.fleet._store): the fleet's live record, the last command, one record per
worker, and on trials the claims, posted results and who asked them. A fleet coordinates only through these."""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any, ClassVar

from optgui.core.records._base import (
    AWARE_TIME,
    BOOL,
    COUNT,
    INT,
    NUMBER,
    OBJECT,
    PID,
    TEXT,
    TIME,
    TRIAL_NUMBER,
    Check,
    JsonRecord,
    entry,
    now_iso,
    one_of,
    optional,
)
from optgui.core.records._keys import (
    KEY_CONTROL,
    KEY_FLEET,
    KEY_WORKER,
    TRIAL_ASKED_BY,
    TRIAL_CLAIM,
    TRIAL_RESULT,
)
from optgui.core.records._vocabulary import FleetCommand, FleetMode, ResultState, RunState, WorkerState

VALUES: Check = (
    lambda v: v is None or (isinstance(v, list) and all(isinstance(x, int | float) for x in v)),
    "a list of numbers or null",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FleetRecord(JsonRecord):
    """The fleet's live record, written by whoever leads it (the coordinator in deterministic mode, `optgui run
    --mode free` in free-running mode)."""

    KEY: ClassVar[str] = KEY_FLEET
    TITLE: ClassVar[str] = "Fleet"

    mode: FleetMode = entry("`deterministic` or `free`", one_of(FleetMode), required=True, vocabulary=FleetMode)
    batch: int | None = entry("deterministic mode: trials asked per batch", COUNT)
    pipeline: bool | None = entry("deterministic mode: the next batch is asked while one is evaluated", BOOL)
    session: str | None = entry("the leader's random token (a new run is a new session)", TEXT)
    state: RunState = entry(
        "the fleet's state (`failed` when the leader hit an error)",
        one_of(RunState),
        required=True,
        vocabulary=RunState,
    )
    asked_below: int | None = entry("every trial below it has its whole suggest phase stored", TRIAL_NUMBER)
    released_below: int | None = entry("workers may evaluate RUNNING trials below it", TRIAL_NUMBER)
    host: str | None = entry("the leader's host", TEXT)
    pid: int | None = entry("the leader's process id", PID)
    at: str | None = entry("when it was written", TIME)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def stamped(self, **changes: Any) -> FleetRecord:
        """The record with `changes`, written now."""
        return dataclasses.replace(self, **changes, at=now_iso())

    @classmethod
    def leading(cls, mode: FleetMode, session: str, state: RunState, **fields: Any) -> FleetRecord:
        """The record of a fleet this process leads."""
        return cls(mode=mode, session=session, state=state, host=socket.gethostname(), pid=os.getpid(), **fields)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ControlRecord(JsonRecord):
    """The last fleet command; every process of the fleet polls it between trials (at most every ~1 s idle)."""

    KEY: ClassVar[str] = KEY_CONTROL
    TITLE: ClassVar[str] = "Fleet command"

    command: FleetCommand = entry(
        "`run`, `pause`, `resume` or `stop`", one_of(FleetCommand), required=True, vocabulary=FleetCommand
    )
    seq: int = entry("grows by one with each command, so a new command is told from an old one", COUNT, required=True)
    at: str | None = entry("when it was sent", TIME)
    by: str | None = entry("`host:pid` of the sender", TEXT)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def effective(self) -> FleetCommand:
        """pause -> pause, stop -> stop, anything else (resume, run) -> run."""
        return self.command if self.command in (FleetCommand.PAUSE, FleetCommand.STOP) else FleetCommand.RUN


@dataclasses.dataclass(frozen=True, kw_only=True)
class WorkerRecord(JsonRecord):
    """One per worker process (indexes are never reused, so a free-running worker's seed is never repeated);
    heartbeat every 10 s. A worker is dead when it ran on this host and its pid is gone, or when its heartbeat is
    older than 60 s."""

    KEY: ClassVar[str] = KEY_WORKER + "<i>"
    TITLE: ClassVar[str] = "Worker"

    index: int = entry("`i`, as in its key", COUNT, required=True)
    host: str | None = entry("its host", TEXT)
    pid: int = entry("its process id", PID, required=True)
    token: str | None = entry("its random token", TEXT)
    mode: FleetMode | None = entry("the fleet's mode", one_of(FleetMode), vocabulary=FleetMode)
    state: WorkerState | None = entry(
        "its own state (a status shows a worker whose heartbeat stopped as `dead`)",
        one_of(WorkerState),
        vocabulary=WorkerState,
    )
    trial: int | None = entry("the trial it evaluates (as of its last heartbeat), or null", optional(TRIAL_NUMBER))
    n_evaluated: int | None = entry("trials it evaluated", COUNT)
    started: str | None = entry("when it started", TIME)
    heartbeat: str = entry("its last sign of life", AWARE_TIME, required=True)
    seed: int | None = entry(
        "free mode: its own sampler seed (the run's seed + i; null when the run has none)", optional(INT)
    )
    version_change: dict[str, Any] | None = entry(
        "only when the worker runs under other versions of a package the run's sampler or pruner uses than the "
        "run's latest segment recorded: `{package: [recorded, now]}`. It evaluates anyway (a deterministic-mode "
        "worker never samples; a free-running one's trials are not replayed)",
        OBJECT,
    )
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def registering(cls, index: int, token: str, mode: FleetMode | str) -> WorkerRecord:
        stamp = now_iso()
        return cls(
            index=index,
            host=socket.gethostname(),
            pid=os.getpid(),
            token=token,
            mode=FleetMode(mode),
            state=WorkerState.STARTING,
            trial=None,
            n_evaluated=0,
            started=stamp,
            heartbeat=stamp,
            _absent=frozenset({"seed"}),  # a free-running worker sets it (maybe to null) once it has its index
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Claim(JsonRecord):
    """Attempt *a* at evaluating a trial, inserted once and never updated: the storage's unique key (trial, key)
    makes exactly one worker win each attempt (journal files: an exclusive file lock). A dead claimer's trial is
    claimed again under *a*+1."""

    KEY: ClassVar[str] = TRIAL_CLAIM + "<a>"
    TITLE: ClassVar[str] = "Claim"

    worker: int = entry("the claiming worker's index", COUNT, required=True)
    at: str | None = entry("when", TIME)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def now(cls, worker: int) -> Claim:
        return cls(worker=worker, at=now_iso())


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialResult(JsonRecord):
    """A worker's evaluation, posted instead of telling; the coordinator tells it, in trial-number order."""

    KEY: ClassVar[str] = TRIAL_RESULT
    TITLE: ClassVar[str] = "Result"

    state: ResultState = entry(
        "`COMPLETE`, `PRUNED` or `FAIL`", one_of(ResultState), required=True, vocabulary=ResultState
    )
    values: list[float] | None = entry("the objective values, or null", VALUES)
    message: str | None = entry("why it failed", optional(TEXT), omit=True)
    worker: int | None = entry("the worker that evaluated it", COUNT)
    attempt: int | None = entry("the claim attempt it answers", COUNT)
    duration: float | None = entry("seconds the evaluation took", NUMBER)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AskedBy(JsonRecord):
    """Free-running mode: whose sampler (seed + i) suggested the trial."""

    KEY: ClassVar[str] = TRIAL_ASKED_BY
    TITLE: ClassVar[str] = "Asked by"

    worker: int = entry("the worker's index", COUNT, required=True)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
