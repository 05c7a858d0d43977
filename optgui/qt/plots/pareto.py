"""Pareto front of COMPLETE trials (2 objectives: one scatter; 3 objectives: the three pairwise projections, a
front trial highlighted in all of them) and the hypervolume history below, against a reference point that
defaults to just beyond the worst values and can be edited."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLineEdit

from optgui.core import analysis
from optgui.qt.plots.base import AnalysisPlot, ThinnedScatter, placeholder, show_message, with_alpha


class ParetoFrontPlot(AnalysisPlot):
    title = "Pareto front"
    key = "pareto-front"

    def build(self) -> None:
        self.reference_edit = QLineEdit()
        self.reference_edit.setPlaceholderText("reference point, e.g. 1.0, 2.5")
        self.reference_edit.setToolTip(
            "Reference point of the hypervolume, one value per objective (empty: just beyond the worst values)"
        )
        self.reference_edit.setMinimumWidth(220)
        self.reference_edit.editingFinished.connect(self.invalidate)
        self.controls.addWidget(self.reference_edit)
        self.pair_plots: list[pg.PlotItem] = []
        self.scatters: list[ThinnedScatter] = []
        self.fronts: list[pg.ScatterPlotItem] = []
        self.front_lines: list[pg.PlotCurveItem] = []
        self.markers: list[pg.ScatterPlotItem] = []
        self.hv_plot = None
        self.message_plot = None
        self.data: analysis.ParetoData | None = None
        self.hv: tuple[np.ndarray, np.ndarray] | None = None
        self.reference: np.ndarray | None = None
        self._layout_for = None

    def _build_plots(self, k: int) -> None:
        if self._layout_for == k:
            return
        self.canvas.ci.clear()
        self.pair_plots, self.scatters, self.fronts, self.front_lines, self.markers = [], [], [], [], []
        pairs = [(0, 1)] if k == 2 else list(itertools.combinations(range(min(k, 3)), 2))
        self.pairs = pairs
        for col, _pair in enumerate(pairs):
            plot = self.canvas.addPlot(row=0, col=col)
            scatter = ThinnedScatter(plot, size=5)
            scatter.callbacks.append(self.selection.select)
            front = pg.ScatterPlotItem(size=8, pen=None)
            front.setZValue(10)
            front.sigClicked.connect(lambda _i, pts, *_: len(pts) and self.selection.select(int(pts[0].data())))
            line = pg.PlotCurveItem()
            line.setZValue(9)
            marker = pg.ScatterPlotItem(size=15, brush=None)
            marker.setZValue(30)
            for item in (front, line, marker):
                plot.addItem(item)
            self.pair_plots.append(plot)
            self.scatters.append(scatter)
            self.fronts.append(front)
            self.front_lines.append(line)
            self.markers.append(marker)
        self.hv_plot = self.canvas.addPlot(row=1, col=0, colspan=len(pairs))
        self.hv_plot.setLabel("bottom", "trial number")
        self.hv_plot.setLabel("left", "hypervolume")
        self.hv_curve = self.hv_plot.plot([], [])
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self.message = placeholder(self.pair_plots[0])
        self._layout_for = k
        self._restyle(self.colors, redraw=False)

    def restyle(self) -> None:
        c = self.colors
        for scatter in self.scatters:
            scatter.brushes = pg.mkBrush(with_alpha(c.complete, 150))
        for front, line, marker in zip(self.fronts, self.front_lines, self.markers, strict=False):
            front.setBrush(pg.mkBrush(c.pareto))
            line.setPen(pg.mkPen(c.pareto, width=1.5))
            marker.setPen(pg.mkPen(c.foreground, width=2))
        if self.hv_plot is not None:
            self.hv_curve.setPen(pg.mkPen(c.pareto, width=2))

    def objective_labels(self) -> list[str]:
        return [n.rsplit(" (", 1)[0] for n in self.objective_names()]

    def draw(self) -> None:
        table = self.source.table()
        k = table.n_objectives
        if k < 2:
            self._build_plots(2)
            for s in self.scatters:
                s.set_points([], [], [])
            show_message(
                self.message,
                self.pair_plots[0],
                "The Pareto front needs a study with two or more objectives",
                self.colors.muted,
            )
            self.data, self.hv = None, None
            self.set_status("")
            return
        self._build_plots(k)
        show_message(self.message, self.pair_plots[0], "", self.colors.muted)
        self.data = d = analysis.pareto_front(table)
        self.reference = self._reference(table)
        labels = self.objective_labels()
        front_rows = np.flatnonzero(d.on_front)
        for (a, b), plot, scatter, front, line in zip(
            self.pairs, self.pair_plots, self.scatters, self.fronts, self.front_lines, strict=False
        ):
            others = np.flatnonzero(~d.on_front)
            scatter.set_points(d.values[others, a], d.values[others, b], d.numbers[others])
            front.setData(d.values[front_rows, a], d.values[front_rows, b], data=d.numbers[front_rows])
            if k == 2:
                order = np.argsort(d.values[front_rows, a], kind="stable")
                line.setData(d.values[front_rows[order], a], d.values[front_rows[order], b])
            else:
                line.setData([], [])
            plot.setLabel("bottom", f"{labels[a]} ({table.directions[a]})")
            plot.setLabel("left", f"{labels[b]} ({table.directions[b]})")
            plot.enableAutoRange()
        self.hv = analysis.hypervolume_history(table, self.reference)
        self.hv_curve.setData(self.hv[0].astype(float), self.hv[1], stepMode=None)
        ref_text = ", ".join(f"{v:.4g}" for v in self.reference)
        extra = "" if k <= 3 else f" · showing objectives 0–2 of {k}"
        self.set_status(
            f"{int(d.on_front.sum()):,} of {len(d.numbers):,} trials on the front · "
            f"hypervolume {self.hv[1][-1] if len(self.hv[1]) else 0:.6g} (reference {ref_text}){extra}"
        )

    def _reference(self, table) -> np.ndarray:
        text = self.reference_edit.text().strip()
        if text:
            try:
                values = np.array([float(v) for v in text.replace(";", ",").split(",")])
                if len(values) == table.n_objectives:
                    return values
            except ValueError:
                pass
            self.reference_edit.setStyleSheet("color: " + self.colors.bad)
        else:
            self.reference_edit.setStyleSheet("")
        return analysis.default_reference_point(table)

    def highlight(self, number) -> None:
        d = self.data
        where = np.flatnonzero(d.numbers == number) if d is not None and number is not None else []
        for (a, b), marker in zip(getattr(self, "pairs", []), self.markers, strict=False):
            if len(where):
                marker.setData([d.values[where[0], a]], [d.values[where[0], b]])
            else:
                marker.setData([], [])

    def csv_columns(self) -> dict:
        d = self.data
        if d is None:
            return {"number": []}
        cols = {"number": d.numbers}
        for k, label in enumerate(self.objective_labels()):
            cols[label] = d.values[:, k]
        cols["on_front"] = d.on_front
        if self.hv is not None:
            hv = dict(zip(self.hv[0].tolist(), self.hv[1].tolist(), strict=False))
            cols["hypervolume_after"] = [hv.get(n) for n in d.numbers.tolist()]
        return cols
