"""Long writes (copying a large study) on a worker thread, with a progress dialog that can cancel them.

    result = run_with_progress(window, "Save study as", "Copying trials…",
                               lambda progress, cancelled: copy(..., progress=progress, cancelled=cancelled))

The work is a task (optgui.qt.tasks.tasks); the caller waits in a local event loop, so the window keeps repainting and
the dialog's Cancel works while the work runs; the call returns the work's result or raises what it raised (on
the GUI thread, with the worker's traceback). Cancelling sets a flag the work checks between steps: it decides
how to stop cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from optgui.qt.tasks.tasks import TaskError, TaskSlot

SHOW_AFTER_MS = 300  # quick copies finish without a dialog flashing up


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
    outcome: list[tuple[Any, BaseException | None]] = []
    loop = QEventLoop()

    def progressed(step: tuple[int, int]) -> None:
        done, total = step
        if cancel.is_set():
            return
        dialog.setMaximum(max(total, 1))
        dialog.setValue(done)
        dialog.setLabelText(f"{label}\n{done:,} of {total:,} trials")

    def failed(error: TaskError) -> None:
        outcome.append((None, error.exception))

    slot = TaskSlot(dialog, "study copy")
    # The user's Cancel is the work's own flag (it removes what it wrote, then returns or raises): cancelling the
    # task itself would drop that outcome.
    task = slot.start(
        lambda state: work(lambda done, total: state.emit((done, total)), cancel.is_set),
        name=title,
        yielded=progressed,
        returned=lambda result: outcome.append((result, None)),
        errored=failed,
        finished=loop.quit,
    )
    dialog.setValue(0)  # starts the minimum-duration clock (a modal dialog's setValue also processes events)
    if not outcome:
        loop.exec()
    task.wait()
    dialog.canceled.disconnect(cancelled)
    dialog.close()
    dialog.deleteLater()
    result, exc = outcome[0]
    if exc is not None:
        raise exc
    return result
