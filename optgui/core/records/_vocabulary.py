"""The closed vocabularies optgui stores and emits. StrEnums: each member equals the string stored, so a record
read from JSON compares equal to the text written by any version of optgui."""

from __future__ import annotations

import enum


class RunState(enum.StrEnum):
    """The state of a run, as the engine reports it (RunStateChanged) and a fleet records it (optgui:fleet)."""

    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


class EndReason(enum.StrEnum):
    """Why a segment ended (segment end.reason)."""

    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    EXHAUSTED = "exhausted"  # the sampler had nothing left (a finished grid)
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"  # the trial in flight was abandoned: no state saved at the end
    FAILED = "failed"
    CRASHED = "crashed"  # written by the recovery that found the dead segment

    @property
    def saved_state(self) -> bool:
        """The segment saved the sampler state at its end, so the next one resumes from it (no recovery)."""
        return self in ENDED_WITH_STATE


ENDED_WITH_STATE = frozenset(
    {EndReason.PAUSED, EndReason.STOPPED, EndReason.COMPLETED, EndReason.EXHAUSTED, EndReason.TIMEOUT}
)


class SegmentStart(enum.StrEnum):
    """How a segment started (segment resumed_by)."""

    START = "start"  # the run's first segment
    RESUME = "resume"  # from the state saved when the previous segment ended
    RECOVERY = "recovery"  # after a segment whose process died: recovered from the saved states


class RunOrigin(enum.StrEnum):
    """Where the run's study came from (run record origin)."""

    NEW = "new"
    ADOPTED = "adopted"  # the study had trials made elsewhere: claims start at history_until


class Direction(enum.StrEnum):
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


class RecoveryHandling(enum.StrEnum):
    """What crash recovery did with the trial that was in flight (segment recovery.handling)."""

    REENTERED = "reentered"
    ABANDONED = "abandoned"
    NONE = "none"


class FleetMode(enum.StrEnum):
    DETERMINISTIC = "deterministic"
    FREE = "free"


class FleetCommand(enum.StrEnum):
    """A fleet command (optgui:control command)."""

    RUN = "run"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


class WorkerState(enum.StrEnum):
    """A worker's own state (optgui:worker:<i> state); a status shows a worker that stopped beating as "dead"."""

    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    EXITED = "exited"
    FAILED = "failed"


class ResultState(enum.StrEnum):
    """The state of a worker's evaluation (optgui:result state)."""

    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"
