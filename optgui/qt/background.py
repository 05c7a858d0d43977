"""Long writes (copying a large study) on a worker thread, with a progress dialog that can cancel them.

    result = run_with_progress(window, "Save study as", "Copying trials…",
                               lambda progress, cancelled: copy(..., progress=progress, cancelled=cancelled))

The caller waits in a local event loop, so the window keeps repainting and the dialog's Cancel works while the
work runs; the call returns the work's result or raises what it raised (on the GUI thread, with the worker's
traceback). Cancelling sets a flag the work checks between steps: it decides how to stop cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

SHOW_AFTER_MS = 300  # quick copies finish without a dialog flashing up


class _Worker(QObject):
    progressed = Signal(int, int)
    done = Signal(object, object)  # (result, exception or None)

    def __init__(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], Any], cancel: threading.Event):
        super().__init__()  # parentless: it is moved to the worker thread
        self.work = work
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            result = self.work(self.progressed.emit, self.cancel.is_set)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the GUI thread by run_with_progress
            self.done.emit(None, exc)
        else:
            self.done.emit(result, None)


class _Receiver(QObject):
    """Lives on the GUI thread: shows the worker's progress and keeps its outcome."""

    finished = Signal()

    def __init__(self, dialog: QProgressDialog, label: str, cancel: threading.Event):
        super().__init__()
        self.dialog, self.label, self.cancel = dialog, label, cancel
        self.outcome: tuple | None = None

    @Slot(int, int)
    def progressed(self, done: int, total: int) -> None:
        if self.cancel.is_set():
            return
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(done)
        self.dialog.setLabelText(f"{self.label}\n{done:,} of {total:,} trials")

    @Slot(object, object)
    def done(self, result, exc) -> None:
        self.outcome = (result, exc)
        self.finished.emit()


def run_with_progress(
    parent: QWidget, title: str, label: str, work: Callable[[Callable[[int, int], None], Callable[[], bool]], Any]
) -> Any:
    """Run work(progress, cancelled) off the GUI thread while a modal progress dialog is shown."""
    cancel = threading.Event()
    dialog = QProgressDialog(label, "Cancel", 0, 0, parent)
    dialog.setObjectName("backgroundProgress")
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)
    dialog.setMinimumWidth(380)

    def cancelled() -> None:
        cancel.set()
        dialog.setLabelText("Cancelling… (removing what was written)")
        dialog.show()  # canceling hides the dialog; keep it up until the work has cleaned up

    dialog.canceled.connect(cancelled)
    thread = QThread()
    thread.setObjectName(f"background: {title}")
    worker = _Worker(work, cancel)
    worker.moveToThread(thread)
    receiver = _Receiver(dialog, label, cancel)
    loop = QEventLoop()
    receiver.finished.connect(loop.quit)

    # Slots of a GUI-thread QObject: queued from the worker (a plain function would run on the worker's thread).
    worker.progressed.connect(receiver.progressed)
    worker.done.connect(receiver.done)
    thread.started.connect(worker.run)
    thread.start()
    dialog.setValue(0)  # starts the minimum-duration clock (a modal dialog's setValue also processes events)
    if receiver.outcome is None:
        loop.exec()
    thread.quit()
    thread.wait()
    dialog.canceled.disconnect(cancelled)
    dialog.close()
    dialog.deleteLater()
    result, exc = receiver.outcome
    if exc is not None:
        raise exc
    return result
