"""Intermediate values (learning curves) of COMPLETE, PRUNED and RUNNING trials.

Every curve counts: the median and 10–90 % band per step are computed from all reports. The curves themselves
are drawn from a sample of at most CURVE_BUDGET trials (the best complete ones always included), one line item
per state with a connect mask, since Qt spends ~5 µs per segment and a 100k-trial study may report millions.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from optgui.core import analysis
from optgui.core.storage import COMPLETE, PRUNED, RUNNING, STATE_NAMES
from optgui.qt.plots.base import AnalysisPlot, clear_axes, placeholder, show_message, with_alpha

CURVE_BUDGET = 1500
BEST_CURVES = 150
PICK_PIXELS = 8.0


def step_quantiles(step: np.ndarray, value: np.ndarray, qs=(0.1, 0.5, 0.9)) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct step, the quantiles of the finite values reported at it: (steps, (len(qs), n_steps))."""
    ok = np.isfinite(value)
    step, value = step[ok], value[ok]
    if len(step) == 0:
        return np.zeros(0), np.zeros((len(qs), 0))
    order = np.lexsort((value, step))
    step, value = step[order], value[order]
    starts = np.flatnonzero(np.concatenate(([True], step[1:] != step[:-1])))
    counts = np.diff(np.concatenate((starts, [len(step)])))
    out = np.empty((len(qs), len(starts)))
    for i, q in enumerate(qs):  # linear interpolation between order statistics, as np.quantile
        pos = starts + q * (counts - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, starts + counts - 1)
        frac = pos - lo
        out[i] = value[lo] * (1 - frac) + value[hi] * frac
    return step[starts].astype(float), out


def sample_curves(
    curves: analysis.LearningCurves,
    table,
    objective_sign: float,
    budget: int = CURVE_BUDGET,
    best: int = BEST_CURVES,
    seed: int = 0,
) -> np.ndarray:
    """Trial numbers whose curves are drawn: all when few; else the `best` complete trials by final value plus a
    seeded random sample of the others."""
    numbers = curves.trial_numbers()
    if len(numbers) <= budget:
        return numbers
    rows = analysis.complete_rows(table, 0)
    have = np.isin(table.number[rows], numbers)
    rows = rows[have]
    order = np.argsort(objective_sign * table.values[rows, 0], kind="stable")
    keep = set(table.number[rows[order[:best]]].tolist())
    rest = np.setdiff1d(numbers, np.fromiter(keep, dtype=np.int64, count=len(keep)))
    rng = np.random.default_rng(seed)
    keep.update(rng.choice(rest, size=budget - len(keep), replace=False).tolist())
    return np.sort(np.fromiter(keep, dtype=np.int64, count=len(keep)))


class LearningCurvesPlot(AnalysisPlot):
    title = "Intermediate values"
    key = "intermediate-values"

    def build(self) -> None:
        self.plot = self.canvas.addPlot()
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "intermediate value")
        self.band = None
        self.band_lo = pg.PlotCurveItem()
        self.band_hi = pg.PlotCurveItem()
        self.band = pg.FillBetweenItem(self.band_lo, self.band_hi)
        self.band.setZValue(-5)
        self.plot.addItem(self.band)
        self.lines = {state: pg.PlotCurveItem(skipFiniteCheck=True) for state in (COMPLETE, PRUNED, RUNNING)}
        for z, item in enumerate(self.lines.values()):
            item.setZValue(z)
            self.plot.addItem(item)
        self.median = pg.PlotCurveItem()
        self.median.setZValue(10)
        self.plot.addItem(self.median)
        self.selected_line = pg.PlotCurveItem()
        self.selected_line.setZValue(20)
        self.plot.addItem(self.selected_line)
        self.message = placeholder(self.plot)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.curves: analysis.LearningCurves | None = None
        self.drawn_numbers = np.zeros(0, dtype=np.int64)

    def restyle(self) -> None:
        c = self.colors
        alpha = 90
        self.lines[COMPLETE].setPen(pg.mkPen(with_alpha(c.complete, alpha)))
        self.lines[PRUNED].setPen(pg.mkPen(with_alpha(c.pruned, alpha)))
        self.lines[RUNNING].setPen(pg.mkPen(with_alpha(c.running, 160)))
        self.median.setPen(pg.mkPen(c.foreground, width=2))
        self.band.setBrush(pg.mkBrush(with_alpha(c.foreground, 40)))
        self.band_lo.setPen(pg.mkPen(None))
        self.band_hi.setPen(pg.mkPen(None))
        self.selected_line.setPen(pg.mkPen(c.best, width=3))

    def draw(self) -> None:
        table = self.source.table()
        iv = self.source.intermediate_values()
        self.curves = curves = analysis.learning_curves(table, iv) if iv is not None else None
        if curves is None or len(curves) == 0:
            for item in self.lines.values():
                item.setData([], [])
            self.median.setData([], [])
            self.band_lo.setData([], [])
            self.band_hi.setData([], [])
            clear_axes(self.plot)
            show_message(
                self.message,
                self.plot,
                "No intermediate values:\nthe objective reports none (trial.report)",
                self.colors.muted,
            )
            self.set_status("")
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        sign = -1.0 if table.directions[0] == "maximize" else 1.0
        self.drawn_numbers = sample_curves(curves, table, sign)
        drawn = np.isin(curves.number, self.drawn_numbers)
        for state, item in self.lines.items():
            sel = np.flatnonzero(drawn & (curves.state == state))
            item.setData(curves.step[sel].astype(float), curves.value[sel], connect=curves.connect[sel])
        steps, q = step_quantiles(curves.step, curves.value)
        self.median.setData(steps, q[1])
        self.band_lo.setData(steps, q[0])
        self.band_hi.setData(steps, q[2])
        n_curves = len(curves.trial_numbers())
        n_pruned = len(np.unique(curves.number[curves.state == PRUNED]))
        drawn_text = (
            ""
            if len(self.drawn_numbers) == n_curves
            else f" · {len(self.drawn_numbers):,} drawn (best {BEST_CURVES} + sample)"
        )
        self.set_status(f"{n_curves:,} curves, {n_pruned:,} pruned{drawn_text} · line: median, band: 10–90 %")

    def highlight(self, number) -> None:
        if number is None or self.curves is None:
            self.selected_line.setData([], [])
            return
        x, y = self.curves.curve(int(number))
        self.selected_line.setData(x.astype(float), y)

    def trial_near(self, scene_pos: QPointF) -> int | None:
        """The drawn curve point nearest to a scene position (within PICK_PIXELS)."""
        if self.curves is None or len(self.curves) == 0:
            return None
        vb = self.plot.vb
        p = vb.mapSceneToView(scene_pos)
        px, py = vb.viewPixelSize()
        c = self.curves
        sel = np.isin(c.number, self.drawn_numbers)
        d = np.hypot((c.step[sel] - p.x()) / px, (c.value[sel] - p.y()) / py)
        if len(d) == 0 or not np.isfinite(d).any():
            return None
        i = int(np.nanargmin(d))
        return int(c.number[sel][i]) if d[i] <= PICK_PIXELS else None

    def _clicked(self, event) -> None:
        if self.plot.sceneBoundingRect().contains(event.scenePos()):
            number = self.trial_near(event.scenePos())
            if number is not None:
                self.selection.select(number)

    def csv_columns(self) -> dict:
        c = self.curves
        if c is None:
            return {"number": [], "state": [], "step": [], "value": []}

        return {
            "number": c.number,
            "state": [STATE_NAMES[s] for s in c.state.tolist()],
            "step": c.step,
            "value": c.value,
        }
