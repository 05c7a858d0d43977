"""What the analysis views read: one study's trials with params (an immutable snapshot of the bound session's
TrialStore, made once per change and only when a view asks), its intermediate values, and other studies of the
same storage for comparisons. Results are immutable tables, so workers (importance) can take them as they are.
Without a bound session (tests, benchmarks) a table given with set_table() is read instead.

Live refresh: the study view calls trials_changed() after the session's store took a poll or the engine's events;
`changed` is emitted at the texts' rate (optgui.qt.tasks.throttle.TEXTS: whole views are redrawn), so a running study
does not redraw the visible view more than twice a second.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, Signal

from optgui.core.storage import IntermediateValues, StudySummary, TrialTable
from optgui.qt.tasks.throttle import TEXTS, Throttle


class AnalysisSource(QObject):
    changed = Signal()  # the study's trials changed (or another study was opened)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.reader = None
        self.summary: StudySummary | None = None
        self.session = None  # the StudySession whose trials are shown (bind), or None (open, set_table)
        self._table: TrialTable | None = None
        self._intermediate: tuple[int, IntermediateValues] | None = None
        self._others: dict[str, tuple[int, TrialTable]] = {}
        self.revision = 0  # bumps on every change: views and caches compare it
        self._changed = Throttle(self, TEXTS, self.changed.emit)

    # --- the study ----------------------------------------------------------------------------------------------
    def open(self, reader, summary: StudySummary) -> None:
        self.session = None
        self.reader, self.summary = reader, summary
        self._table = None
        self._intermediate = None
        self._others = {}
        self.revision += 1
        self._changed.now()

    def bind(self, session) -> None:
        """Read the trials of a StudySession (the window's one copy of them), not a table of our own."""
        self.open(session.reader, session.summary)
        self.session = session

    def set_table(self, table: TrialTable) -> None:
        """Use an already read table (tests, benchmarks)."""
        if self.session is not None:
            self.session.set_table(table)
        else:
            self._table = table
        self._intermediate = None
        self.revision += 1
        self._changed()

    @property
    def study_name(self) -> str | None:
        return self.summary.name if self.summary is not None else None

    @property
    def loaded(self) -> bool:
        if self.session is not None:
            return self.session.table_loaded
        return self._table is not None

    def table(self) -> TrialTable | None:
        """Every trial with params and user attributes (read on first use: ~1 s at 100k trials)."""
        if self.session is not None:
            return self.session.table()
        if self._table is None and self.reader is not None and self.summary is not None:
            self._table = self.reader.trials(self.summary.name)
        return self._table

    def apply(self, delta_table: TrialTable) -> None:
        """A poll's new and changed rows, for a source without a session (a bound session's store has them)."""
        if self.session is not None:
            self.trials_changed()
        elif self._table is not None and len(delta_table):
            self._table = self._table.with_rows_replaced(delta_table)
            self.revision += 1
            self._changed()

    def trials_changed(self) -> None:
        """The bound session's store changed (ignored until the views first read the table: that read has it)."""
        if not self.loaded:
            return
        self.revision += 1
        self._changed()

    def intermediate_values(self) -> IntermediateValues | None:
        """Every reported intermediate value, re-read when the trials changed since the last read."""
        if self.reader is None or self.summary is None:
            return self._intermediate[1] if self._intermediate else None
        if self._intermediate is None or self._intermediate[0] != self.revision:
            self._intermediate = (self.revision, self.reader.intermediate_values(self.summary.name))
        return self._intermediate[1]

    def set_intermediate_values(self, values: IntermediateValues) -> None:
        self._intermediate = (self.revision, values)

    # --- other studies of the storage ------------------------------------------------------------------------
    def study_names(self) -> list[str]:
        if self.reader is None:
            return [self.summary.name] if self.summary is not None else []
        return self.reader.study_names()

    def study_table(self, name: str) -> TrialTable | None:
        """Numbers, states and values of any study of the storage (cached for a few seconds: comparisons are
        redrawn with the current study's refresh, and other studies may be running too)."""
        if name == self.study_name:
            return self.table()
        cached = self._others.get(name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < 5.0:
            return cached[1]
        if self.reader is None:
            return cached[1] if cached else None
        table = self.reader.trials(name, params=False, user_attrs=False)
        self._others[name] = (now, table)
        return table

    def add_study_table(self, table: TrialTable) -> None:
        """Make a study available for comparisons without a reader (tests, benchmarks)."""
        self._others[table.study_name] = (float("inf"), table)


def numbers_to_rows(table: TrialTable, numbers: np.ndarray) -> np.ndarray:
    """Row indices of the given trial numbers (absent numbers dropped)."""
    order = np.argsort(table.number, kind="stable")
    pos = np.searchsorted(table.number[order], numbers)
    pos = np.clip(pos, 0, max(len(order) - 1, 0))
    ok = table.number[order][pos] == numbers if len(order) else np.zeros(len(numbers), bool)
    return order[pos[ok]]
