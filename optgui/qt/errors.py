"""Unexpected exceptions become a dialog with the details, never the end of the application.

Python calls sys.excepthook in the thread that raised (a slot on the GUI thread, the run worker, a threading
hook), so the hook only formats the error and hands it to a QObject living on the GUI thread through a queued
signal; the dialog is shown there.
"""

from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QObject, Qt, Signal, Slot

from optgui.core.errors import OptguiError
from optgui.qt import dialogs


class ErrorReporter(QObject):
    report = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.history: list[tuple[str, str]] = []
        self._showing = False

    def handle(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        text = str(exc) if isinstance(exc, OptguiError) else f"{exc_type.__name__}: {exc}"
        sys.stderr.write(details)
        self.report.emit(text, details)

    @Slot(str, str)
    def _show(self, text: str, details: str) -> None:
        self.history.append((text, details))
        if self._showing:  # one dialog at a time; the rest are on stderr and in history
            return
        self._showing = True
        try:
            dialogs.error(
                None,
                "optgui: unexpected error",
                f"{text}\n\nThe application keeps running; the details below help to report it.",
                details,
            )
        finally:
            self._showing = False


_reporter: ErrorReporter | None = None


def install(parent=None) -> ErrorReporter:
    global _reporter
    _reporter = ErrorReporter(parent)
    sys.excepthook = _reporter.handle
    threading.excepthook = lambda args: _reporter.handle(args.exc_type, args.exc_value, args.exc_traceback)
    return _reporter


def reporter() -> ErrorReporter | None:
    return _reporter


def in_window_words(message: str) -> str:
    """A core message written for the command line, said as the window says it: the Python field instead of the
    --python option ("--python /x/python: no such interpreter" -> "Python /x/python: no such interpreter").

    >>> in_window_words("--python /opt/py: no such interpreter")
    'Python /opt/py: no such interpreter'
    >>> in_window_words("--python runs a file or module objective; builtin:quadratic is a built-in")
    'Another Python runs a file or module objective; builtin:quadratic is a built-in'
    """
    message = message.replace("(leave out --python)", "(choose optgui's own Python)")
    if message.startswith("--python runs "):
        return "Another Python runs " + message[len("--python runs ") :]
    if message.startswith("--python "):
        return "Python " + message[len("--python ") :]
    return message
