"""Convergence plot (trial values by number + best-so-far line, failed trials on a strip below) and, for two
objectives, the Pareto-front view. pyqtgraph with auto downsampling and clip-to-view, so 100k trials stay
smooth; updates hand pyqtgraph views of TrialData's buffers (no per-update copies)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
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
        self.title = QLabel("Convergence")
        self.title.setObjectName("sectionTitle")
        top.addWidget(self.title)
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
        self.strip.hideAxis("left")
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
        self.main.showGrid(x=True, y=True, alpha=0.25)
        self.best = _fast(pg.PlotDataItem(connect="finite", name="best so far"))
        self.complete = _fast(pg.PlotDataItem(pen=None, symbol="o", symbolSize=5, name="complete"))
        self.pruned = _fast(pg.PlotDataItem(pen=None, symbol="t", symbolSize=6, name="pruned"))
        self.failed = _fast(pg.PlotDataItem(pen=None, symbol="x", symbolSize=7, name="failed"))
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
        d = self.data
        if d is None:
            return
        self.complete.setData(*d.complete.view())
        self.pruned.setData(*d.pruned.view())
        self.failed.setData(*d.failed.view())
        self.best.setData(np.arange(d.n, dtype=float), d.best[:d.n])
        self.strip.setVisible(d.failed.n > 0)
        self.main.getAxis("bottom").setVisible(False)

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
