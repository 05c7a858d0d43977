"""Runs the engine off the GUI thread and out of the GUI's process: a background task (optgui.qt.tasks.tasks) relays the
events of an engine child process (optgui.core.engine._engine_process) to a queue that the GUI drains at <= 10 Hz.

The engine runs in its own interpreter so that it never holds the GUI's GIL nor fills the GUI's heap (in a thread
it made repaints during a run 80-160 ms late). The relay task blocks on the pipe for the whole run: control goes
from the GUI thread straight down the pipe (pause/resume/stop/abandon), and the engine applies it between trials
exactly as StudyRunner does in-process. Events are immutable dataclasses; they are appended to a deque (no
cross-thread signal per trial) and the GUI drains it at the data rate (FLUSH_MS), so a fast run costs the GUI one
update per 100 ms whatever the trial rate; the same tick paces the garbage collector during the run. (Not the
task's `yielded`: a tick is needed while no event comes, for the collector, and a deque costs nothing per trial.)
"""

from __future__ import annotations

import collections
import gc
import time
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from optgui.core.engine import (
    EngineProcess,
    RunFailed,
    RunRequest,
    RunStarted,
    RunStateChanged,
    TrialFinished,
    TrialStarted,
)
from optgui.core.records import EndReason
from optgui.qt.study.run_state import PAUSABLE, RunStateMachine, SessionRunState
from optgui.qt.tasks import tasks
from optgui.qt.tasks.gui_collector import gui_collector
from optgui.qt.tasks.tasks import Task, TaskSlot, TaskState
from optgui.qt.tasks.throttle import DATA

FLUSH_MS = DATA.interval_ms  # the data rate: 10 Hz
# The cyclic garbage collector during a run: automatic collections are off and the flush timer runs the young
# generation when it has filled, the middle one every GC_MIDDLE_EVERY flushes, and a full collection waits until
# FULL_COLLECTION_AFTER_MS after the run (not in the same event-loop pass as the end-of-run updates, which it
# would lengthen by 6-10 ms). (Automatic full collections stalled the event loop for 50-120 ms of CPU each; what a
# run leaves behind in cycles is small, and the benchmark prints peak RSS.) False restores Python's default pacing.
PACE_COLLECTOR = True
GC_YOUNG = 700
GC_MIDDLE_EVERY = 20
FULL_COLLECTION_AFTER_MS = 1500
# The engine runs below the GUI's CPU priority (optgui.core.engine._priority): it loses nothing while a core is free,
# and on a busy machine the GUI is served first. The objective's process inherits it.
ENGINE_NICENESS = 10
RECEIVE_SECONDS = 0.2  # how long the worker waits on the pipe at a time (it wakes at once for a message)


def running_relays() -> list[Task]:
    """Run relays still running (a test fails when one is left behind)."""
    return [task for task in tasks.running_tasks() if task.name.startswith("optgui-run-")]


@dataclass(frozen=True)
class LeaseRefused:
    message: str


@dataclass(frozen=True)
class PicklesRefused:
    """The engine did not start: loading the study's CMA-ES pickles needs the user's consent."""

    message: str
    trials: list[int]


@dataclass(frozen=True)
class RunEnded:
    outcome: object | None  # optgui.core.engine._runner.RunOutcome, or None after an error / abandon
    interrupted: bool = False


def _relay(state: TaskState, engine: EngineProcess, events: collections.deque) -> None:
    """The run's task, for the run's whole life: start the engine process, relay its messages into `events`."""
    # Closing without stopping the run first (a crash of the GUI's own code) pauses it at the trial boundary.
    state.on_cancel(lambda: engine.stop(EndReason.PAUSED))
    outcome, interrupted = None, False
    try:
        engine.start()
        ended = None
        while ended is None:
            for message in engine.receive(RECEIVE_SECONDS):
                if message[0] == "event":
                    events.append(message[1])
                else:
                    ended = message[1:]
        kind, *payload = ended
        if kind == "outcome":
            outcome = payload[0]
        elif kind == "interrupted":
            interrupted = True
        elif kind == "lease":
            events.append(LeaseRefused(payload[0]))
        elif kind == "pickles":
            events.append(PicklesRefused(payload[0], list(payload[1])))
        elif kind == "error":
            events.append(RunFailed(payload[0]))
        else:
            events.append(RunFailed(payload[0], payload[1]))
        engine.join()
    except BaseException as exc:  # noqa: BLE001 - e.g. the process cannot start: end the run, not the app
        events.append(RunFailed(f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
    finally:
        events.append(RunEnded(outcome, interrupted))


class RunController(QObject):
    """One run of one study at a time. `run` is the run's state machine (optgui.qt.study.run_state): the controller
    is its only writer, from the engine process's messages; the session of the run shares it."""

    trials_landed = Signal(list)  # [TrialFinished, ...] batched
    trial_started = Signal(int)
    state_changed = Signal(object, str)  # SessionRunState, message
    run_started = Signal(object)  # RunStarted
    run_failed = Signal(str, str)  # message, details
    lease_refused = Signal(str)
    pickles_refused = Signal(str, list)  # message, trial numbers: the study holds pickles optgui did not write
    ended = Signal(object)  # RunEnded
    idle = Signal()  # the run's relay has ended: the next run can start

    def __init__(self, parent=None):
        super().__init__(parent)
        self._queue: collections.deque = collections.deque()
        self._relay_slot = TaskSlot(self, "run relay")
        self._relay: Task | None = None
        self.engine: EngineProcess | None = None
        self.run = RunStateMachine()
        self.trial_in_flight: int | None = None
        self.started_at: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        self._collector_paused = False
        self._flushes = 0
        self._full_collection = QTimer(self)  # a child: it cannot fire after the controller is gone
        self._full_collection.setSingleShot(True)
        self._full_collection.setInterval(FULL_COLLECTION_AFTER_MS)
        self._full_collection.timeout.connect(gc.collect)

    @property
    def state(self) -> SessionRunState:
        """The state of the current (or last) run."""
        return self.run.state

    @property
    def active(self) -> bool:
        return self._relay is not None

    def start(self, request: RunRequest, objective_ref: str | None = None) -> None:
        """Start a run. objective_ref: run the objective in a child process of the engine (Abort trial then stops
        it at once)."""
        if self.active:
            raise RuntimeError("a run is already active in this window")
        self.engine = EngineProcess(request, objective_ref, niceness=ENGINE_NICENESS)
        engine, events = self.engine, self._queue
        self.trial_in_flight = None
        self.started_at = time.monotonic()
        self.run = RunStateMachine()
        self.run.start("opening the study for writing…")
        self.state_changed.emit(self.run.state, self.run.message)
        self._flushes = 0
        self._full_collection.stop()
        # The run paces collections itself (between flushes): the GUI-thread collector, or Python's automatic one,
        # is paused meanwhile.
        collector = gui_collector()
        self._collector_paused = PACE_COLLECTOR and (collector is not None or gc.isenabled())
        if self._collector_paused:
            if collector is not None:
                collector.paused = True
            else:
                gc.disable()
        self._timer.start()
        self._relay = self._relay_slot.start(
            lambda state: _relay(state, engine, events),
            name=f"optgui-run-{request.study_name}",
            finished=self._on_relay_finished,
        )

    # --- control (GUI thread) -----------------------------------------------------------------------------
    def pause(self) -> None:
        if self.engine and self.active and self.state in PAUSABLE:
            self.engine.pause()

    def resume(self) -> None:
        # The state changes when the engine says it runs again (its RunStateChanged), not here.
        if self.engine and self.active and self.state in (SessionRunState.PAUSED, SessionRunState.PAUSING):
            self.engine.resume()

    def stop(self, reason: EndReason = EndReason.STOPPED) -> None:
        if self.engine and self.active:
            self.engine.stop(reason)

    def abandon(self) -> None:
        """Abandon the trial in flight as a crash would (the next resume recovers it)."""
        if self.engine and self.active:
            self.engine.abandon()

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Block until the run's relay ends (used when quitting), then deliver what is left."""
        if self._relay is None:
            return True
        return self._relay.wait(timeout_ms)  # delivers `finished` -> _on_relay_finished

    # --- events -------------------------------------------------------------------------------------------
    def _pace_collector(self) -> None:
        if not self._collector_paused:
            return
        self._flushes += 1
        if self._flushes % GC_MIDDLE_EVERY == 0:
            gc.collect(1)
        elif gc.get_count()[0] > GC_YOUNG:
            gc.collect(0)

    def _resume_collector(self) -> None:
        if self._collector_paused:
            self._collector_paused = False
            collector = gui_collector()
            if collector is not None:
                collector.paused = False
            else:
                gc.enable()
            self._full_collection.start()

    @Slot()
    def flush(self) -> None:
        self._pace_collector()
        trials: list[TrialFinished] = []
        ended = None
        while self._queue:
            event = self._queue.popleft()
            if isinstance(event, TrialFinished):
                trials.append(event)
                if self.trial_in_flight == event.number:
                    self.trial_in_flight = None
                continue
            if trials:  # keep order relative to state changes
                self.trials_landed.emit(trials)
                trials = []
            if isinstance(event, TrialStarted):
                self.trial_in_flight = event.number
                self.trial_started.emit(event.number)
            elif isinstance(event, RunStateChanged):
                state = SessionRunState.of(event.state)
                if state.at_rest or state is SessionRunState.PAUSED:
                    self.trial_in_flight = None
                self._set_state(state, event.message)
            elif isinstance(event, RunStarted):
                self.run_started.emit(event)
            elif isinstance(event, RunFailed):
                self._set_state(SessionRunState.FAILED, event.message)
                self.run_failed.emit(event.message, event.details)
            elif isinstance(event, LeaseRefused):
                self._set_state(SessionRunState.LEASED, event.message)
                self.lease_refused.emit(event.message)
            elif isinstance(event, PicklesRefused):
                self._set_state(SessionRunState.STOPPED, "not started: the study holds pickles optgui did not write")
                self.pickles_refused.emit(event.message, event.trials)
            elif isinstance(event, RunEnded):
                ended = event
        if trials:
            self.trials_landed.emit(trials)
        if ended is not None:
            if ended.interrupted:
                self._set_state(SessionRunState.INTERRUPTED, "trial abandoned; resume to recover it")
            self.run.run_ended()
            self.ended.emit(ended)

    @Slot()
    def _on_relay_finished(self) -> None:
        if self._relay is None:
            return
        self._timer.stop()
        self._relay = None
        self.flush()
        self.idle.emit()
        self.trial_in_flight = None
        self._resume_collector()

    def _set_state(self, state: SessionRunState, message: str) -> None:
        self.run.advance(state, message)
        self.state_changed.emit(self.run.state, message)
