"""Everything that makes optgui behave as a desktop application rather than a script, in one place so that the
application module only calls two hooks:

    desktop = DesktopIntegration(app)           # right after the QApplication exists
    if desktop.hand_over(storage, study, demo):  # another optgui is running and took the request
        return 0
    ...
    desktop.attach(window)                      # once the main window exists

It sets the window icon, turns macOS FileOpen events and requests from later launches into `open_storage` calls on
the window (buffered until the window exists), and raises the window when a later launch hands over.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QObject, Qt, QTimer

from optgui import APP_ID
from optgui.qt.icons import app_icon
from optgui.qt.window import file_open
from optgui.qt.window.single_instance import FORWARDED, SingleInstance, make_message

# Test-only: write a JSON report to this path once the window has opened what it was asked to open and the
# determinism badge has settled, then quit. The frozen build's smoke test uses it to check the real executable.
SMOKE_REPORT_ENV = "OPTGUI_SMOKE_REPORT"
SMOKE_TIMEOUT_MS = 120_000


class DesktopIntegration(QObject):
    def __init__(self, app, instance_key: str | None = None):
        super().__init__(app)
        self.app = app
        self.window = None
        self.pending: list[dict] = []
        app.setWindowIcon(app_icon())
        _set_windows_app_id()
        self.file_filter = file_open.install(app)
        self.file_filter.file_opened.connect(lambda path: self.request(make_message(path)))
        self.instance = SingleInstance(instance_key, self)
        self.instance.message_received.connect(self._handed_over)
        app.aboutToQuit.connect(self.instance.close)

    def hand_over(self, storage: str | None, study: str | None = None, demo: bool = False) -> bool:
        """True if a running optgui accepted this launch's request (the caller exits); otherwise this process
        becomes the instance later launches hand over to."""
        return self.instance.claim(make_message(storage, study, demo)) == FORWARDED

    def attach(self, window) -> None:
        self.window = window
        report = os.environ.get(SMOKE_REPORT_ENV)
        if report:
            _SmokeReport(window, report, self)
        pending, self.pending = self.pending, []
        for message in pending:
            self._open(message)

    def request(self, message: dict) -> None:
        if self.window is None:
            self.pending.append(message)
        else:
            # Deferred: the request arrives inside a socket or event handler, and opening may show a modal dialog.
            QTimer.singleShot(0, lambda: self._open(message))

    def _handed_over(self, message: dict) -> None:
        self.request(message)
        if self.window is not None:
            QTimer.singleShot(0, self._raise_window)

    def _open(self, message: dict) -> None:
        window = self.window
        if message.get("demo"):
            window.open_demo()
        elif message.get("storage"):
            window.open_storage(message["storage"], message.get("study"))

    def _raise_window(self) -> None:
        window = self.window
        if window.isMinimized():
            window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()


def _set_windows_app_id() -> None:
    """Windows groups task bar buttons and pins by AppUserModelID; without one, every Python app shares
    python.exe's identity and icon."""
    if not sys.platform.startswith("win"):
        return
    try:
        import ctypes

        ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(APP_ID)
    except Exception:  # noqa: BLE001 - cosmetic: never stop the app for it
        pass


class _SmokeReport(QObject):
    def __init__(self, window, path: str, parent):
        super().__init__(parent)
        self.window, self.path = window, path
        self.badge = None
        self.opened: str | None = None
        window.storage_opened.connect(self._opened)
        window.verifier.state.connect(self._badge)
        QTimer.singleShot(SMOKE_TIMEOUT_MS, lambda: self._finish("timeout"))

    def _opened(self, storage: str) -> None:
        self.opened = storage

    def _badge(self, state) -> None:
        self.badge = state
        if self.opened and state.kind in ("verified", "diverged", "unverifiable"):
            QTimer.singleShot(0, lambda: self._finish("done"))

    def _finish(self, how: str) -> None:
        if self.path is None:
            return
        window = self.window
        data = window.study_view.data
        report = {
            "how": how,
            "storage": self.opened,
            "title": window.windowTitle(),
            "studies": [s.name for s in window.study_list.model.rows],
            "trials": data.n if data is not None else None,
            "badge": self.badge.kind if self.badge else None,
            "badge_text": self.badge.text if self.badge else None,
            "window_icon_sizes": [s.width() for s in self.window.windowIcon().availableSizes()],
        }
        with open(self.path, "w", encoding="utf-8") as fh:
            json.dump(report, fh)
        self.path = None
        window.close()
