"""Runs the engine off the GUI thread: a worker QObject moved to a QThread, controlled through the engine's
thread-safe requests, reporting through a queue that the GUI drains at <= 10 Hz.

The worker's only slot blocks for the whole run, so its thread's event loop never processes queued calls: control
goes straight to StudyRunner.request_pause()/request_resume()/request_stop()/abandon_trial(), which set
threading.Events that the engine checks between trials. Events are immutable dataclasses; they are appended to a
deque (cheap, no cross-thread signal per trial) and a GUI-side QTimer hands them over in batches, so a fast run
costs the GUI one update per 100 ms whatever the trial rate.
"""

from __future__ import annotations

import collections
import gc
import time
import traceback
import weakref
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from optgui.core.errors import LeaseHeldError, OptguiError
from optgui.core.events import RunFailed, RunStarted, RunStateChanged, TrialFinished, TrialStarted
from optgui.core.runner import RunInterrupted, RunRequest, StudyRunner

FLUSH_MS = 100  # 10 Hz

_threads: "weakref.WeakSet[QThread]" = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """QThreads started by run controllers that are still running (tests fail when any is left behind)."""
    return [t for t in list(_threads) if t.isRunning()]


@dataclass(frozen=True)
class LeaseRefused:
    message: str


@dataclass(frozen=True)
class RunEnded:
    outcome: object | None  # optgui.core.runner.RunOutcome, or None after an error / abandon
    interrupted: bool = False


class _Worker(QObject):
    """Lives in the run thread. run() is the thread's whole life."""

    def __init__(self, runner: StudyRunner, queue: collections.deque):
        super().__init__()
        self.runner = runner
        self.queue = queue

    @Slot()
    def run(self) -> None:
        thresholds = gc.get_threshold()
        # Fewer cyclic collections while the engine allocates per trial: each full collection stalls the GUI
        # thread (it holds the GIL) for tens of ms on a large heap.
        gc.set_threshold(max(thresholds[0], 20000), 50, 50)
        outcome, interrupted = None, False
        try:
            self.runner.prepare()
            outcome = self.runner.run()
        except LeaseHeldError as exc:
            self.queue.append(LeaseRefused(str(exc)))
        except RunInterrupted:
            interrupted = True
        except OptguiError as exc:
            self.queue.append(RunFailed(str(exc)))
        except BaseException as exc:  # noqa: BLE001 - storage errors and bugs end the run, not the app
            self.queue.append(RunFailed(f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
        finally:
            gc.set_threshold(*thresholds)
            self.queue.append(RunEnded(outcome, interrupted))
            QThread.currentThread().quit()


class RunController(QObject):
    """One run of one study at a time. States (`state`): idle, starting, running, pausing, paused, stopping,
    stopped, completed, failed, interrupted, leased."""

    trials_landed = Signal(list)  # [TrialFinished, ...] batched
    trial_started = Signal(int)
    state_changed = Signal(str, str)  # state, message
    run_started = Signal(object)  # RunStarted
    run_failed = Signal(str, str)  # message, details
    lease_refused = Signal(str)
    ended = Signal(object)  # RunEnded

    def __init__(self, parent=None):
        super().__init__(parent)
        self._queue: collections.deque = collections.deque()
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self.runner: StudyRunner | None = None
        self.objective = None
        self.state = "idle"
        self.trial_in_flight: int | None = None
        self.started_at: float | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    @property
    def active(self) -> bool:
        return self._thread is not None

    def start(self, request: RunRequest, objective=None) -> None:
        if self.active:
            raise RuntimeError("a run is already active in this window")
        self.objective = objective
        self.runner = StudyRunner(request, self._queue.append, objective)
        self._worker = _Worker(self.runner, self._queue)
        self._thread = QThread()
        self._thread.setObjectName(f"optgui-run-{request.study_name}")
        _threads.add(self._thread)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._thread.finished.connect(self._on_thread_finished)
        self.trial_in_flight = None
        self.started_at = time.monotonic()
        self._set_state("starting", "opening the study for writing…")
        self._timer.start()
        self._thread.start()

    # --- control (GUI thread) -----------------------------------------------------------------------------
    def pause(self) -> None:
        if self.runner and self.state in ("running", "starting"):
            self.runner.request_pause()

    def resume(self) -> None:
        if self.runner and self.state in ("paused", "pausing"):
            self.runner.request_resume()
            self._set_state("running", "")

    def stop(self, reason: str = "stopped") -> None:
        if self.runner and self.active:
            self.runner.request_stop(reason)

    def abandon(self) -> None:
        """Abandon the trial in flight as a crash would (the next resume recovers it)."""
        if self.runner and self.active:
            abort = getattr(self.objective, "abort", None)
            self.runner.abandon_trial()
            if abort is not None:
                abort()

    def wait(self, timeout_ms: int = 60000) -> bool:
        """Block until the run thread ends (used when quitting), then deliver what is left."""
        if self._thread is None:
            return True
        done = self._thread.wait(timeout_ms)
        if done:
            self._on_thread_finished()
        return done

    # --- events -------------------------------------------------------------------------------------------
    @Slot()
    def flush(self) -> None:
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
                if event.state in ("paused", "stopped", "completed", "failed"):
                    self.trial_in_flight = None
                self._set_state(event.state, event.message)
            elif isinstance(event, RunStarted):
                self.run_started.emit(event)
            elif isinstance(event, RunFailed):
                self._set_state("failed", event.message)
                self.run_failed.emit(event.message, event.details)
            elif isinstance(event, LeaseRefused):
                self._set_state("leased", event.message)
                self.lease_refused.emit(event.message)
            elif isinstance(event, RunEnded):
                ended = event
        if trials:
            self.trials_landed.emit(trials)
        if ended is not None:
            if ended.interrupted:
                self._set_state("interrupted", "trial abandoned; resume to recover it")
            self.ended.emit(ended)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        self._thread.wait()
        self._timer.stop()
        self._thread.deleteLater()
        self._worker.deleteLater()
        self._thread = None
        self._worker = None
        self.flush()
        self.trial_in_flight = None
        close = getattr(self.objective, "close", None)
        if close is not None:
            close()

    def _set_state(self, state: str, message: str) -> None:
        self.state = state
        self.state_changed.emit(state, message)
