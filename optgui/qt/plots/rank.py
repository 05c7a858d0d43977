"""Rank plot: two params of COMPLETE trials, coloured by the rank of the objective (Optuna's plot_rank for one
pair); the best ranks are the brightest and drawn on top."""

from __future__ import annotations

import numpy as np

from optgui.core import analysis
from optgui.qt.plots.base import (
    AnalysisPlot,
    brushes_for,
    clear_axes,
    color_at,
    placeholder,
    quantised,
    set_param_axis,
    show_message,
)


class RankPlot(AnalysisPlot):
    title = "Rank"
    key = "rank"

    def build(self) -> None:
        self.x_box = self.add_combo("Parameter on the x axis", self.invalidate)
        self.y_box = self.add_combo("Parameter on the y axis", self.invalidate)
        self.objective_box = self.add_combo("Objective whose rank colours the points", self.invalidate)
        self.plot = self.canvas.addPlot()
        self.scatter = self.add_trial_scatter(self.plot, size=7, marker_size=15)
        self.message = placeholder(self.plot)
        self.data: analysis.RankData | None = None

    def _coords(self, d: analysis.RankData):
        return (np.log10(d.x) if d.x_log else d.x), (np.log10(d.y) if d.y_log else d.y)

    def draw(self) -> None:
        table = self.source.table()
        names = analysis.param_names_in(table, analysis.complete_rows(table, None))
        self.set_items(self.x_box, names)
        self.set_items(self.y_box, names, default=1)
        self.set_items(self.objective_box, self.objective_names())
        self.objective_box.setVisible(table.n_objectives > 1)
        if len(names) < 1:
            self.data = None
            self.scatter.set_points([], [], [])
            clear_axes(self.plot, ("bottom", "left"))
            show_message(self.message, self.plot, "No complete trials with params yet", self.colors.muted)
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        objective = max(self.objective_box.currentIndex(), 0)
        self.data = d = analysis.rank_data(table, self.x_box.currentText(), self.y_box.currentText(), objective)
        # colour 1 = best: rank 0 is the lowest value, best when minimizing
        best = 1.0 - d.color if table.directions[objective] == "minimize" else d.color
        x, y = self._coords(d)
        for name, log, labels, param in (
            ("bottom", d.x_log, d.x_labels, d.x_param),
            ("left", d.y_log, d.y_labels, d.y_param),
        ):
            set_param_axis(self.plot, name, param, log, labels)
        self.scatter.set_points(
            x, y, d.numbers, priority=best, brushes=brushes_for(color_at(self.colors, quantised(best)))
        )
        self.plot.enableAutoRange()
        self.set_status(
            f"{len(d.numbers):,} trials · colour: rank of {self.objective_box.currentText()} (brightest = best)"
        )

    def csv_columns(self) -> dict:
        d = self.data
        if d is None:
            return {"number": []}
        x = [d.x_labels[int(i)] for i in d.x] if d.x_labels is not None else d.x
        y = [d.y_labels[int(i)] for i in d.y] if d.y_labels is not None else d.y
        cols = {"number": d.numbers, d.x_param: x}
        cols[d.y_param if d.y_param != d.x_param else d.y_param + " (y)"] = y
        cols["value"] = d.z
        cols["rank_fraction"] = d.color
        return cols
