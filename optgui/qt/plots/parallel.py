"""Parallel coordinates: one vertical axis per objective and param (log params on a log10 axis, categoricals
as their categories, a "None" slot for trials missing a conditional param), trials as polylines coloured by the
chosen objective.

Brushing: drag along an axis to keep the trials inside that range (several axes combine with AND); drag again
to replace, double-click an axis (or "Clear") to remove. The kept trial numbers — computed over every trial,
not just the drawn lines — go to the shared selection's filter, which the trials table follows.

At most LINE_BUDGET polylines are drawn (the best tenth of the budget by objective, plus a seeded sample),
binned into COLOR_BINS line items by colour.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QGraphicsRectItem, QToolButton

from optgui.core import analysis
from optgui.qt.plots.base import AnalysisPlot, color_at, placeholder, show_message, with_alpha

LINE_BUDGET = 4000
COLOR_BINS = 12
AXIS_GRAB = 0.2  # how far from an axis (in axis spacings) a drag still brushes it


class BrushViewBox(pg.ViewBox):
    """A view box where dragging near an axis draws a brush instead of panning."""

    def __init__(self, owner: ParallelCoordinatesPlot):
        super().__init__(enableMenu=False)
        self.owner = owner
        self.setMouseEnabled(x=False, y=False)

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        start = self.mapSceneToView(ev.buttonDownScenePos())
        here = self.mapSceneToView(ev.scenePos())
        index = int(round(start.x()))
        if abs(start.x() - index) > AXIS_GRAB or not 0 <= index < self.owner.n_axes:
            ev.ignore()
            return
        ev.accept()
        self.owner.set_brush(index, start.y(), here.y(), final=ev.isFinish())

    def mouseClickEvent(self, ev):
        if ev.double():
            index = int(round(self.mapSceneToView(ev.scenePos()).x()))
            if 0 <= index < self.owner.n_axes:
                self.owner.clear_brush(index)
                ev.accept()
                return
        ev.ignore()


MIN_NAME_PIXELS = 56  # an axis name shorter than this says too little ("l…0"): fewer axes are named
NAME_GAP = 8  # pixels between two axis names
EDGE_NAME_PIXELS = 110  # the first and last axis names are centred on the plot's edges: margins make room for them


class ParallelCoordinatesPlot(AnalysisPlot):
    title = "Parallel coordinates"
    key = "parallel-coordinates"

    def build(self) -> None:
        self.objective_box = self.add_combo("Objective that colours the lines", self.invalidate)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear brushes")
        self.clear_button.clicked.connect(self.clear_brushes)
        self.controls.addWidget(self.clear_button)
        self.vb = BrushViewBox(self)
        self.vb.sigResized.connect(self._fit_x_range)
        self._last_values_width = 0.0  # pixels the last axis' values take to its right
        self.plot = self.canvas.addPlot(viewBox=self.vb)
        self.plot.hideAxis("left")
        # The first axis' name is centred near the plot's left edge: let it reach up to 60 px past the edge (the
        # default hides any label that does not fit inside the axis).
        self.plot.getAxis("bottom").setStyle(tickLength=0, hideOverlappingLabels=60)
        self.line_items = [pg.PlotCurveItem(skipFiniteCheck=True) for _ in range(COLOR_BINS)]
        for item in self.line_items:
            self.plot.addItem(item)
        self.dimmed = pg.PlotCurveItem(skipFiniteCheck=True)
        self.dimmed.setZValue(-2)
        self.plot.addItem(self.dimmed)
        self.selected_line = pg.PlotCurveItem()
        self.selected_line.setZValue(30)
        self.plot.addItem(self.selected_line)
        self.axis_lines: list = []
        self.labels: list = []
        self._labels_by_axis: list[list] = []  # each axis' value labels
        self._axis_names: list[str] = []  # in full (the bottom axis may show them elided)
        self.brush_rects: dict[int, QGraphicsRectItem] = {}
        self.brushes: dict[int, tuple[float, float]] = {}
        self.message = placeholder(self.plot)
        self.pc: analysis.ParallelCoordinates | None = None
        self.drawn_rows = np.zeros(0, dtype=np.int64)
        self.kept = None
        self.selection.filter_changed.connect(self._filter_changed)

    @property
    def n_axes(self) -> int:
        return len(self.pc.dimensions) if self.pc is not None else 0

    def restyle(self) -> None:
        # Every axis has its own scale, so a shared grid means nothing; without it the bottom axis may also draw
        # the first axis' name past the plot's left edge (a grid confines labels to the view's width).
        self.plot.showGrid(x=False, y=False)
        self.selected_line.setPen(pg.mkPen(self.colors.foreground, width=3))
        self.dimmed.setPen(pg.mkPen(with_alpha(self.colors.muted, 18 if self.colors.dark else 35)))

    def draw(self) -> None:
        table = self.source.table()
        self.set_items(self.objective_box, self.objective_names())
        objective = max(self.objective_box.currentIndex(), 0)
        metric = list(self.source.summary.metric_names or []) if self.source.summary else None
        labels_before = [d.label for d in self.pc.dimensions] if self.pc is not None else None
        self.pc = pc = analysis.parallel_coordinates(table, objective=objective, metric_names=metric)
        if labels_before != [d.label for d in pc.dimensions]:
            self._drop_brush_items()
        self._draw_axes()
        if len(pc.numbers) == 0:
            for item in self.line_items + [self.dimmed]:
                item.setData([], [])
            show_message(self.message, self.plot, "No complete trials yet", self.colors.muted)
            self.set_status("")
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        self.matrix = pc.matrix()
        sign = -1.0 if table.directions[objective] == "maximize" else 1.0
        self.drawn_rows = self._sample(sign * pc.color)
        self._draw_lines()
        self._apply_brushes(emit=False)

    def _sample(self, loss: np.ndarray) -> np.ndarray:
        n = len(loss)
        if n <= LINE_BUDGET:
            return np.arange(n)
        best = np.argsort(loss, kind="stable")[: LINE_BUDGET // 10]
        rest = np.setdiff1d(np.arange(n), best)
        sample = np.random.default_rng(0).choice(rest, LINE_BUDGET - len(best), replace=False)
        return np.sort(np.concatenate([best, sample]))

    def _draw_axes(self) -> None:
        for item in self.axis_lines + self.labels:
            self.plot.removeItem(item)
        self.axis_lines, self.labels = [], []
        self._labels_by_axis = []
        c = self.colors
        for i, dim in enumerate(self.pc.dimensions):
            self._labels_by_axis.append([])
            line = pg.InfiniteLine(pos=i, angle=90, pen=pg.mkPen(c.muted, width=1))
            line.setZValue(20)
            self.plot.addItem(line)
            self.axis_lines.append(line)
            for value, text in self._ticks(dim):
                label = pg.TextItem(text, color=c.foreground, anchor=(0, 0.5))
                label.setZValue(25)
                label.setPos(
                    i + 0.02, float(np.clip((value - dim.range[0]) / ((dim.range[1] - dim.range[0]) or 1), 0, 1))
                )
                self.plot.addItem(label, ignoreBounds=True)
                self.labels.append(label)
                self._labels_by_axis[i].append(label)
        names = [d.label + (" (log)" if d.is_log else "") for d in self.pc.dimensions]
        self._axis_names = names
        self.plot.getAxis("bottom").setTicks([list(enumerate(names))])
        self._make_room_for(names, [text for _, text in self._ticks(self.pc.dimensions[-1])] if names else [])
        self._fit_x_range()
        self.plot.setYRange(-0.03, 1.03, padding=0)

    def _make_room_for(self, names: list[str], last_ticks: list[str]) -> None:
        """The first and last axis names are centred on their axes, near the plot's edges, and the last axis'
        values are written to its right: margins keep the names inside the canvas (at 1000 px "Objective Value"
        showed as "jective Value"), and the x range the values (_fit_x_range)."""
        metrics = QFontMetrics(self.plot.getAxis("bottom").font())
        # (an outer name longer than EDGE_NAME_PIXELS is elided to it: a long one took the room of the axes)
        left = min(metrics.horizontalAdvance(names[0]), EDGE_NAME_PIXELS) / 2 if names else 0
        right = min(metrics.horizontalAdvance(names[-1]), EDGE_NAME_PIXELS) / 2 if names else 0
        values = QFontMetrics(QApplication.font())  # pg.TextItem draws with the application font
        self._last_values_width = max([0] + [values.horizontalAdvance(t) + 12 for t in last_ticks])
        self.plot.setContentsMargins(left, 0, right, 0)

    def _fit_x_range(self) -> None:
        """An x range that holds the last axis' values inside the view box, which clips its items ("sigmoid" showed
        as "sig" at 1000 px): r data units right of the last axis, at the box's width in pixels."""
        if getattr(self, "pc", None) is None:  # (the box is resized while it is built)
            return
        span = max(len(self.pc.dimensions) - 1, 1) + 0.25
        pixels = max(self.vb.width(), 1.0)
        text = min(self._last_values_width, 0.6 * pixels)
        right = max(0.35, (text * span / pixels + 0.02) / (1 - text / pixels))
        self.plot.setXRange(-0.25, span - 0.25 + right, padding=0)
        self._fit_axis_texts(pixels / (span + right))

    def _fit_axis_texts(self, axis_pixels: float) -> None:
        """Many axes leave little room between two of them: the names are elided to that room, and the values of
        an axis that do not fit before the next axis are hidden (names and values of neighbouring axes were drawn
        over each other). The last axis keeps its values: the x range leaves them room."""
        metrics = QFontMetrics(self.plot.getAxis("bottom").font())
        # Every `step`-th axis is named when one name per axis would be cut to a few letters.
        step = max(1, int(np.ceil(MIN_NAME_PIXELS / max(axis_pixels - NAME_GAP, 1.0))))
        room = int(step * axis_pixels) - NAME_GAP
        last = len(self._axis_names) - 1
        names = [
            metrics.elidedText(
                name, Qt.TextElideMode.ElideMiddle, min(room, EDGE_NAME_PIXELS) if axis in (0, last) else room
            )
            if axis % step == 0
            else ""
            for axis, name in enumerate(self._axis_names)
        ]
        self.plot.getAxis("bottom").setTicks([list(enumerate(names))])
        values = QFontMetrics(QApplication.font())  # pg.TextItem draws with the application font
        for axis, labels in enumerate(self._labels_by_axis):
            widths = [values.horizontalAdvance(label.textItem.toPlainText()) for label in labels]
            fits = axis == last or max(widths, default=0) + 12 <= axis_pixels
            for label in labels:
                label.setVisible(fits)

    @staticmethod
    def _ticks(dim: analysis.Dimension) -> list[tuple[float, str]]:
        if dim.tickvals:
            ticks = list(zip(dim.tickvals, dim.ticktext or [f"{v:.3g}" for v in dim.tickvals], strict=False))
            if len(ticks) > 12:  # many categories: label a readable subset
                step = int(np.ceil(len(ticks) / 12))
                ticks = ticks[::step]
            return ticks
        lo, hi = dim.range
        if lo == hi:
            return [(lo, f"{lo:.3g}")]
        return [(v, f"{v:.3g}") for v in np.linspace(lo, hi, 5)]

    def _draw_lines(self) -> None:
        pc = self.pc
        k = len(pc.dimensions)
        rows = self.drawn_rows
        if self.kept is not None:
            inside = self.kept[rows]
            self._set_polylines(self.dimmed, rows[~inside], k)
            rows = rows[inside]
        else:
            self.dimmed.setData([], [])
        lo, hi = np.nanmin(pc.color), np.nanmax(pc.color)
        t = (pc.color - lo) / ((hi - lo) or 1.0)
        if pc.reverse_scale:  # minimize: low values are best and get the "best" end of the colour map
            t = 1.0 - t
        bins = np.minimum((t * COLOR_BINS).astype(np.int64), COLOR_BINS - 1)
        for b, item in enumerate(self.line_items):
            sel = rows[bins[rows] == b]
            rgba = color_at(self.colors, np.array([(b + 0.5) / COLOR_BINS]))[0]
            item.setPen(pg.mkPen(int(rgba[0]), int(rgba[1]), int(rgba[2]), 140))
            item.setZValue(b)  # best on top
            self._set_polylines(item, sel, k)
        drawn = len(self.drawn_rows)
        note = "" if drawn == len(pc.numbers) else f" · {drawn:,} lines drawn (best {LINE_BUDGET // 10:,} + sample)"
        kept = "" if self.kept is None else f" · {int(self.kept.sum()):,} in brushes"
        self.set_status(f"{len(pc.numbers):,} complete trials{note}{kept}")

    def _set_polylines(self, item: pg.PlotCurveItem, rows: np.ndarray, k: int) -> None:
        if len(rows) == 0 or k == 0:
            item.setData([], [])
            return
        x = np.tile(np.arange(k, dtype=float), len(rows))
        y = self.matrix[rows].ravel()
        connect = np.ones(len(rows) * k, dtype=bool)
        connect[k - 1 :: k] = False
        item.setData(x, y, connect=connect)

    # --- brushing ---------------------------------------------------------------------------------------------
    def set_brush(self, axis: int, y0: float, y1: float, final: bool = True) -> None:
        lo, hi = sorted((float(np.clip(y0, 0, 1)), float(np.clip(y1, 0, 1))))
        self.brushes[axis] = (lo, hi)
        rect = self.brush_rects.get(axis)
        if rect is None:
            rect = QGraphicsRectItem()
            rect.setZValue(22)
            self.plot.addItem(rect)
            self.brush_rects[axis] = rect
        rect.setRect(QRectF(axis - 0.06, lo, 0.12, hi - lo))
        rect.setBrush(pg.mkBrush(with_alpha(self.colors.info, 70)))
        rect.setPen(pg.mkPen(self.colors.info))
        if final:
            self._apply_brushes()

    def clear_brush(self, axis: int) -> None:
        self.brushes.pop(axis, None)
        rect = self.brush_rects.pop(axis, None)
        if rect is not None:
            self.plot.removeItem(rect)
        self._apply_brushes()

    def clear_brushes(self) -> None:
        self._drop_brush_items()
        self._apply_brushes()

    def _drop_brush_items(self) -> None:
        for rect in self.brush_rects.values():
            self.plot.removeItem(rect)
        self.brush_rects, self.brushes = {}, {}

    def _filter_changed(self, numbers) -> None:
        """Another view removed the filter (the trials table's "Show all trials"): drop the brushes too."""
        if numbers is None and self.brushes:
            self._drop_brush_items()
            self.kept = None
            if self.pc is not None and len(self.pc.numbers):
                self._draw_lines()

    def _apply_brushes(self, emit: bool = True) -> None:
        if self.pc is None:
            return
        if not self.brushes:
            self.kept = None
            numbers = None
        else:
            numbers = analysis.numbers_in_ranges(self.pc, self.brushes)
            self.kept = np.isin(self.pc.numbers, numbers)
        if len(self.pc.numbers):
            self._draw_lines()
        if emit or numbers is not None:
            self.selection.set_filter(numbers, source="parallel coordinates")

    # --- selection and export ---------------------------------------------------------------------------------
    def highlight(self, number) -> None:
        if number is None or self.pc is None:
            self.selected_line.setData([], [])
            return
        where = np.flatnonzero(self.pc.numbers == number)
        if len(where) == 0:
            self.selected_line.setData([], [])
            return
        self.selected_line.setData(np.arange(self.n_axes, dtype=float), self.matrix[where[0]])

    def csv_columns(self) -> dict:
        pc = self.pc
        cols = {"number": pc.numbers}
        for dim in pc.dimensions:
            if dim.is_cat:
                text = dict(zip(dim.tickvals, dim.ticktext, strict=False))
                cols[dim.label] = [text.get(int(v), "") for v in dim.values]
            elif dim.is_log:
                cols[dim.label] = np.where(
                    dim.values == (dim.range[0] if dim.has_missing else np.nan), np.nan, 10.0**dim.values
                )
            else:
                values = dim.values.copy()
                if dim.has_missing:
                    values[values == dim.range[0]] = np.nan
                cols[dim.label] = values
        if self.kept is not None:
            cols["in_brushes"] = self.kept
        return cols
