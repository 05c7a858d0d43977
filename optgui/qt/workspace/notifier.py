"""Desktop notifications: a run in this window completes, fails or stalls, a verification diverges; a watched study
(one of the open workspace) finishes, stalls or is left with orphaned trials.

The notifier decides *what* to say and whether its kind is on (Preferences); a sink shows it. The app's sink is the
system tray (`TraySink`: `QSystemTrayIcon.showMessage` with the app icon; nothing at all where the platform has no
tray); tests pass a sink of their own. Clicking a notification emits `open_requested(storage, study)`.
"""

from __future__ import annotations

import enum
import os
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSystemTrayIcon

from optgui.core.health import HealthState, RunHealth, Workspace
from optgui.qt.settings import Settings


class NotificationKind(enum.StrEnum):
    RUN_COMPLETED = "run_completed"
    RUN_PAUSED_ON_ERROR = "run_paused_on_error"
    RUN_STALLED = "run_stalled"
    VERIFICATION_DIVERGED = "verification_diverged"
    WATCHED_FINISHED = "watched_finished"
    WATCHED_STALLED = "watched_stalled"
    WATCHED_ORPHANED = "watched_orphaned"


#: What Preferences calls each kind.
KIND_LABELS = {
    NotificationKind.RUN_COMPLETED: "A run in this window completes",
    NotificationKind.RUN_PAUSED_ON_ERROR: "A run in this window pauses on an error",
    NotificationKind.RUN_STALLED: "A run in this window stalls",
    NotificationKind.VERIFICATION_DIVERGED: "A verification diverges",
    NotificationKind.WATCHED_FINISHED: "A watched study finishes",
    NotificationKind.WATCHED_STALLED: "A watched study stalls",
    NotificationKind.WATCHED_ORPHANED: "A watched study is left with orphaned trials",
}

#: A watched study entering one of these states raises a notification of that kind.
_WATCHED = {
    HealthState.FINISHED: NotificationKind.WATCHED_FINISHED,
    HealthState.STALLED: NotificationKind.WATCHED_STALLED,
    HealthState.ORPHANED: NotificationKind.WATCHED_ORPHANED,
    HealthState.POSSIBLY_ORPHANED: NotificationKind.WATCHED_ORPHANED,
}


class NotificationSink(Protocol):
    """Shows one notification; calls `clicked(key)` when the user clicks it."""

    def show(self, title: str, message: str, key: tuple[str, str], critical: bool) -> None: ...


class TraySink(QObject):
    """The system tray: one icon (the app's), shown on the first message; clicks open the last message's study."""

    def __init__(self, icon: QIcon, clicked, parent: QObject | None = None):
        super().__init__(parent)
        self._icon = icon
        self._clicked = clicked
        self._tray: QSystemTrayIcon | None = None
        self._last: tuple[str, str] | None = None

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self, title: str, message: str, key: tuple[str, str], critical: bool) -> None:
        if not self.available():
            return
        if self._tray is None:
            self._tray = QSystemTrayIcon(self._icon, self)
            self._tray.messageClicked.connect(self._message_clicked)
            self._tray.show()
        self._last = key
        icon = QSystemTrayIcon.MessageIcon.Critical if critical else QSystemTrayIcon.MessageIcon.Information
        self._tray.showMessage(title, message, icon, 10000)

    def _message_clicked(self) -> None:
        if self._last is not None:
            self._clicked(self._last)


class Notifier(QObject):
    """Decides which notifications to raise and hands them to its sink."""

    open_requested = Signal(str, str)  # storage, study

    def __init__(self, settings: Settings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.sink: NotificationSink | None = None
        self._watched: dict[tuple[str, str], HealthState] = {}
        self._learned = False  # the folder's first read has been seen
        self._badges: dict[tuple[str, str], str] = {}  # the last verdict kind shown per study
        self._runs: dict[tuple[str, str], HealthState] = {}  # the last health of this window's run, per study
        self._ours: set[tuple[str, str]] = set()  # studies this window ran: notified as its runs, not as watched

    def clicked(self, key: tuple[str, str]) -> None:
        self.open_requested.emit(*key)

    def notify(self, kind: NotificationKind, storage: str, study: str, message: str) -> bool:
        """Raise one notification unless its kind is turned off (or there is no sink); True when raised."""
        if self.sink is None or not self.settings.notification_enabled(kind):
            return False
        critical = kind not in (NotificationKind.RUN_COMPLETED, NotificationKind.WATCHED_FINISHED)
        self.sink.show(f"optgui: {study} — {KIND_LABELS[kind].lower()}", message, (storage, study), critical)
        return True

    def verification(self, storage: str, study: str, kind: str, text: str) -> None:
        """A study's badge changed (kind: none, checking, verified, diverged, unverifiable): notify when a
        verification comes out diverged, once (showing the same verdict again, e.g. on switching back, is not news)."""
        key = (storage, study)
        if kind == "checking":
            return
        before, self._badges[key] = self._badges.get(key), kind
        if kind == "diverged" and before is not None and before != "diverged":
            self.notify(NotificationKind.VERIFICATION_DIVERGED, storage, study, text)

    def run_health(self, storage: str, study: str, health: RunHealth) -> None:
        """The health of the run this window's engine runs, read again: notify when it becomes stalled, once per
        stall (still stalled at the next read is not news; stalled again after it recovered is)."""
        key = (storage, study)
        before, self._runs[key] = self._runs.get(key), health.state
        if health.state is HealthState.STALLED and before is not HealthState.STALLED:
            self.notify(NotificationKind.RUN_STALLED, storage, study, health.summary)

    def run_started(self, storage: str, study: str) -> None:
        """A new run of the study: what the last one did is forgotten. From now on the study is this window's: a
        workspace that holds it does not notify of it again (its stall or end is notified as this window's run)."""
        self._runs.pop((storage, study), None)
        self._ours.add(_same_file(storage, study))

    def workspace_read(self, workspace: Workspace) -> None:
        """Notify of each watched study that entered finished, stalled or orphaned since the last read. The first
        read of a folder only learns the states: what was already so when the folder was opened is not news; and a
        study this window ran is not watched (a short run ends without a notification, a long one with its own)."""
        first, self._learned = not self._learned, True
        states: dict[tuple[str, str], HealthState] = {}
        for file in workspace.files:
            for status in file.studies:
                if status.health is None:
                    continue
                key = (str(file.path), status.summary.name)
                states[key] = status.health.state
                kind = _WATCHED.get(status.health.state)
                if self._ours and _same_file(*key) in self._ours:
                    continue  # run in this window: its own notifications say it
                if not first and kind is not None and self._watched.get(key) != status.health.state:
                    self.notify(kind, key[0], key[1], status.health.summary)
        self._watched = states

    def forget_watched(self) -> None:
        """Another folder: its studies' present states are not news either."""
        self._watched, self._learned = {}, False


def _same_file(storage: str, study: str) -> tuple[str, str]:
    """A study's key that names its file the same way however the path was written (a URL stays as it is)."""
    return (storage if "://" in storage else os.path.realpath(storage), study)
