"""Reader calls off the GUI thread, for use while a run writes the same storage.

A SQLite read waits for the writer's lock (up to the busy timeout) and a summary of a large storage takes tens of
ms: on the GUI thread either stalls the event loop. Here background tasks share their own read-only reader (never
the GUI's) and hand back immutable results (TrialDelta, StudySummary lists) on the GUI thread. Callers pass a
token with each request and ignore results whose token is no longer current. Each kind of read ("poll",
"summaries") is a task slot (optgui.qt.tasks.tasks); the reader is used by one of them at a time.

A request begins reading START_DELAY_MS after it is made. Requests are made while the GUI updates (a flush of
a run's trials, the end of a run), and a worker thread decoding rows takes the interpreter lock in turns with the
GUI thread: started at once, it made the update's repaint twice as long. Started a little later, it runs while
the GUI is idle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from optgui.qt.study import reading
from optgui.qt.tasks import tasks
from optgui.qt.tasks.tasks import TaskError, TaskSlot

START_DELAY_MS = 40
KINDS = ("poll", "trials", "summaries")


class BackgroundReads(QObject):
    # (kind, token, result, error): kind "poll" (result TrialDelta), "trials" (TrialTable) or "summaries"
    # (list[StudySummary])
    delivered = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        tasks.warm_up(2)  # threads start now, not during a run (waiting for the interpreter lock costs ms there)
        self._slots = {kind: TaskSlot(self, f"read {kind}") for kind in KINDS}
        self._reader: Any = None  # used by one task at a time (the lock), never by the GUI thread
        self._reader_storage: str | None = None
        self._reader_lock = threading.Lock()
        self.busy: set[str] = set()
        self._closed = False

    def poll(self, storage: str, study: str, watermark: Any, token: Any) -> bool:
        """Start a poll unless one is in flight; returns whether it started."""
        return self._submit("poll", token, storage, lambda reader: reading.poll(reader, study, watermark))

    def trials(self, storage: str, study: str, token: Any) -> bool:
        """Start a full read of a study's trials (params, attributes, datetimes); returns whether it started."""
        return self._submit("trials", token, storage, lambda reader: reading.all_trials(reader, study))

    def summaries(self, storage: str, token: Any) -> bool:
        return self._submit("summaries", token, storage, reading.summaries)

    def _submit(self, kind: str, token: Any, storage: str, call: Callable[[Any], Any]) -> bool:
        if kind in self.busy or self._closed:
            return False
        self.busy.add(kind)
        self._slots[kind].start(
            lambda state: self._read(storage, call),
            delay=START_DELAY_MS / 1000,
            returned=lambda result: self.delivered.emit((kind, token, result, None)),
            errored=lambda error: self._failed(kind, token, error),
        )
        return True

    def _failed(self, kind: str, token: Any, error: TaskError) -> None:
        # Reported to the caller, which shows it like a foreground error.
        self.delivered.emit((kind, token, None, error.exception))

    def waiting(self, kind: str) -> bool:
        """A request of `kind` is made but not yet started (it will read what is in the storage by then)."""
        task = self._slots[kind].current
        return task is not None and task.pending

    def _read(self, storage: str, call: Callable[[Any], Any]) -> Any:
        with self._reader_lock:
            if self._reader is None or self._reader_storage != storage:
                self._close_reader()
                self._reader = reading.open_storage(storage)
                self._reader_storage = storage
            return call(self._reader)

    def done(self, kind: str) -> None:
        """The GUI has taken the result of `kind` (called by the receiver, in the GUI thread)."""
        self.busy.discard(kind)

    def _close_reader(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            finally:
                self._reader, self._reader_storage = None, None

    def close(self) -> None:
        """Drop what is in flight (a result on its way is not delivered: its receivers' readers are closed), wait
        for the read in progress, close the reader."""
        self._closed = True
        running = [slot.current for slot in self._slots.values() if slot.current is not None]
        for slot in self._slots.values():
            slot.cancel()
        for task in running:
            task.wait()
        with self._reader_lock:
            self._close_reader()
