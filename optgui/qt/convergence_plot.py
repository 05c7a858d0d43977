"""Convergence plot (trial values by number + best-so-far line, failed trials on a strip below) and, for two
objectives, the Pareto-front view. pyqtgraph with auto downsampling and clip-to-view, so 100k trials stay
smooth; updates hand pyqtgraph views of TrialData's buffers (no per-update copies)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from optgui.core.tables import STATE_NAMES
from optgui.qt import theme
from optgui.qt.trial_data import TrialData

pg.setConfigOptions(antialias=False, useOpenGL=False)

HOVER_PIXELS = 8.0


def _fmt(v: float) -> str:
    return "—" if v is None or np.isnan(v) else f"{v:.6g}"


def _fast(item: pg.PlotDataItem) -> pg.PlotDataItem:
    item.setDownsampling(auto=True, method="subsample")
    item.setClipToView(True)
    return item


def decimate(x: np.ndarray, y: np.ndarray, x0: float, x1: float, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The points to draw for the visible x range [x0, x1] on `columns` pixel columns: all of them when few,
    otherwise the lowest and the highest point of each column (so extremes and the best values stay visible).

    x must be sorted. Cost is O(points in view), a few ms at 100k, and what pyqtgraph draws stays ~2 points per
    pixel column. (pyqtgraph's own auto-downsampling draws every point while the view auto-ranges, which is the
    usual state of a live plot: ~0.3 s per update at 100k symbols.)
    """
    lo = int(np.searchsorted(x, x0, side="left"))
    hi = int(np.searchsorted(x, x1, side="right"))
    lo, hi = max(0, lo - 1), min(len(x), hi + 1)
    xs, ys = x[lo:hi], y[lo:hi]
    if len(xs) <= 4 * columns or x1 <= x0:
        return xs, ys
    bins = ((xs - x0) * (columns / (x1 - x0))).astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], bins[1:] != bins[:-1])))
    with np.errstate(all="ignore"):
        low = np.fmin.reduceat(ys, starts)
        high = np.fmax.reduceat(ys, starts)
    bx = xs[starts]
    return np.repeat(bx, 2), np.column_stack((low, high)).ravel()


class ConvergencePlot(QWidget):
    """Trial values by trial number. Call set_data() once, then refresh() after TrialData.apply()."""

    hovered = Signal(object)  # trial number or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data: TrialData | None = None
        self.metric_names: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.addStretch(1)
        self.objective_box = QComboBox()
        self.objective_box.setToolTip("Objective shown in the convergence plot")
        self.objective_box.currentIndexChanged.connect(self._objective_changed)
        top.addWidget(self.objective_box)
        self.legend = QLabel()
        top.addWidget(self.legend)
        layout.addLayout(top)

        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.setSpacing(0)
        self.main = self.view.addPlot(row=0, col=0)
        self.strip = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 12)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.strip.setMaximumHeight(46)
        self.strip.setXLink(self.main)
        # Same axis widths on both plots, so that the strip's trial numbers line up with the main plot's.
        self.strip.getAxis("left").setStyle(showValues=False)
        self.strip.getAxis("left").setWidth(64)
        self.main.getAxis("left").setWidth(64)
        self.strip.showAxis("right")
        self.strip.getAxis("right").setTicks([[(0, "failed")]])
        self.strip.getAxis("right").setWidth(52)
        self.main.showAxis("right")
        self.main.getAxis("right").setStyle(showValues=False)
        self.main.getAxis("right").setWidth(52)
        self.strip.setYRange(-1, 1, padding=0)
        self.strip.setMouseEnabled(x=True, y=False)
        self.main.hideAxis("bottom")
        self.strip.setLabel("bottom", "trial number")
        self.main.setLabel("left", "objective value")
        # No grid: pyqtgraph draws grid lines for every tick level with alpha blending, which made each repaint
        # ~7x dearer (18 ms vs 2.4 ms) and, at 10 updates per second during a run, stalled the event loop.
        self.best = pg.PlotDataItem(connect="finite", name="best so far")
        self.complete = pg.PlotDataItem(pen=None, symbol="o", symbolSize=5, name="complete")
        self.pruned = pg.PlotDataItem(pen=None, symbol="t", symbolSize=6, name="pruned")
        self.failed = pg.PlotDataItem(pen=None, symbol="x", symbolSize=7, name="failed")
        for item in (self.complete, self.pruned, self.best):
            self.main.addItem(item)
        self.strip.addItem(self.failed)
        self.marker = pg.ScatterPlotItem(size=12, pen=pg.mkPen(width=2), brush=None)
        self.marker.setZValue(20)
        self.main.addItem(self.marker)
        self.tip = pg.TextItem(anchor=(0, 1))
        self.tip.setZValue(30)
        self.main.addItem(self.tip, ignoreBounds=True)
        self.tip.hide()
        self.view.scene().sigMouseMoved.connect(self._mouse_moved)
        self.main.vb.sigXRangeChanged.connect(self._range_changed)
        self._redraw_pending = False
        self.placeholder = pg.TextItem("No trials yet", anchor=(0.5, 0.5))
        self.main.addItem(self.placeholder, ignoreBounds=True)
        layout.addWidget(self.view, 1)
        t = theme.current()
        if t is not None:
            t.changed.connect(self.restyle)
        self.restyle(theme.colors())

    # --- data -----------------------------------------------------------------------------------------------
    def set_data(self, data: TrialData, metric_names: list[str] | None = None) -> None:
        self.data = data
        self.metric_names = list(metric_names or [])
        self.objective_box.blockSignals(True)
        self.objective_box.clear()
        for k, direction in enumerate(data.directions):
            name = self.metric_names[k] if k < len(self.metric_names) else f"objective {k}"
            self.objective_box.addItem(f"{name} ({direction})")
        self.objective_box.setCurrentIndex(data.objective)
        self.objective_box.setVisible(data.n_objectives > 1)
        self.objective_box.blockSignals(False)
        self._set_axis_label()
        self.refresh()
        self.main.enableAutoRange()

    def _set_axis_label(self) -> None:
        k = self.data.objective if self.data else 0
        name = self.metric_names[k] if k < len(self.metric_names) else "objective value"
        self.main.setLabel("left", name)

    def _objective_changed(self, index: int) -> None:
        if self.data is not None and index >= 0:
            self.data.set_objective(index)
            self._set_axis_label()
            self.refresh()
            self.main.enableAutoRange()

    def refresh(self) -> None:
        """Redraw from TrialData: O(points in view), independent of how many trials were added."""
        d = self.data
        if d is None:
            return
        vb = self.main.vb
        if vb.autoRangeEnabled()[0] or self._x_range is None:
            x0, x1 = -0.5, max(d.n - 0.5, 0.5)
        else:
            x0, x1 = self._x_range
        columns = max(100, int(vb.width()) or 800)
        self.complete.setData(*decimate(*d.complete.view(), x0, x1, columns))
        self.pruned.setData(*decimate(*d.pruned.view(), x0, x1, columns))
        self.failed.setData(*decimate(*d.failed.view(), x0, x1, columns))
        self.best.setData(*decimate(self._numbers(d.n), d.best[:d.n], x0, x1, columns))
        has_failed = d.failed.n > 0
        if has_failed != self.strip.isVisible():
            self.strip.setVisible(has_failed)
            # The trial-number axis sits under the failed strip when it is shown, else under the main plot.
            self.main.showAxis("bottom", show=not has_failed)
            self.main.setLabel("bottom", "trial number" if not has_failed else None)
        self.placeholder.setVisible(d.n == 0)
        if d.n == 0:
            self.placeholder.setPos(0.5, 0.5)

    _x_range: tuple[float, float] | None = None
    _arange = np.arange(0, dtype=float)

    def _numbers(self, n: int) -> np.ndarray:
        if len(self._arange) < n:
            self._arange = np.arange(max(n, 2 * len(self._arange)), dtype=float)
        return self._arange[:n]

    def _range_changed(self, _vb, x_range) -> None:
        """Zoom and pan: redraw the visible part at full detail (once per event-loop pass)."""
        self._x_range = (float(x_range[0]), float(x_range[1]))
        if not self._redraw_pending and not self.main.vb.autoRangeEnabled()[0]:
            self._redraw_pending = True
            QTimer.singleShot(0, self._redraw)

    def _redraw(self) -> None:
        self._redraw_pending = False
        self.refresh()

    def set_log_scale(self, on: bool) -> None:
        self.main.setLogMode(y=on)

    # --- look -----------------------------------------------------------------------------------------------
    def restyle(self, c: theme.Colors) -> None:
        self.view.setBackground(c.background)
        for plot in (self.main, self.strip):
            for name in ("left", "bottom", "right"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(c.grid))
                axis.setTextPen(pg.mkPen(c.muted))
        self.best.setPen(pg.mkPen(c.best, width=2))
        self.complete.setSymbolBrush(pg.mkBrush(c.complete))
        self.complete.setSymbolPen(None)
        self.pruned.setSymbolBrush(pg.mkBrush(c.pruned))
        self.pruned.setSymbolPen(None)
        self.failed.setSymbolPen(pg.mkPen(c.fail, width=1.5))
        self.failed.setSymbolBrush(None)
        self.marker.setPen(pg.mkPen(c.foreground, width=2))
        self.tip.setColor(c.foreground)
        self.tip.fill = pg.mkBrush(c.background)
        self.placeholder.setColor(c.muted)
        self.legend.setText(
            f'<span style="color:{c.complete}">●</span> complete &nbsp; '
            f'<span style="color:{c.pruned}">▲</span> pruned &nbsp; '
            f'<span style="color:{c.fail}">✕</span> failed &nbsp; '
            f'<span style="color:{c.best}">━</span> best so far')

    # --- hover ----------------------------------------------------------------------------------------------
    def trial_near(self, scene_pos: QPointF) -> int | None:
        """The plotted trial closest to a scene position, within HOVER_PIXELS."""
        d = self.data
        if d is None or d.n == 0:
            return None
        vb = self.main.vb
        if not self.main.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        px = vb.viewPixelSize()
        dx = HOVER_PIXELS * px[0]
        lo, hi = max(0, int(np.floor(p.x() - dx))), min(d.n, int(np.ceil(p.x() + dx)) + 1)
        if hi <= lo:
            return None
        if hi - lo > 400:  # zoomed far out: only the nearest number
            lo = min(max(0, int(round(p.x()))), d.n - 1)
            hi = lo + 1
        rows = np.arange(lo, hi)
        y = d.values[rows, d.objective]
        if self.main.ctrl.logYCheck.isChecked():
            with np.errstate(all="ignore"):
                y = np.log10(y)
        ok = np.isfinite(y)
        if not ok.any():
            return None
        rows, y = rows[ok], y[ok]
        dist = np.hypot((rows - p.x()) / px[0], (y - p.y()) / px[1])
        i = int(np.argmin(dist))
        return int(rows[i]) if dist[i] <= HOVER_PIXELS else None

    def describe(self, number: int) -> str:
        d = self.data
        state = STATE_NAMES[int(d.state[number])]
        values = ", ".join(_fmt(v) for v in d.values[number])
        return f"Trial {number} · {state}\nvalue {values}\nbest so far {_fmt(d.best[number])}"

    def _mouse_moved(self, pos) -> None:
        number = self.trial_near(pos)
        if number is None:
            self.tip.hide()
            self.marker.setData([], [])
        else:
            y = self.data.values[number, self.data.objective]
            shown_y = np.log10(y) if self.main.ctrl.logYCheck.isChecked() and y > 0 else y
            self.marker.setData([number], [y])
            self.tip.setText(self.describe(number))
            self.tip.setPos(number, shown_y)
            self.tip.show()
        self.hovered.emit(number)


class ParetoPlot(QWidget):
    """Two objectives against each other; the Pareto front highlighted and joined."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data: TrialData | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.points = _fast(pg.PlotDataItem(pen=None, symbol="o", symbolSize=5))
        self.front = pg.PlotDataItem(symbol="o", symbolSize=8)
        self.plot.addItem(self.points)
        self.plot.addItem(self.front)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        layout.addWidget(self.plot)
        t = theme.current()
        if t is not None:
            t.changed.connect(self.restyle)
        self.restyle(theme.colors())

    def set_data(self, data: TrialData, metric_names: list[str] | None = None) -> None:
        self.data = data
        names = list(metric_names or [])
        labels = [names[k] if k < len(names) else f"objective {k}" for k in range(2)]
        self.plot.setLabel("bottom", f"{labels[0]} ({data.directions[0]})")
        self.plot.setLabel("left", f"{labels[1]} ({data.directions[1]})")
        self.refresh()

    def refresh(self) -> None:
        d = self.data
        if d is None or d.n_objectives < 2:
            return
        rows = np.flatnonzero(d.state[:d.n] == 1)
        self.points.setData(d.values[rows, 0], d.values[rows, 1])
        front = d.pareto_rows()
        self.front.setData(d.values[front, 0], d.values[front, 1])

    def restyle(self, c: theme.Colors) -> None:
        self.plot.setBackground(c.background)
        self.points.setSymbolBrush(pg.mkBrush(c.complete))
        self.points.setSymbolPen(None)
        self.front.setPen(pg.mkPen(c.pareto, width=1.5))
        self.front.setSymbolBrush(pg.mkBrush(c.pareto))
        self.front.setSymbolPen(None)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setPen(pg.mkPen(c.grid))
            self.plot.getAxis(name).setTextPen(pg.mkPen(c.muted))
