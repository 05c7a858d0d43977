"""Convergence plot (trial values by number + best-so-far line, failed trials on a strip below) and, for two
objectives, the Pareto-front view.

Live updates are O(new trials): each category's scatter draws a prefix of TrialStore's point buffer and new points
are appended to it (PointsItem.addPoints), thinned per pixel column. Everything is redrawn (decimated from
all points) only when the picture really changes: a zoom or pan, the log scale, another objective, reloaded data,
or when appended points exceed a per-column budget. While following a run the x range grows in steps with
headroom, so the axes are not re-laid out on every update; the best-so-far line is a staircase through its change
points, thinned to the pixel columns it is drawn on."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from optgui.core.engine import TrialStore
from optgui.core.storage import STATE_NAMES
from optgui.qt import theme
from optgui.qt.flow_layout import FlowLayout
from optgui.qt.plots.fast_axis import FastAxisItem
from optgui.qt.plots.line_item import LineItem
from optgui.qt.plots.points_item import PointsItem
from optgui.qt.plots.stopping_label import StoppingEvidenceLabel

pg.setConfigOptions(antialias=False, useOpenGL=False)

HOVER_PIXELS = 8.0
# Points appended since the last full draw, per pixel column, before the plot thins them again with a full draw.
APPENDED_PER_COLUMN = 6
SETTLE_AFTER_RUN_MS = 150


def _fmt(v: float) -> str:
    return "—" if v is None or np.isnan(v) else f"{v:.6g}"


def _fast(item: pg.PlotDataItem) -> pg.PlotDataItem:
    item.setDownsampling(auto=True, method="subsample")
    item.setClipToView(True)
    return item


def _fast_axes() -> dict[str, FastAxisItem]:
    return {side: FastAxisItem(side) for side in ("left", "bottom", "right", "top")}


def _in_view(x: np.ndarray, y: np.ndarray, x0: float, x1: float) -> tuple[np.ndarray, np.ndarray]:
    """The points of sorted x within [x0, x1], and one more on each side (so lines reach the edges)."""
    lo = int(np.searchsorted(x, x0, side="left"))
    hi = int(np.searchsorted(x, x1, side="right"))
    lo, hi = max(0, lo - 1), min(len(x), hi + 1)
    return x[lo:hi], y[lo:hi]


def decimate(x: np.ndarray, y: np.ndarray, x0: float, x1: float, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The points to draw for the visible x range [x0, x1] on `columns` pixel columns: all of them when few,
    otherwise the lowest and the highest point of each column (so extremes and the best values stay visible).

    x must be sorted. Cost is O(points in view), a few ms at 100k, and what pyqtgraph draws stays ~2 points per
    pixel column. (pyqtgraph's own auto-downsampling draws every point while the view auto-ranges, which is the
    usual state of a live plot: ~0.3 s per update at 100k symbols.)
    """
    xs, ys = _in_view(x, y, x0, x1)
    if len(xs) <= 4 * columns or x1 <= x0:
        return xs, ys
    bins = ((xs - x0) * (columns / (x1 - x0))).astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], bins[1:] != bins[:-1])))
    with np.errstate(all="ignore"):
        low = np.fmin.reduceat(ys, starts)
        high = np.fmax.reduceat(ys, starts)
    bx = xs[starts]
    return np.repeat(bx, 2), np.column_stack((low, high)).ravel()


def staircase(best: np.ndarray, steps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The best-so-far line as a staircase through the points where it changes (a handful, however many trials):
    level to the next improvement, then a step. `steps`: those points when known (TrialStore.best_steps keeps them,
    so a live update does not scan every trial)."""
    n = len(best)
    if steps is not None:
        xs = steps
    else:
        finite = np.isfinite(best)
        if not finite.any():
            return np.empty(0), np.empty(0)
        first = int(np.argmax(finite))
        rest = best[first:]
        xs = np.concatenate(([first], np.flatnonzero(rest[1:] != rest[:-1]) + 1 + first))
    if len(xs) == 0:
        return np.empty(0), np.empty(0)
    ys = best[xs]
    x = np.empty(2 * len(xs))
    y = np.empty(2 * len(xs))
    x[0::2], y[0::2] = xs, ys
    x[1::2], y[1::2] = np.append(xs[1:], n - 1), ys
    return x, y


def thin_line(x: np.ndarray, y: np.ndarray, x0: float, x1: float, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The points of a line through sorted x that draw it on `columns` pixel columns of [x0, x1]: all of them when
    few, otherwise the first and the last point of each column (and every non-finite point, which breaks the line).

    For a monotone line such as the best-so-far staircase, the segment between a column's first and last point
    covers what the points in between draw, and consecutive kept points are consecutive in the line, so the picture
    is the same at pixel resolution. A wide pen makes Qt stroke every segment: a staircase of 7,000 points (a study
    of 1M trials whose best improves often) cost ~20 ms per repaint, the thinned one stays under ~2 columns' worth.
    """
    xs, ys = _in_view(x, y, x0, x1)
    if len(xs) <= 4 * columns or x1 <= x0:
        return xs, ys
    bins = np.floor((xs - x0) * (columns / (x1 - x0))).astype(np.int64)
    changes = np.flatnonzero(bins[1:] != bins[:-1])
    keep = np.zeros(len(xs), dtype=bool)
    keep[[0, -1]] = True
    keep[changes] = True  # the last point of a column
    keep[changes + 1] = True  # the first point of the next
    keep |= ~np.isfinite(ys)
    return xs[keep], ys[keep]


def following_x_range(n: int, live: bool) -> tuple[float, float]:
    """The x range that follows the data: up to the last trial, or during a run up to the next number of the series
    1, 1.5, 2, 3, 5, 7.5, 10, 15, ... beyond n + 10%, so that the range (and the trial-number axis, whose relayout
    is the dearest part of a repaint) changes a few times per decade of trials, not every few trials. A little room
    on the left keeps trial 0 off the axis line."""
    if live:
        target = n * 1.1 + 10
        decade = 10 ** math.floor(math.log10(target))
        right = next(decade * m for m in (1, 1.5, 2, 3, 5, 7.5, 10) if decade * m >= target) - 0.5
    else:
        right = n - 0.5 if n >= 2 else 9.5  # an empty study shows trials 0-9, not a range of one trial
    return -0.5 - 0.02 * (right + 0.5), right


def following_y_range(lo: float, hi: float, current: tuple[float, float] | None, live: bool) -> tuple[float, float]:
    """The y range that follows values in [lo, hi]: a snug fit, or during a run a range with headroom that is kept
    while it holds every value and is not far too wide. (A y range that changed on every update re-laid out the
    value axis, and pyqtgraph's auto range re-measured every item, on each repaint: ~half of a live update's cost.)"""
    span = hi - lo
    if not span > 0:
        span = abs(hi) * 0.1 if hi else 1.0
    if live:
        if current is not None and current[0] <= lo and current[1] >= hi and current[1] - current[0] <= 3 * span:
            return current
        return lo - 0.25 * span, hi + 0.25 * span
    return lo - 0.05 * span, hi + 0.05 * span


class ConvergencePlot(QWidget):
    """Trial values by trial number. Call set_data() once, then refresh() after TrialStore.apply()."""

    hovered = Signal(object)  # trial number or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data: TrialStore | None = None
        self.metric_names: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        # (the legend goes under the objective where one row cannot hold both)
        top = FlowLayout(spacing=10, right_aligned=True)
        self.objective_box = QComboBox()
        self.objective_box.setToolTip("Objective shown in the convergence plot")
        # (as wide as the names of this study's objectives, not of the names it had when first shown)
        self.objective_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.objective_box.currentIndexChanged.connect(self._objective_changed)
        top.addWidget(self.objective_box)
        self.legend = QLabel()
        top.addWidget(self.legend)
        layout.addLayout(top)

        self.view = pg.GraphicsLayoutWidget()
        self.view.ci.setSpacing(0)
        # FastAxisItem: axes whose labels are cheap to redo when a live run moves the ranges.
        self.main = self.view.addPlot(row=0, col=0, axisItems=_fast_axes())
        self.strip = self.view.addPlot(row=1, col=0, axisItems=_fast_axes())
        for plot in (self.main, self.strip):
            plot.hideAxis("top")  # (pyqtgraph shows the axes it is given; a hidden one still follows the range)
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
        self.main.getAxis("right").setTicks([[], []])  # a margin only: no ticks to recompute on every y step
        self.main.getAxis("right").setWidth(52)
        self.strip.setYRange(-1, 1, padding=0)
        self.strip.setMouseEnabled(x=True, y=False)
        self.main.hideAxis("bottom")
        self.strip.setLabel("bottom", "trial number")
        for plot in (self.main, self.strip):
            plot.getAxis("bottom").set_whole_numbers()
        self.main.setLabel("left", "objective value")
        # No grid: pyqtgraph draws grid lines for every tick level with alpha blending, which made each repaint
        # ~7x dearer (18 ms vs 2.4 ms) and, at 10 updates per second during a run, stalled the event loop.
        # Drawn by Qt alone (optgui.qt.plots.line_item); like the points it has no log mode of its own, so its values
        # are mapped to log10 here when the y axis is logarithmic.
        self.best = LineItem()
        # Point items that can be appended to (optgui.qt.plots.points_item). They have no log mode of their own, so
        # values are mapped to log10 here when the y axis is logarithmic.
        self.complete = PointsItem(symbol="o", size=5, name="complete")
        self.pruned = PointsItem(symbol="t", size=6, name="pruned")
        self.failed = PointsItem(symbol="x", size=7, name="failed")
        self._drawn: dict[int, int] = {}  # id(scatter) -> how many points of its buffer are drawn
        self._appended = 0  # points appended since the last full draw
        self._drawn_key = None  # what the last full draw depended on
        self._follow = True  # the x range follows the data (until the user zooms or pans)
        self._follow_y = True  # the y range follows the values (until the user zooms or pans vertically)
        self._y_bounds: tuple[float, float] | None = None  # finite shown values drawn so far: (min, max)
        self._setting_range = False
        self.live = False  # trials are being added (a run, live refresh): follow with headroom
        self._n_shown = 0
        for item in (self.complete, self.pruned, self.best):
            self.main.addItem(item)
        self.strip.addItem(self.failed)
        self.marker = pg.ScatterPlotItem(size=12, pen=pg.mkPen(width=2), brush=None)
        self.marker.setZValue(20)
        self.marker.hide()  # shown while hovering a trial (an empty scatter still costs a repaint ~0.7 ms)
        self.main.addItem(self.marker)
        self.tip = pg.TextItem(anchor=(0, 1))
        self.tip.setZValue(30)
        self.main.addItem(self.tip, ignoreBounds=True)
        self.tip.hide()
        self.view.scene().sigMouseMoved.connect(self._mouse_moved)
        self.main.vb.sigXRangeChanged.connect(self._range_changed)
        self.main.vb.sigYRangeChanged.connect(self._y_range_changed)
        self.main.ctrl.logYCheck.toggled.connect(self._schedule_redraw)  # also the context menu's log toggle
        self._redraw_pending = False
        self._settle_timer = QTimer(self)  # a child: it cannot fire after the plot is gone
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_AFTER_RUN_MS)
        self._settle_timer.timeout.connect(self._settle)
        self.placeholder = pg.TextItem("No trials yet", anchor=(0.5, 0.5))
        self.main.addItem(self.placeholder, ignoreBounds=True)
        layout.addWidget(self.view, 1)
        self.stopping = StoppingEvidenceLabel()  # "should I stop?": evidence under the plot
        layout.addWidget(self.stopping)
        t = theme.current()
        if t is not None:
            t.changed.connect(self.restyle)
        self.restyle(theme.colors())

    # --- data -----------------------------------------------------------------------------------------------
    def set_data(self, data: TrialStore, metric_names: list[str] | None = None) -> None:
        """Show another study's trials: nothing drawn for the previous one is kept (a new TrialStore's generation
        may equal the old one's, so the drawn prefixes and bounds are forgotten here, not by comparing keys)."""
        self.data = data
        self.live, self._n_shown = False, data.n
        self._settle_timer.stop()
        self._drawn, self._appended, self._drawn_key = {}, 0, None
        self._y_bounds, self._x_range, self._y_range = None, None, None
        self._follow = self._follow_y = True
        self.tip.hide()
        self.marker.hide()
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
        self.main.enableAutoRange()
        self.refresh()

    def _set_axis_label(self) -> None:
        k = self.data.objective if self.data else 0
        name = self.metric_names[k] if k < len(self.metric_names) else "objective value"
        self.main.setLabel("left", name)

    def _objective_changed(self, index: int) -> None:
        if self.data is not None and index >= 0:
            self.data.set_objective(index)
            self._set_axis_label()
            self.main.enableAutoRange()
            self.refresh()

    def set_live(self, live: bool) -> None:
        """A run is (or is no longer) adding trials: the followed x range keeps headroom while it does. (Trials
        that arrive otherwise, e.g. by live refresh, switch it on as well.) When a run ends, the ranges drop their
        headroom SETTLE_AFTER_RUN_MS later, in an event-loop pass of their own: the pass that ends a run (states,
        texts, badge, last trials) is the GUI's busiest, and a full redraw on top of it made the longest stall."""
        if live:
            self._settle_timer.stop()
            if not self.live:
                self.live = True
                self.refresh()
        elif self.live and not self._settle_timer.isActive():
            self._settle_timer.start()

    def _settle(self) -> None:
        if self.live:
            self.live = False
            self.refresh()

    def _log_y(self) -> bool:
        return self.main.ctrl.logYCheck.isChecked()

    def _layers(self):
        d = self.data
        return ((self.complete, d.complete, True), (self.pruned, d.pruned, True), (self.failed, d.failed, False))

    def refresh(self) -> None:
        """Bring the plot up to date with TrialStore: O(new points), or O(points in view) for a full draw."""
        d = self.data
        self.stopping.follow(d)
        if d is None:
            return
        vb = self.main.vb
        if d.n > self._n_shown > 0:
            self.live = True
        self._n_shown = d.n
        auto_x, auto_y = vb.autoRangeEnabled()
        if auto_x:  # set_data() or pyqtgraph's "auto range" button: follow the data again
            self._follow = True
            vb.enableAutoRange(x=False)
        if auto_y:
            self._follow_y = True
            vb.enableAutoRange(y=False)
        if self._follow:
            self._set_x_range(*following_x_range(d.n, self.live))
        x0, x1 = self._x_range if self._x_range is not None else (-0.5, max(d.n - 0.5, 0.5))
        columns = max(100, int(vb.width()) or 800)
        log = self._log_y()
        key = (d.generation, d.objective, log, None if self._follow else (x0, x1, columns))
        if key != self._drawn_key or self._appended > APPENDED_PER_COLUMN * columns:
            self._drawn_key, self._appended = key, 0
            self._y_bounds = None
            for item, points, on_value_axis in self._layers():
                x, y = decimate(*points.view(), x0, x1, columns)
                shown = self._shown(y, log and on_value_axis)
                item.setData(x=x, y=shown)
                item.setVisible(len(x) > 0)  # an empty scatter still costs ~0.7 ms per repaint
                self._drawn[id(item)] = points.n
                if on_value_axis:
                    self._widen_y_bounds(shown)
        else:
            for item, points, on_value_axis in self._layers():
                start = self._drawn.get(id(item), 0)
                if points.n > start:
                    x, y = decimate(points.x[start : points.n], points.y[start : points.n], x0, x1, columns)
                    if len(x):
                        shown = self._shown(y, log and on_value_axis)
                        item.addPoints(x=x, y=shown)
                        item.setVisible(True)
                        self._appended += len(x)
                        if on_value_axis:
                            self._widen_y_bounds(shown)
                    self._drawn[id(item)] = points.n
        if self._follow_y and self._y_bounds is not None:
            self._set_y_range(*following_y_range(*self._y_bounds, self._y_range, self.live))
        bx, by = thin_line(*staircase(d.best[: d.n], d.best_steps()), x0, x1, columns)
        by = self._shown(by, log)
        drawn_x, drawn_y = self.best.getData()
        if not (np.array_equal(drawn_x, bx) and np.array_equal(drawn_y, by, equal_nan=True)):
            self.best.setData(bx, by)
        has_failed = d.failed.n > 0
        if has_failed != self.strip.isVisible():
            self.strip.setVisible(has_failed)
            # The trial-number axis sits under the failed strip when it is shown, else under the main plot.
            self.main.showAxis("bottom", show=not has_failed)
            self.main.setLabel("bottom", "trial number" if not has_failed else None)
        self.placeholder.setVisible(d.n == 0)
        if d.n == 0:  # in the middle of the range (at x = 0.5 it stood on the right edge, cut to "No tria")
            (x0, x1), (y0, y1) = self.main.vb.viewRange()
            self.placeholder.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def _widen_y_bounds(self, shown: np.ndarray) -> None:
        finite = shown[np.isfinite(shown)]
        if len(finite):
            lo, hi = float(finite.min()), float(finite.max())
            if self._y_bounds is not None:
                lo, hi = min(lo, self._y_bounds[0]), max(hi, self._y_bounds[1])
            self._y_bounds = (lo, hi)

    @staticmethod
    def _shown(y: np.ndarray, log: bool) -> np.ndarray:
        if not log:
            return y
        with np.errstate(all="ignore"):
            return np.log10(np.where(y > 0, y, np.nan))

    _x_range: tuple[float, float] | None = None
    _y_range: tuple[float, float] | None = None

    def _set_x_range(self, x0: float, x1: float) -> None:
        self._set_range("_x_range", self.main.vb.setXRange, x0, x1)

    def _set_y_range(self, y0: float, y1: float) -> None:
        self._set_range("_y_range", self.main.vb.setYRange, y0, y1)

    def _set_range(self, attribute: str, set_range, lo: float, hi: float) -> None:
        """Set a view range ourselves (following the data): the range-changed handlers then do not take it for
        the user's zoom."""
        if getattr(self, attribute) == (lo, hi):
            return
        self._setting_range = True
        try:
            set_range(lo, hi, padding=0)
        finally:
            self._setting_range = False
        setattr(self, attribute, (lo, hi))

    def _y_range_changed(self, _vb, y_range) -> None:
        """A vertical zoom or pan (not ours, not pyqtgraph's auto range): stop following the values."""
        if self._setting_range:
            return
        self._y_range = (float(y_range[0]), float(y_range[1]))
        if not self.main.vb.autoRangeEnabled()[1]:
            self._follow_y = False

    def _range_changed(self, _vb, x_range) -> None:
        """Zoom and pan: stop following and redraw the visible part at full detail (once per event-loop pass)."""
        self._x_range = (float(x_range[0]), float(x_range[1]))
        if self._setting_range:
            return
        if not self.main.vb.autoRangeEnabled()[0]:
            self._follow = False
        self._schedule_redraw()

    def _schedule_redraw(self, *_args) -> None:
        if not self._redraw_pending:
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
        self.complete.setBrush(pg.mkBrush(c.complete))
        self.complete.setPen(None)
        self.pruned.setBrush(pg.mkBrush(c.pruned))
        self.pruned.setPen(None)
        self.failed.setPen(pg.mkPen(c.fail, width=1.5))
        self.failed.setBrush(None)
        self.marker.setPen(pg.mkPen(c.foreground, width=2))
        self.tip.setColor(c.foreground)
        self.tip.fill = pg.mkBrush(c.background)
        self.placeholder.setColor(c.muted)
        self.legend.setText(
            f'<span style="color:{c.complete}">●</span> complete &nbsp; '
            f'<span style="color:{c.pruned}">▼</span> pruned &nbsp; '
            f'<span style="color:{c.fail}">✕</span> failed &nbsp; '
            f'<span style="color:{c.best}">━</span> best so far'
        )

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
            self.marker.hide()
        else:
            y = self.data.values[number, self.data.objective]
            shown_y = np.log10(y) if self.main.ctrl.logYCheck.isChecked() and y > 0 else y
            self.marker.setData([number], [shown_y])  # a plain scatter item: no log mode of its own
            self.marker.show()
            self.tip.setText(self.describe(number))
            self.tip.setPos(number, shown_y)
            self.tip.show()
        self.hovered.emit(number)


class ParetoPlot(QWidget):
    """Two objectives against each other; the Pareto front highlighted and joined."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data: TrialStore | None = None
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

    def set_data(self, data: TrialStore, metric_names: list[str] | None = None) -> None:
        self.data = data
        self.live, self._n_shown = False, data.n
        names = list(metric_names or [])
        labels = [names[k] if k < len(names) else f"objective {k}" for k in range(2)]
        self.plot.setLabel("bottom", f"{labels[0]} ({data.directions[0]})")
        self.plot.setLabel("left", f"{labels[1]} ({data.directions[1]})")
        self.refresh()

    def refresh(self) -> None:
        d = self.data
        if d is None or d.n_objectives < 2:
            return
        rows = np.flatnonzero(d.state[: d.n] == 1)
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
