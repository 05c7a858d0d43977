"""The table view of the trials: a QTableView that does not repaint for live rows it does not show.

When the row count changes, QTableView schedules a full items layout, and QAbstractItemView's layout ends with a
repaint of the whole viewport: every cell on screen is asked again for 7 roles through Python (tens of ms for a
full window). Live trials arrive at the end of the table while the user usually reads rows further up, so that
repaint redraws exactly what was already on screen. When every row of an insert lands below the last row on
screen, the layout here only updates the scroll bars and header geometry; anything else (resets, sorts, removals,
inserts above or inside the viewport, a viewport not yet filled with rows) keeps Qt's full layout and repaint.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTableView


class TrialsView(QTableView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._inserts_below_only = False  # every change since the last layout was an insert below the viewport
        self._other_change = False

    def setModel(self, model) -> None:
        super().setModel(model)
        model.rowsAboutToBeInserted.connect(self._before_insert)
        for signal in (
            model.modelAboutToBeReset,
            model.layoutAboutToBeChanged,
            model.rowsAboutToBeRemoved,
            model.rowsAboutToBeMoved,
            model.columnsAboutToBeInserted,
            model.columnsAboutToBeRemoved,
        ):
            signal.connect(self._needs_full_layout)

    def _before_insert(self, _parent, first: int, _last: int) -> None:
        last_shown = self.rowAt(self.viewport().height() - 1)  # -1: the rows end above the viewport's bottom
        if last_shown >= 0 and first > last_shown:
            self._inserts_below_only = True
        else:
            self._other_change = True

    def _needs_full_layout(self, *_args) -> None:
        self._other_change = True

    def doItemsLayout(self) -> None:
        if self._inserts_below_only and not self._other_change:
            self._inserts_below_only = False
            self.updateGeometries()  # scroll range and header; the cells on screen did not change
            return
        self._inserts_below_only = self._other_change = False
        super().doItemsLayout()
