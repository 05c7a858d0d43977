"""The run state of a study session: a state machine over the core's RunState.

The engine reports its state as an optgui.core.records.RunState (running, pausing, paused, stopping, stopped,
completed, failed). A session also has states around an engine's run that no engine reports: before any run in this
window (idle), while the engine process starts (starting), a trial abandoned or left RUNNING by a killed run
(interrupted: Resume recovers it), and another process holding the study (leased). SessionRunState is those four
plus every RunState under the same value (a test checks the core's enum is covered), so a state the engine reports
is shown as it is, and RunStateMachine is the one place a session's state changes.

The writer is the run's relay: RunController turns the engine process's messages (state events, the start, a
refusal, the end) into transitions; StudyView hands them to the session of the run. Nothing else writes a run state.
"""

from __future__ import annotations

import enum

from optgui.core.records import RunState


class SessionRunState(enum.StrEnum):
    """What a study session shows about the run that writes it. Its values are strings, so stored and reported
    states (RunState values) compare equal to it."""

    IDLE = "idle"  # no run of it in this window, nothing to recover
    STARTING = "starting"  # the engine process is starting (opening the study for writing)
    RUNNING = RunState.RUNNING.value
    PAUSING = RunState.PAUSING.value
    PAUSED = RunState.PAUSED.value
    STOPPING = RunState.STOPPING.value
    STOPPED = RunState.STOPPED.value
    COMPLETED = RunState.COMPLETED.value
    FAILED = RunState.FAILED.value
    INTERRUPTED = "interrupted"  # a trial was abandoned (or a killed run left one RUNNING): Resume recovers it
    LEASED = "leased"  # another process holds the study: the run did not start

    @classmethod
    def of(cls, state: RunState | str) -> SessionRunState:
        """The session state of a state the engine reports (ValueError for a string that is none)."""
        return cls(RunState(state).value)

    @property
    def engine_state(self) -> RunState | None:
        """The core's RunState of this state, None for the states no engine reports."""
        return RunState(self.value) if self.value in ENGINE_VALUES else None

    @property
    def active(self) -> bool:
        """An engine is working on the study (the run panel's controls, the plot's live mode)."""
        return self in ACTIVE

    @property
    def at_rest(self) -> bool:
        """No engine is working on the study: a new run may start."""
        return self not in ACTIVE


ENGINE_VALUES = frozenset(state.value for state in RunState)
ACTIVE = frozenset(
    {
        SessionRunState.STARTING,
        SessionRunState.RUNNING,
        SessionRunState.PAUSING,
        SessionRunState.PAUSED,
        SessionRunState.STOPPING,
    }
)
# The run has ended: its trials are final, a full read and a check follow.
ENDED = frozenset({SessionRunState.PAUSED, SessionRunState.STOPPED, SessionRunState.COMPLETED})
# The engine can pause (a pause asked while starting is applied before the first trial).
PAUSABLE = frozenset({SessionRunState.STARTING, SessionRunState.RUNNING})
STOPPABLE = frozenset(
    {SessionRunState.STARTING, SessionRunState.RUNNING, SessionRunState.PAUSING, SessionRunState.PAUSED}
)
# A trial is in flight, so it can be abandoned.
ABORTABLE = frozenset({SessionRunState.RUNNING, SessionRunState.PAUSING, SessionRunState.STOPPING})


class IllegalTransition(ValueError):
    """A run state change no run makes (a bug in whoever wrote it)."""


class RunStateMachine:
    """A session's run state and the message that came with it.

    Transitions: a run begins (`start`) only at rest; while it is active, any state the run's relay reports is
    taken (the engine's own order: running, pausing, paused, running …, stopped/completed/failed); after it ends,
    the relay's last words (a failure, an interruption) may still follow. Idle is only ever the initial state.
    """

    def __init__(self, initial: SessionRunState = SessionRunState.IDLE, message: str = "") -> None:
        self.state = initial
        self.message = message
        self._run_ended = True  # the last run's relay has delivered its end (or there was none)

    def start(self, message: str = "") -> None:
        """A run of the study begins in this window."""
        if self.state.active:
            raise IllegalTransition(f"a run starts while the last one is {self.state}")
        self.state, self.message, self._run_ended = SessionRunState.STARTING, message, False

    def advance(self, state: SessionRunState | RunState | str, message: str = "") -> SessionRunState:
        """Take a state the run's relay reports (the engine's RunStateChanged, or a start refused / failed /
        interrupted). Returns the new state."""
        new = SessionRunState(state)
        if new in (SessionRunState.IDLE, SessionRunState.STARTING):
            raise IllegalTransition(f"{new} is not a state a run reports (from {self.state})")
        if self._run_ended and self.state.at_rest and new.active:
            raise IllegalTransition(f"{new} reported with no run started (from {self.state})")
        self.state, self.message = new, message
        return new

    def run_ended(self) -> None:
        """The run's relay has delivered everything: the state is at rest from now on."""
        self._run_ended = True
