"""The study header's health line: the core's run health of the shown study (the same as `optgui inspect` and the
workspace list say), read in the background on its own read-only reader each time the study is shown or the list
re-read the storage. A read still running when the next is asked for is let finish first (the slot is serial), so
a slow read of a very large study is never stacked. And the study list's Health column: every study of the open
storage, read the same way (`StudyHealths`)."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from optgui.core.health import HealthThresholds, RunHealth, study_health
from optgui.core.storage import open_reader
from optgui.qt.tasks.tasks import TaskSlot, TaskState


class HealthLine(QObject):
    """`request(storage, study)`; `text_for(storage, study)` is the line to show (empty until it is read).
    `landed(storage, study, health)` after each read (health None when the study is gone)."""

    landed = Signal(str, str, object)

    def __init__(self, changed: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self._changed = changed
        self.thresholds = HealthThresholds()  # (the core's defaults; tests judge sooner)
        self._slot = TaskSlot(self, "study health")
        self._health: dict[tuple[str, str], RunHealth] = {}
        self._last: dict[tuple[str, str], tuple[float, float]] = {}  # (began, took) of each study's last read
        # Whether a larger read of the window's own is under way (a study's params at 1M trials): a request is then
        # held until release(), instead of doubling that read's time and stalling live updates.
        self.hold: Callable[[], bool] = lambda: False
        self._held: tuple[str, str, _dt.datetime | None] | None = None

    def release(self) -> None:
        """The larger read ended: make the request held meanwhile, if any."""
        held, self._held = self._held, None
        if held is not None:
            self.request(*held)

    def request(self, storage: str, study: str, running_since: _dt.datetime | None = None) -> bool:
        """Read the study's health; running_since: when this window's run of it last began or resumed running.
        False when a read is in flight already (this one is not made: the next `landed` is that read's) or held
        (see `hold`)."""
        if self.hold():
            self._held = (storage, study, running_since)
            return False
        if self._slot.running:
            return False  # the read in flight lands soon; the next refresh asks again
        key = (storage, study)
        last = self._last.get(key)
        if last is not None and not reread_due(last[0], last[1], 0.0, time.monotonic()):
            return False  # a large study read moments ago: its health is as fresh as its read can be
        thresholds = self.thresholds
        began = time.monotonic()

        def work(_state: TaskState) -> RunHealth | None:
            with open_reader(storage) as reader:
                # The health needs the study's name and optgui metadata, not its counts: counting the states and
                # best values of every trial cost ~1 s of CPU at 1M trials, beside the study list's own count.
                summary = next((s for s in reader.studies(counts=False) if s.name == study), None)
                if summary is None:
                    return None
                return study_health(reader, summary, thresholds=thresholds, running_since=running_since)

        self._slot.start(work, returned=lambda health: self._landed(key, health, began))
        return True

    def _landed(self, key: tuple[str, str], health: RunHealth | None, began: float) -> None:
        self._last[key] = (began, time.monotonic() - began)
        if health is None:
            self._health.pop(key, None)
        else:
            self._health[key] = health
        self._changed()
        self.landed.emit(*key, health)

    def health_of(self, storage: str, study: str) -> RunHealth | None:
        return self._health.get((storage, study))

    def text_for(self, storage: str, study: str) -> str:
        """The state, short enough for the header at 1000 px (the evidence: `evidence_for`, for its tooltip)."""
        health = self.health_of(storage, study)
        return "" if health is None else str(health.state)

    def evidence_for(self, storage: str, study: str) -> str:
        health = self.health_of(storage, study)
        return "" if health is None else "\n".join([health.summary, *health.evidence[1:]])


#: At most this often the study list's health of every study is read again (a read of each study's trials).
LIST_HEALTH_SECONDS = 10.0
#: A health read of a large study takes a while (~1 s of CPU at 1M trials): it is repeated no sooner than this many
#: times its own last duration, so that watching a large study costs at most ~10% of a core.
REREAD_AFTER_DURATIONS = 10.0


def reread_due(started: float, duration: float, every: float, now: float) -> bool:
    """Whether a periodic read begun at `started` (monotonic) that took `duration` s may be made again.

    >>> reread_due(started=0.0, duration=0.2, every=10.0, now=10.5)
    True
    >>> reread_due(started=0.0, duration=2.0, every=10.0, now=10.5)  # a 2 s read: again after 20 s
    False
    """
    return now - started >= max(every, REREAD_AFTER_DURATIONS * duration)


class StudyHealths(QObject):
    """The health of every study of a storage, for the study list's Health column: the core's `study_health`, as
    `optgui inspect` computes it, read in the background on its own read-only reader, so opening a large file waits
    for none of it. `request(storage)` reads a storage not read yet at once, the same one again at most every
    `every` seconds; `landed(storage, {study: RunHealth | None})` after each read."""

    landed = Signal(str, object)

    def __init__(self, parent: QObject | None = None, every: float = LIST_HEALTH_SECONDS):
        super().__init__(parent)
        self.every = every
        self.thresholds = HealthThresholds()
        self._slot = TaskSlot(self, "study list health")
        self._last: tuple[str, float] | None = None  # the storage of the last read and when it began
        self._last_duration = 0.0  # how long the last read of that storage took
        self.hold: Callable[[], bool] = lambda: False  # as HealthLine.hold
        self._held: tuple[str, str | None] | None = None

    def release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self.request(*held)

    def request(self, storage: str, shown: str | None = None) -> None:
        """shown: the study the window shows, whose health the header reads (`HealthLine`): not read twice (at 1M
        trials each read costs ~2.5 s of CPU); the caller fills its row from the header's."""
        if self.hold():
            self._held = (storage, shown)
            return
        last = self._last
        if last is not None and last[0] == storage:
            if self._slot.running or not reread_due(last[1], self._last_duration, self.every, time.monotonic()):
                return
        else:
            self._last_duration = 0.0
        started = time.monotonic()
        self._last = (storage, started)
        thresholds = self.thresholds

        def landed(healths: dict[str, RunHealth | None]) -> None:
            self._last_duration = time.monotonic() - started
            self.landed.emit(storage, healths)

        def work(state: TaskState) -> dict[str, RunHealth | None]:
            healths: dict[str, RunHealth | None] = {}
            with open_reader(storage) as reader:
                for summary in reader.studies(counts=False):  # (the health needs no counts: no scan for them)
                    if state.cancelled:
                        break
                    if summary.name == shown:
                        continue
                    try:
                        healths[summary.name] = study_health(reader, summary, thresholds=thresholds)
                    except Exception:  # noqa: BLE001 - one unreadable study must not hide the others (as inspect)
                        healths[summary.name] = None
            return healths

        self._slot.start(work, returned=landed)

    def forget(self) -> None:
        """The storage was closed: a read of it in flight lands nowhere, and reopening it reads at once."""
        self._slot.cancel()
        self._last = self._held = None
