"""Reader calls off the GUI thread, for use while a run writes the same storage.

A SQLite read waits for the writer's lock (up to the busy timeout) and a summary of a large storage takes tens of
ms: on the GUI thread either stalls the event loop. Here one worker thread owns its own read-only reader (a reader
is not shared between threads) and hands back immutable results (TrialDelta, StudySummary lists) through a queued
signal. Callers pass a token with each request and ignore results whose token is no longer current.

A request reaches the worker START_DELAY_MS after it is made. Requests are made while the GUI updates (a flush of
a run's trials, the end of a run), and a worker thread decoding rows takes the interpreter lock in turns with the
GUI thread: started at once, it made the update's repaint twice as long. Started a little later, it runs while
the GUI is idle.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from optgui.qt import reading

START_DELAY_MS = 40


class BackgroundReads(QObject):
    # (kind, token, result, error): kind "poll" (result TrialDelta), "trials" (TrialTable) or "summaries"
    # (list[StudySummary])
    delivered = Signal(object)
    _finished = Signal(object)  # emitted in the worker thread; handed on as `delivered` unless closed by then

    def __init__(self, parent=None):
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="optgui-reads")
        # The worker thread starts now, not on the first request (during a run, when starting a thread on the GUI
        # thread waits for it to get the interpreter lock: several ms).
        self._executor.submit(lambda: None)
        self._reader = None  # used only in the worker thread
        self._reader_storage: str | None = None
        self.busy: set[str] = set()
        self._waiting: list[tuple] = []  # requests for the worker, handed over when the start timer fires
        self._start_timer = QTimer(self)  # a child: it cannot fire after this object is gone
        self._start_timer.setSingleShot(True)
        self._start_timer.setInterval(START_DELAY_MS)
        self._start_timer.timeout.connect(self._hand_over)
        self._closed = False
        self._finished.connect(self._deliver)  # queued: this object lives in the GUI thread

    def poll(self, storage: str, study: str, watermark, token) -> bool:
        """Start a poll unless one is in flight; returns whether it started."""
        return self._submit("poll", token, storage, lambda reader: reading.poll(reader, study, watermark))

    def trials(self, storage: str, study: str, token) -> bool:
        """Start a full read of a study's trials (params, attributes, datetimes); returns whether it started."""
        return self._submit("trials", token, storage, lambda reader: reading.all_trials(reader, study))

    def summaries(self, storage: str, token) -> bool:
        return self._submit("summaries", token, storage, reading.summaries)

    def _submit(self, kind: str, token, storage: str, call) -> bool:
        if kind in self.busy or self._closed:
            return False
        self.busy.add(kind)
        self._waiting.append((kind, token, storage, call))
        if not self._start_timer.isActive():
            self._start_timer.start()
        return True

    def waiting(self, kind: str) -> bool:
        """A request of `kind` is made but not yet started (it will read what is in the storage by then)."""
        return any(request[0] == kind for request in self._waiting)

    def _hand_over(self) -> None:
        waiting, self._waiting = self._waiting, []
        for request in waiting:
            self._executor.submit(self._work, *request)

    def _work(self, kind: str, token, storage: str, call) -> None:
        result, error = None, None
        try:
            if self._reader is None or self._reader_storage != storage:
                self._close_reader()
                self._reader = reading.open_storage(storage)
                self._reader_storage = storage
            result = call(self._reader)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, which shows it like a foreground error
            error = exc
        self._finished.emit((kind, token, result, error))

    def _deliver(self, message) -> None:
        # A result that was on its way when the window closed is dropped: its receivers' readers are closed.
        if not self._closed:
            self.delivered.emit(message)

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
        """Finish the request in flight, close the reader, end the thread."""
        self._closed = True
        self._start_timer.stop()
        self._waiting.clear()
        self._executor.submit(self._close_reader)
        self._executor.shutdown(wait=True)
