"""Slice plot: one param against the objective for every COMPLETE trial, coloured by trial number (later trials
brighter and drawn on top), thinned per pixel cell for the visible range."""

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


class SlicePlot(AnalysisPlot):
    title = "Slice"
    key = "slice"

    def build(self) -> None:
        self.param_box = self.add_combo("Parameter on the x axis", self.invalidate)
        self.objective_box = self.add_combo("Objective on the y axis", self.invalidate)
        self.plot = self.canvas.addPlot()
        self.scatter = self.add_trial_scatter(self.plot, size=6)
        self.message = placeholder(self.plot)
        self.data: analysis.SliceData | None = None

    def draw(self) -> None:
        table = self.source.table()
        names = analysis.param_names_in(table, analysis.complete_rows(table, None))
        self.set_items(self.param_box, names)
        self.set_items(self.objective_box, self.objective_names())
        self.objective_box.setVisible(table.n_objectives > 1)
        if not names:
            self.data = None
            self.scatter.set_points([], [], [])
            clear_axes(self.plot, ("bottom",))
            show_message(self.message, self.plot, "No complete trials with params yet", self.colors.muted)
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        objective = max(self.objective_box.currentIndex(), 0)
        self.data = d = analysis.slice_data(table, self.param_box.currentText(), objective)
        x = np.log10(d.x) if d.is_log else d.x
        set_param_axis(self.plot, "bottom", d.param, d.is_log, d.labels)
        self.plot.setLabel("left", self.objective_box.currentText() or "objective")
        n = table.number.max() if len(table) else 1
        t = quantised(d.numbers / max(float(n), 1.0))
        self.scatter.set_points(
            x, d.y, d.numbers, priority=d.numbers.astype(float), brushes=brushes_for(color_at(self.colors, t))
        )
        self.plot.enableAutoRange()
        self.set_status(f"{len(d.numbers):,} complete trials · colour: trial number (later = brighter)")

    def csv_columns(self) -> dict:
        d = self.data
        if d is None:
            return {"number": []}
        x = [d.labels[int(i)] for i in d.x] if d.labels is not None else d.x
        return {"number": d.numbers, d.param: x, "value": d.y}
