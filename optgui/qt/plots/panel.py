"""The analysis tab of the study view: a list of plots on the left, the chosen plot on the right. Views are
created when first shown, read the study through one AnalysisSource, and share the study view's TrialSelection."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QListWidget, QStackedWidget, QWidget

from optgui.core.storage import StudySummary, TrialTable
from optgui.qt.plots.base import AnalysisPlot
from optgui.qt.plots.source import AnalysisSource
from optgui.qt.study.selection import TrialSelection


def view_classes() -> list[type[AnalysisPlot]]:
    # imported on use, not with this module: start-up time
    from optgui.qt.plots.compare import ComparePlot, EdfPlot
    from optgui.qt.plots.contour import ContourPlot
    from optgui.qt.plots.importance import ImportancePlot
    from optgui.qt.plots.learning_curves import LearningCurvesPlot
    from optgui.qt.plots.parallel import ParallelCoordinatesPlot
    from optgui.qt.plots.pareto import ParetoFrontPlot
    from optgui.qt.plots.rank import RankPlot
    from optgui.qt.plots.slice import SlicePlot
    from optgui.qt.plots.timeline import TimelinePlot

    return [
        LearningCurvesPlot,
        ParallelCoordinatesPlot,
        SlicePlot,
        RankPlot,
        ContourPlot,
        ImportancePlot,
        EdfPlot,
        ParetoFrontPlot,
        TimelinePlot,
        ComparePlot,
    ]


class AnalysisPanel(QWidget):
    def __init__(self, selection: TrialSelection, parent=None):
        super().__init__(parent)
        self.selection = selection
        self.source = AnalysisSource(self)
        self.classes = {cls.key: cls for cls in view_classes()}
        self.views: dict[str, AnalysisPlot] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.picker = QListWidget()
        self.picker.setObjectName("plotPicker")
        for cls in self.classes.values():
            self.picker.addItem(cls.title)
        # As wide as its longest title: the study view's splitter would otherwise squeeze the names.
        self.picker.setFixedWidth(self.picker.sizeHintForColumn(0) + 2 * self.picker.frameWidth() + 12)
        self.stack = QStackedWidget()
        layout.addWidget(self.picker)
        layout.addWidget(self.stack, 1)
        self.picker.currentRowChanged.connect(self._picked)
        self.picker.setCurrentRow(0)

    def _picked(self, row: int) -> None:
        if row < 0:
            return
        self.show_view(list(self.classes)[row])

    def view(self, key: str) -> AnalysisPlot:
        """The view with this key, created on first use."""
        if key not in self.views:
            view = self.classes[key](self.source, self.selection)
            self.views[key] = view
            self.stack.addWidget(view)
        return self.views[key]

    def show_view(self, key: str) -> AnalysisPlot:
        view = self.view(key)
        self.stack.setCurrentWidget(view)
        row = list(self.classes).index(key)
        if self.picker.currentRow() != row:
            self.picker.setCurrentRow(row)
        return view

    # --- the study view's hooks ---------------------------------------------------------------------------------
    def open(self, reader, summary: StudySummary) -> None:
        self.selection.clear()
        self.source.open(reader, summary)

    def bind(self, session) -> None:
        """Show another study (a StudySession): the views read its trials from the session."""
        self.selection.clear()
        self.source.bind(session)

    def apply(self, delta_table: TrialTable) -> None:
        """A poll's rows, for a panel opened without a session (tests, tools)."""
        self.source.apply(delta_table)

    def trials_changed(self) -> None:
        """The bound session's trials changed (its store has them already)."""
        self.source.trials_changed()
