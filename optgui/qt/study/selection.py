"""The trial selection shared by every view of one study: selecting a trial in one view highlights it in the
others, and a view can narrow the trials shown elsewhere to a set (brushing in parallel coordinates).

    selection = TrialSelection()
    selection.trial_selected.connect(view.highlight)      # int trial number, or None for "nothing selected"
    selection.filter_changed.connect(table.show_only)     # read-only int64 array of trial numbers, or None
    selection.select(42)                                  # from a click; re-selecting the same trial is silent
    selection.set_filter(numbers, source="parallel coordinates")

Signals carry `object`, not `int`: Signal(int) overflows past 2**31 and a filter is an array.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal


class TrialSelection(QObject):
    trial_selected = Signal(object)  # int | None
    filter_changed = Signal(object)  # np.ndarray (read-only, sorted, int64) | None

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.selected: int | None = None
        self.filter: np.ndarray | None = None
        self.filter_source: str = ""

    def select(self, number: int | None) -> None:
        number = None if number is None else int(number)
        if number != self.selected:
            self.selected = number
            self.trial_selected.emit(number)

    def set_filter(self, numbers, source: str = "") -> None:
        """Show only these trial numbers (None: no filter). `source` names the view that set it."""
        if numbers is not None:
            numbers = np.unique(np.asarray(numbers, dtype=np.int64))
            numbers.flags.writeable = False
        same = (numbers is None and self.filter is None) or (
            numbers is not None and self.filter is not None and np.array_equal(numbers, self.filter)
        )
        self.filter_source = source if numbers is not None else ""
        if not same:
            self.filter = numbers
            self.filter_changed.emit(numbers)

    def clear(self) -> None:
        """A different study was opened."""
        self.select(None)
        self.set_filter(None)
