"""Watches and steers one study's fleet off the GUI thread.

A background task (optgui.qt.tasks.tasks) that runs while the fleet is shown, reading the fleet's status from the
study's storage every POLL_SECONDS and writing the Pause / Resume / Stop commands the GUI queues, through
optgui.core.fleet._store — the same records `optgui control` reads and writes. Snapshots leave as the task's partial
results, frozen FleetSnapshots (the core's FleetStatus plus who evaluates which trial).
"""

from __future__ import annotations

import queue
import traceback
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from optgui.core import fleet as fl
from optgui.core.errors import OptguiError
from optgui.qt.tasks import tasks
from optgui.qt.tasks.tasks import Task, TaskSlot, TaskState

POLL_SECONDS = 1.5
_STOP = object()  # queued to end the watcher


@dataclass(frozen=True)
class FleetSnapshot:
    status: fl.FleetStatus
    evaluating: dict  # worker index -> trial number it evaluates now (a fresh dict per snapshot, never shared)


def _watch(state: TaskState, storage: str, study: str, inbox: queue.Queue) -> None:
    """The monitor's task: reports ("status", FleetSnapshot), ("unavailable", message, details),
    ("command_failed", command, message, details) and ("command_sent", command) as partial results."""
    state.on_cancel(lambda: inbox.put(_STOP))  # wakes the wait for the next poll at once
    store = None
    try:
        try:
            store = fl.open_fleet_store(storage, study)  # opened in the thread that uses it
        except OptguiError as exc:
            state.emit(("unavailable", str(exc), ""))
            return
        except Exception as exc:  # noqa: BLE001 - driver errors come in many types
            state.emit(("unavailable", f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
            return
        failures = 0
        while not state.cancelled:
            try:
                status = fl.read_status(store)
                state.emit(("status", FleetSnapshot(status, fl.evaluating_trials(store.running_trials()))))
                failures = 0
            except Exception as exc:  # noqa: BLE001 - a server hiccup: say so once, keep trying
                failures += 1
                if failures == 3:
                    message = f"cannot read the fleet: {exc.__class__.__name__}: {exc}"
                    state.emit(("unavailable", message, traceback.format_exc()))
            try:
                item = inbox.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if item is _STOP:
                return
            try:
                fl.send_command(store, item)
                state.emit(("command_sent", item))
            except Exception as exc:  # noqa: BLE001
                state.emit(("command_failed", item, f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
    finally:
        if store is not None:
            try:
                fl.dispose_fleet_store(store)
            except Exception:  # noqa: BLE001 - closing connections must not hide the reason we stopped
                pass


class FleetMonitor(QObject):
    """GUI-side handle: start(storage, study), send(command), stop(). Signals arrive on the GUI thread, only from
    the current study's watcher (the task slot drops what a previous study's watcher still had in flight)."""

    status = Signal(object)
    unavailable = Signal(str, str)
    command_failed = Signal(str, str, str)
    command_sent = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        # Not serial: a new study's monitor starts at once, while the previous one may still be inside a slow
        # storage call (it ends after it, unseen).
        self._slot = TaskSlot(self, "fleet monitor", serial=False)
        self._inbox: queue.Queue | None = None
        self.study: str | None = None

    @property
    def active(self) -> bool:
        return self._slot.running

    def start(self, storage: str, study: str) -> None:
        self.retire()
        self.study = study
        self._inbox = queue.Queue()
        inbox = self._inbox
        self._slot.start(
            lambda state: _watch(state, storage, study, inbox), name=f"fleet monitor: {study}", yielded=self._relay
        )

    def _relay(self, report: tuple) -> None:
        kind, *args = report
        getattr(self, kind).emit(*args)

    def send(self, command: str) -> bool:
        """Queue pause, resume or stop for the watched study; False when nothing is watched."""
        if not self.active or self._inbox is None:
            return False
        self._inbox.put(command)
        return True

    def retire(self) -> None:
        """Tell the current watcher to end without waiting for it (it may be inside a slow storage call)."""
        self._slot.cancel()
        self._inbox = None
        self.study = None

    def stop(self) -> None:
        """End every watcher and wait for them (closing the window: at most one storage call in flight)."""
        self.retire()
        for task in running_monitors():
            task.wait()


def running_monitors() -> list[Task]:
    """Monitor tasks still running (tests fail when one is left behind)."""
    return [task for task in tasks.running_tasks() if task.name.startswith("fleet monitor")]
