"""Contour of the objective over a chosen pair of params: the best value per grid cell (Optuna's grid when the
params have few distinct values, 100 × 100 bins otherwise), empty cells filled from their neighbours and shown
as a colour map, with the trials on top."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from optgui.core import analysis
from optgui.qt.plots.base import (
    AnalysisPlot,
    clear_axes,
    color_at,
    image_rect,
    placeholder,
    set_param_axis,
    show_message,
)

DISPLAY_CELLS = 200


def uniform_resample(centres: np.ndarray, cells: int = DISPLAY_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """(uniform display centres, index of the nearest grid centre for each): an image needs uniform pixels,
    Optuna's grid of distinct values is not."""
    if len(centres) <= 1:
        return centres.astype(float), np.zeros(len(centres), dtype=np.int64)
    steps = np.diff(centres)
    if np.allclose(steps, steps[0], rtol=1e-6):
        return centres.astype(float), np.arange(len(centres))
    u = np.linspace(centres[0], centres[-1], cells)
    return u, np.searchsorted((centres[1:] + centres[:-1]) / 2, u)


class ContourPlot(AnalysisPlot):
    title = "Contour"
    key = "contour"

    def build(self) -> None:
        self.x_box = self.add_combo("Parameter on the x axis", self.invalidate)
        self.y_box = self.add_combo("Parameter on the y axis", self.invalidate)
        self.objective_box = self.add_combo("Objective shown by colour", self.invalidate)
        self.plot = self.canvas.addPlot()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(interactive=False, width=14)
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.points = self.add_trial_scatter(self.plot, size=4, z=5)
        self.message = placeholder(self.plot)
        self.grid: analysis.ContourGrid | None = None

    def restyle(self) -> None:
        c = self.colors
        self.points.brushes = pg.mkBrush(c.foreground)
        self.marker.setPen(pg.mkPen(c.best if not c.dark else "#ffffff", width=2))

    def draw(self) -> None:
        table = self.source.table()
        names = analysis.param_names_in(table, analysis.complete_rows(table, None))
        self.set_items(self.x_box, names)
        self.set_items(self.y_box, names, default=1)
        self.set_items(self.objective_box, self.objective_names())
        self.objective_box.setVisible(table.n_objectives > 1)
        if len(names) < 2 or self.x_box.currentText() == self.y_box.currentText():
            self.grid = None
            self.image.clear()
            self.points.set_points([], [], [])
            clear_axes(self.plot, ("bottom", "left"))
            self.bar.setVisible(False)
            show_message(
                self.message,
                self.plot,
                "Choose two different parameters" if len(names) >= 2 else "A contour needs two parameters",
                self.colors.muted,
            )
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        self.bar.setVisible(True)
        objective = max(self.objective_box.currentIndex(), 0)
        self.grid = g = analysis.contour_grid(table, self.x_box.currentText(), self.y_box.currentText(), objective)
        if np.isnan(g.z).all():
            self.image.clear()
            self.points.set_points([], [], [])
            self.set_status("No complete trials with both parameters")
            return
        ux, ix = uniform_resample(g.x_centres)
        uy, iy = uniform_resample(g.y_centres)
        shown = g.filled[np.ix_(iy, ix)]
        lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
        positions = np.linspace(0, 1, 64)
        best_high = table.directions[objective] == "maximize"
        rgba = color_at(self.colors, positions if best_high else positions[::-1])
        self.bar.setColorMap(pg.ColorMap(positions, rgba))
        self.bar.setLevels((lo, hi if hi > lo else lo + 1))
        self.image.setImage(shown, autoLevels=False)
        self.image.setRect(image_rect(ux, uy))
        for name, log, labels, param in (
            ("bottom", g.x_log, g.x_labels, g.x_param),
            ("left", g.y_log, g.y_labels, g.y_param),
        ):
            set_param_axis(self.plot, name, param, log, labels)
        self.points.set_points(g.points_x, g.points_y, g.numbers)
        self.plot.enableAutoRange()
        grid = "Optuna's grid of distinct values" if g.exact else f"{len(g.x_centres)} × {len(g.y_centres)} bins"
        self.set_status(f"{len(g.numbers):,} trials · best value per cell ({grid}), empty cells interpolated")

    def csv_columns(self) -> dict:
        g = self.grid
        if g is None:
            return {"x": [], "y": [], "best_value": [], "interpolated": []}
        yy, xx = np.meshgrid(np.arange(len(g.y_centres)), np.arange(len(g.x_centres)), indexing="ij")

        def coord(centres, labels, log, idx):
            values = centres[idx.ravel()]
            if labels is not None:
                return [labels[int(v)] for v in values]
            return 10.0**values if log else values

        return {
            g.x_param: coord(g.x_centres, g.x_labels, g.x_log, xx),
            g.y_param if g.y_param != g.x_param else g.y_param + " (y)": coord(g.y_centres, g.y_labels, g.y_log, yy),
            "best_value": g.z.ravel(),
            "interpolated": g.filled.ravel(),
        }
