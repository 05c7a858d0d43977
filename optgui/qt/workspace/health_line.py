"""The study header's health line: the core's run health of the shown study (the same as `optgui inspect` and the
workspace list say), read in the background on its own read-only reader each time the study is shown or the list
re-read the storage. A read still running when the next is asked for is let finish first (the slot is serial), so
a slow read of a very large study is never stacked."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from optgui.core.health import RunHealth, study_health
from optgui.core.storage import open_reader
from optgui.qt.tasks.tasks import TaskSlot, TaskState


class HealthLine(QObject):
    """`request(storage, study)`; `text_for(storage, study)` is the line to show (empty until it is read)."""

    def __init__(self, changed: Callable[[], object], parent: QObject | None = None):
        super().__init__(parent)
        self._changed = changed
        self._slot = TaskSlot(self, "study health")
        self._health: dict[tuple[str, str], RunHealth] = {}

    def request(self, storage: str, study: str) -> None:
        if self._slot.running:
            return  # the read in flight lands soon; the next refresh asks again

        def work(_state: TaskState) -> RunHealth | None:
            with open_reader(storage) as reader:
                # The health needs the study's name and optgui metadata, not its counts: counting the states and
                # best values of every trial cost ~1 s of CPU at 1M trials, beside the study list's own count.
                summary = next((s for s in reader.studies(counts=False) if s.name == study), None)
                return None if summary is None else study_health(reader, summary)

        self._slot.start(work, returned=lambda health: self._landed((storage, study), health))

    def _landed(self, key: tuple[str, str], health: RunHealth | None) -> None:
        if health is None:
            self._health.pop(key, None)
        else:
            self._health[key] = health
        self._changed()

    def health_of(self, storage: str, study: str) -> RunHealth | None:
        return self._health.get((storage, study))

    def text_for(self, storage: str, study: str) -> str:
        """The state, short enough for the header at 1000 px (the evidence: `evidence_for`, for its tooltip)."""
        health = self.health_of(storage, study)
        return "" if health is None else str(health.state)

    def evidence_for(self, storage: str, study: str) -> str:
        health = self.health_of(storage, study)
        return "" if health is None else "\n".join([health.summary, *health.evidence[1:]])
