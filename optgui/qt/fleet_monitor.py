"""Watches and steers one study's fleet off the GUI thread.

A parentless QObject moved to a QThread: its only slot runs for the thread's whole life, reading the
fleet's status from the study's storage every POLL_SECONDS and writing the Pause / Resume / Stop commands the GUI
queues, through optgui.core.fleet — the same records `optgui control` reads and writes. Snapshots leave through
`Signal(object)` as frozen FleetSnapshots (the core's FleetStatus plus who evaluates which trial).
"""

from __future__ import annotations

import queue
import traceback
import weakref
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from optgui.core import fleet as fl
from optgui.core.errors import OptguiError

POLL_SECONDS = 1.5
_STOP = object()  # queued to end the thread

_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_monitor_threads() -> list[QThread]:
    """Monitor threads still running (tests fail when one is left behind)."""
    return [t for t in list(_threads) if t.isRunning()]


@dataclass(frozen=True)
class FleetSnapshot:
    status: fl.FleetStatus
    evaluating: dict  # worker index -> trial number it evaluates now (a fresh dict per snapshot, never shared)


class _Watcher(QObject):
    status = Signal(object)  # FleetSnapshot
    unavailable = Signal(str, str)  # message, details: the storage cannot be read (the thread ends)
    command_failed = Signal(str, str, str)  # command, message, details
    command_sent = Signal(str)

    def __init__(self, storage: str, study: str, inbox: queue.Queue):
        super().__init__()
        self.storage_text = storage
        self.study = study
        self.inbox = inbox

    @Slot()
    def run(self) -> None:
        store = None
        try:
            try:
                store = fl.open_fleet_store(self.storage_text, self.study)  # opened in the thread that uses it
            except OptguiError as exc:
                self.unavailable.emit(str(exc), "")
                return
            except Exception as exc:  # noqa: BLE001 - driver errors come in many types
                self.unavailable.emit(f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
                return
            failures = 0
            while True:
                try:
                    status = fl.read_status(store)
                    self.status.emit(FleetSnapshot(status, fl.evaluating_trials(store.running_trials())))
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - a server hiccup: say so once, keep trying
                    failures += 1
                    if failures == 3:
                        self.unavailable.emit(
                            f"cannot read the fleet: {exc.__class__.__name__}: {exc}", traceback.format_exc()
                        )
                try:
                    item = self.inbox.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if item is _STOP:
                    return
                try:
                    fl.send_command(store, item)
                    self.command_sent.emit(item)
                except Exception as exc:  # noqa: BLE001
                    self.command_failed.emit(item, f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
        finally:
            if store is not None:
                try:
                    fl.dispose_fleet_store(store)
                except Exception:  # noqa: BLE001 - closing connections must not hide the reason we stopped
                    pass
            QThread.currentThread().quit()


class FleetMonitor(QObject):
    """GUI-side handle: start(storage, study), send(command), stop(). Signals arrive on the GUI thread, only from
    the current study's watcher."""

    status = Signal(object)
    unavailable = Signal(str, str)
    command_failed = Signal(str, str, str)
    command_sent = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._watcher: _Watcher | None = None
        self._inbox: queue.Queue | None = None
        self._retired: list[tuple[QThread, _Watcher]] = []  # told to end; kept alive until their thread ends
        self.study: str | None = None

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, storage: str, study: str) -> None:
        self.retire()
        self.study = study
        self._inbox = queue.Queue()
        self._watcher = _Watcher(storage, study, self._inbox)
        self._thread = QThread()
        self._thread.setObjectName(f"optgui-fleet-monitor:{study}")
        _threads.add(self._thread)
        self._watcher.moveToThread(self._thread)
        self._watcher.status.connect(self._relay_status)
        self._watcher.unavailable.connect(self._relay_unavailable)
        self._watcher.command_failed.connect(self._relay_command_failed)
        self._watcher.command_sent.connect(self._relay_command_sent)
        self._thread.started.connect(self._watcher.run)
        self._thread.start()

    # Relays drop what a previous study's watcher still had in flight.
    @Slot(object)
    def _relay_status(self, status) -> None:
        if self.sender() is self._watcher:
            self.status.emit(status)

    @Slot(str, str)
    def _relay_unavailable(self, message: str, details: str) -> None:
        if self.sender() is self._watcher:
            self.unavailable.emit(message, details)

    @Slot(str, str, str)
    def _relay_command_failed(self, command: str, message: str, details: str) -> None:
        if self.sender() is self._watcher:
            self.command_failed.emit(command, message, details)

    @Slot(str)
    def _relay_command_sent(self, command: str) -> None:
        if self.sender() is self._watcher:
            self.command_sent.emit(command)

    def send(self, command: str) -> bool:
        """Queue pause, resume or stop for the watched study; False when nothing is watched."""
        if not self.active:
            return False
        self._inbox.put(command)
        return True

    def retire(self) -> None:
        """Tell the current watcher to end without waiting for it (it may be inside a slow storage call)."""
        if self._thread is not None:
            self._inbox.put(_STOP)
            self._retired.append((self._thread, self._watcher))
            self._thread.finished.connect(self._forget_finished)
        self._thread = self._watcher = self._inbox = None
        self.study = None

    def _forget_finished(self) -> None:
        self._retired = [(t, w) for t, w in self._retired if t.isRunning()]

    def stop(self) -> None:
        """End every watcher and wait for them (closing the window: at most one storage call in flight)."""
        self.retire()
        for thread, _ in self._retired:
            thread.wait()
        self._retired.clear()
