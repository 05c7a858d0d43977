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

    def request(self, storage: str, study: str, running_since: _dt.datetime | None = None) -> bool:
        """Read the study's health; running_since: when this window's run of it last began or resumed running.
        False when a read is in flight already (this one is not made: the next `landed` is that read's)."""
        if self._slot.running:
            return False  # the read in flight lands soon; the next refresh asks again

        thresholds = self.thresholds

        def work(_state: TaskState) -> RunHealth | None:
            with open_reader(storage) as reader:
                # The health needs the study's name and optgui metadata, not its counts: counting the states and
                # best values of every trial cost ~1 s of CPU at 1M trials, beside the study list's own count.
                summary = next((s for s in reader.studies(counts=False) if s.name == study), None)
                if summary is None:
                    return None
                return study_health(reader, summary, thresholds=thresholds, running_since=running_since)

        self._slot.start(work, returned=lambda health: self._landed((storage, study), health))
        return True

    def _landed(self, key: tuple[str, str], health: RunHealth | None) -> None:
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

    def request(self, storage: str) -> None:
        last = self._last
        if last is not None and last[0] == storage and (self._slot.running or time.monotonic() - last[1] < self.every):
            return
        self._last = (storage, time.monotonic())
        thresholds = self.thresholds

        def work(state: TaskState) -> dict[str, RunHealth | None]:
            healths: dict[str, RunHealth | None] = {}
            with open_reader(storage) as reader:
                for summary in reader.studies(counts=False):  # (the health needs no counts: no scan for them)
                    if state.cancelled:
                        break
                    try:
                        healths[summary.name] = study_health(reader, summary, thresholds=thresholds)
                    except Exception:  # noqa: BLE001 - one unreadable study must not hide the others (as inspect)
                        healths[summary.name] = None
            return healths

        self._slot.start(work, returned=lambda healths: self.landed.emit(storage, healths))

    def forget(self) -> None:
        """The storage was closed: a read of it in flight lands nowhere, and reopening it reads at once."""
        self._slot.cancel()
        self._last = None
