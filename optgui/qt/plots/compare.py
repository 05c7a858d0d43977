"""Studies of the open storage side by side: the empirical distribution function (EDF) of their COMPLETE values
and, in the comparison view, their optimization histories (value and best so far by trial number) overlaid.
The current study is always included; others are ticked in the list on the left."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from optgui.core import analysis
from optgui.qt.plots.base import AnalysisPlot, clear_axes, placeholder, show_message

EDF_DRAW_SAMPLES = 1000  # finer than Optuna's 100 for drawing; the CSV uses the same grid
PALETTE = ("#2f6db5", "#d4560b", "#1a7f37", "#8250df", "#cf222e", "#9a6700", "#0998a8", "#bf3989")
PALETTE_DARK = ("#6cb6ff", "#ffa657", "#56d364", "#bc8cff", "#ff7b72", "#e3b341", "#39c5cf", "#ff80c8")


class ComparePlot(AnalysisPlot):
    title = "Compare studies"
    key = "compare"
    show_history = True

    def build(self) -> None:
        self.objective_box = self.add_combo("Objective compared", self.invalidate)
        self.studies = QListWidget()
        self.studies.setMaximumWidth(200)
        self.studies.setToolTip("Studies of this storage to overlay")
        self.studies.itemChanged.connect(lambda *_: self.invalidate())
        self.layout().removeWidget(self.canvas)
        from PySide6.QtWidgets import QHBoxLayout

        row = QHBoxLayout()
        row.addWidget(self.studies)
        row.addWidget(self.canvas, 1)
        self.layout().addLayout(row, 1)
        self.history = None
        if self.show_history:
            self.history = self.canvas.addPlot(row=0, col=0)
            self.history.setLabel("bottom", "trial number")
            self.history.setLabel("left", "best value so far")
            self.history.addLegend(offset=(-10, 10))
        self.edf_plot = self.canvas.addPlot(row=1 if self.show_history else 0, col=0)
        self.edf_plot.setLabel("left", "cumulative probability")
        self.edf_plot.setYRange(0, 1, padding=0.02)
        self.edf_plot.addLegend(offset=(-10, -10) if self.show_history else (10, 10))
        self.message = placeholder(self.edf_plot)
        self.edf_data: analysis.EdfData | None = None
        self.histories: dict[str, analysis.History] = {}
        self._names: list[str] = []
        self._current: str | None = None  # the study shown when the list was last filled

    def _palette(self):
        return PALETTE_DARK if self.colors.dark else PALETTE

    def _sync_study_list(self) -> None:
        names = self.source.study_names()
        current = self.source.study_name
        # Another study shown: only it is ticked (the one shown before was ticked for being shown, not chosen).
        if current != self._current:
            self._current, self._names = current, []
            self.studies.blockSignals(True)
            self.studies.clear()
            self.studies.blockSignals(False)
        if names == self._names and self.studies.count():
            item = self.studies.item(names.index(current)) if current in names else None
            if item is not None and item.checkState() != Qt.CheckState.Checked:
                item.setCheckState(Qt.CheckState.Checked)
            return
        checked = {
            self.studies.item(i).text()
            for i in range(self.studies.count())
            if self.studies.item(i).checkState() == Qt.CheckState.Checked
        }
        self.studies.blockSignals(True)
        self.studies.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = name == current or name in checked
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.studies.addItem(item)
        self.studies.blockSignals(False)
        self._names = names

    def chosen_studies(self) -> list[str]:
        return [
            self.studies.item(i).text()
            for i in range(self.studies.count())
            if self.studies.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, names: list[str]) -> None:
        self.studies.blockSignals(True)
        for i in range(self.studies.count()):
            item = self.studies.item(i)
            on = item.text() in names or item.text() == self.source.study_name
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.studies.blockSignals(False)
        self.invalidate()

    def draw(self) -> None:
        self._sync_study_list()
        self.set_items(self.objective_box, self.objective_names())
        objective = max(self.objective_box.currentIndex(), 0)
        self.objective_box.setVisible(len(self.objective_names()) > 1)
        values, self.histories = {}, {}
        skipped = []
        for name in self.chosen_studies():
            table = self.source.study_table(name)
            if table is None or table.n_objectives <= objective:
                skipped.append(name)
                continue
            values[name] = analysis.complete_values(table, objective)
            if self.history is not None:
                self.histories[name] = analysis.history(table, objective)
        for plot in (self.history, self.edf_plot):
            if plot is not None:
                plot.clear()
                plot.legend.clear() if plot.legend is not None else None
        self.edf_plot.addItem(self.message, ignoreBounds=True)
        self.edf_data = analysis.edf(values, samples=EDF_DRAW_SAMPLES)
        palette = self._palette()
        if not self.edf_data.names:
            for plot in (self.history, self.edf_plot):
                if plot is not None:
                    clear_axes(plot)
            show_message(self.message, self.edf_plot, "No complete trials\nin the chosen studies", self.colors.muted)
            return
        show_message(self.message, self.edf_plot, "", self.colors.muted)
        for i, (name, y) in enumerate(zip(self.edf_data.names, self.edf_data.y, strict=False)):
            pen = pg.mkPen(palette[i % len(palette)], width=2)
            self.edf_plot.plot(self.edf_data.x, y, pen=pen, name=name, stepMode=None)
            if self.history is not None and name in self.histories:
                h = self.histories[name]
                self.history.plot(h.numbers.astype(float), h.best, pen=pen, name=name)
        self.edf_plot.setLabel("bottom", self.objective_box.currentText() or "objective value")
        self.edf_plot.setYRange(0, 1, padding=0.02)
        note = f" · skipped (fewer objectives): {', '.join(skipped)}" if skipped else ""
        n = len(self.edf_data.names)
        self.set_status(f"{n} {'study' if n == 1 else 'studies'}{note}")

    def csv_columns(self) -> dict:
        d = self.edf_data
        if d is None or not d.names:
            return {"x": []}
        cols = {"x": d.x}
        for name, y in zip(d.names, d.y, strict=False):
            cols[f"edf {name}"] = y
        return cols

    def history_csv_columns(self) -> dict:
        rows = [
            (name, n, v, b)
            for name, h in self.histories.items()
            for n, v, b in zip(h.numbers.tolist(), h.values.tolist(), h.best.tolist(), strict=False)
        ]
        return {
            "study": [r[0] for r in rows],
            "number": [r[1] for r in rows],
            "value": [r[2] for r in rows],
            "best_so_far": [r[3] for r in rows],
        }


class EdfPlot(ComparePlot):
    title = "Empirical distribution"
    key = "edf"
    show_history = False
