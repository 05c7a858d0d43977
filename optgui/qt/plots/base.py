"""What every analysis view shares: a header row (title, the view's own controls, a status line, Export), a
pyqtgraph canvas that follows the theme, redraws only while visible, the shared trial selection, and exports
(PNG, SVG where the Qt binding supports it, CSV of the plotted data).

Drawing budget. Qt's raster engine costs ~5-10 µs per line segment or symbol, so 100k symbols or 500k segments
take seconds per frame. Views therefore draw what the eye can tell apart: scatter points thinned to one per
few-pixel cell of the visible range (re-thinned on zoom, so zooming in shows every point), the timeline
rasterised to pixels, and line-heavy views (learning curves, parallel coordinates) drawn from a capped,
stated sample plus aggregates computed from all trials. Data (and CSV exports) always cover every trial.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from optgui.core.analysis import write_csv
from optgui.core.errors import OptguiError
from optgui.qt import theme
from optgui.qt.flow_layout import FlowLayout
from optgui.qt.plots.source import AnalysisSource
from optgui.qt.study.selection import TrialSelection

THIN_CELL_PIXELS = 3.0


# --- colours ----------------------------------------------------------------------------------------------------
def colormap(colors: theme.Colors) -> pg.ColorMap:
    return pg.colormap.get("viridis")


def color_at(colors: theme.Colors, t: np.ndarray) -> np.ndarray:
    """RGBA bytes (n, 4) for positions t in [0, 1] where 1 is "best"/"latest". On a light background the pale
    yellow end of viridis is cut off so the best points stay visible."""
    t = np.clip(np.nan_to_num(np.asarray(t, dtype=float), nan=0.0), 0.0, 1.0)
    if not colors.dark:
        t = 0.9 * t
    return colormap(colors).map(t, mode="byte")


def brushes_for(rgba: np.ndarray, levels: int = 64) -> np.ndarray:
    """QBrush objects for RGBA rows, quantised to `levels` distinct brushes (pyqtgraph caches one symbol image
    per brush, so few distinct brushes keep scatter drawing fast)."""
    if len(rgba) == 0:
        return np.zeros(0, dtype=object)
    key = (
        (rgba[:, 0].astype(np.int64) << 24)
        | (rgba[:, 1].astype(np.int64) << 16)
        | (rgba[:, 2].astype(np.int64) << 8)
        | rgba[:, 3].astype(np.int64)
    )
    unique, inverse = np.unique(key, return_inverse=True)
    table = np.array(
        [pg.mkBrush(int(k >> 24) & 255, int(k >> 16) & 255, int(k >> 8) & 255, int(k) & 255) for k in unique],
        dtype=object,
    )
    return table[inverse.reshape(-1)]


def quantised(t: np.ndarray, levels: int = 64) -> np.ndarray:
    return np.round(np.clip(np.nan_to_num(t), 0, 1) * (levels - 1)) / (levels - 1)


def with_alpha(color: str, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


# --- thinning ---------------------------------------------------------------------------------------------------
def thin(
    x: np.ndarray,
    y: np.ndarray,
    priority: np.ndarray,
    x_range,
    y_range,
    pixel_size,
    cell_pixels: float = THIN_CELL_PIXELS,
) -> np.ndarray:
    """Indices of the points to draw: inside the visible range, at most one per cell of `cell_pixels` pixels,
    the one of highest priority (e.g. best value or latest trial), ordered by priority so it is drawn on top."""
    ok = np.isfinite(x) & np.isfinite(y)
    (x0, x1), (y0, y1) = x_range, y_range
    ok &= (x >= min(x0, x1)) & (x <= max(x0, x1)) & (y >= min(y0, y1)) & (y <= max(y0, y1))
    idx = np.flatnonzero(ok)
    px, py = abs(pixel_size[0]) * cell_pixels, abs(pixel_size[1]) * cell_pixels
    if len(idx) <= 2000 or px <= 0 or py <= 0 or not np.isfinite(px * py):
        return idx[np.argsort(priority[idx], kind="stable")]
    cx = ((x[idx] - min(x0, x1)) / px).astype(np.int64)
    cy = ((y[idx] - min(y0, y1)) / py).astype(np.int64)
    key = cx * (int((abs(y1 - y0)) / py) + 2) + cy
    order = np.argsort(-priority[idx], kind="stable")  # highest priority first; unique keeps the first
    _, first = np.unique(key[order], return_index=True)
    kept = idx[order[first]]
    return kept[np.argsort(priority[kept], kind="stable")]


def deferred(parent, callback) -> QTimer:
    """A single-shot zero-delay timer that runs `callback` once per event-loop pass however often it is
    started. (One long-lived timer per purpose: QTimer.singleShot with a bound method crashed PySide6 6.10 in
    tests when the scene was painted afterwards.)"""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(0)
    timer.timeout.connect(callback)
    return timer


class ThinnedScatter:
    """A scatter item that draws a thinned subset of its points for the current view range and re-thins after
    zoom or pan (once per event-loop pass). Clicking a point emits the trial number through `clicked`."""

    def __init__(self, plot: pg.PlotItem, size: float = 6, symbol: str = "o", z: float = 0):
        self.plot = plot
        self.item = pg.ScatterPlotItem(size=size, symbol=symbol, pen=None, hoverable=False)
        self.item.setZValue(z)
        plot.addItem(self.item)
        self.x = self.y = self.priority = np.zeros(0)
        self.numbers = np.zeros(0, dtype=np.int64)
        self.brushes: np.ndarray | pg.QtGui.QBrush | None = None
        self.drawn = np.zeros(0, dtype=np.int64)
        self._rethin = deferred(plot.vb, self.redraw)
        plot.vb.sigRangeChanged.connect(self._range_changed)
        self.callbacks: list = []
        self.item.sigClicked.connect(self._clicked)

    def set_points(self, x, y, numbers, priority=None, brushes=None) -> None:
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)
        self.numbers = np.asarray(numbers, dtype=np.int64)
        self.priority = np.asarray(priority if priority is not None else np.arange(len(self.x)), float)
        self.brushes = brushes
        self.redraw()

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        ok = np.isfinite(self.x) & np.isfinite(self.y)
        if not ok.any():
            return None
        return (float(self.x[ok].min()), float(self.x[ok].max())), (float(self.y[ok].min()), float(self.y[ok].max()))

    def redraw(self) -> None:
        vb = self.plot.vb
        if vb.autoRangeEnabled()[0] or vb.autoRangeEnabled()[1] or vb.width() < 10:
            b = self.bounds()
            if b is None:
                self.drawn = np.zeros(0, dtype=np.int64)
                self.item.setData([], [])
                return
            (xa, xb), (ya, yb) = b
            w, h = max(vb.width(), 400), max(vb.height(), 300)
            pixel = ((xb - xa) / w or 1e-12, (yb - ya) / h or 1e-12)
            x_range, y_range = (xa, xb), (ya, yb)
        else:
            x_range, y_range = vb.viewRange()
            pixel = vb.viewPixelSize()
        self.drawn = thin(self.x, self.y, self.priority, x_range, y_range, pixel)
        kwargs = {}
        if isinstance(self.brushes, np.ndarray):
            kwargs["brush"] = self.brushes[self.drawn]
        elif self.brushes is not None:
            kwargs["brush"] = self.brushes
        self.item.setData(self.x[self.drawn], self.y[self.drawn], data=self.numbers[self.drawn], **kwargs)

    def _range_changed(self, *_args) -> None:
        if len(self.x) > 2000:
            self._rethin.start()

    def _clicked(self, _item, points, *_args) -> None:
        if len(points):
            number = int(points[0].data())
            for callback in self.callbacks:
                callback(number)


# --- the view base class ----------------------------------------------------------------------------------------
def ask_export_path(parent: QWidget, title: str, name: str, filters: str) -> str | None:
    """The save dialog for exports (tests replace it)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, name, filters)
    return path or None


def svg_supported() -> bool:
    """pyqtgraph 0.14.0's SVGExporter fails with Qt ≥ 6.11 (fixed upstream after that release)."""
    from PySide6 import __version__ as pyside_version

    major, minor = (int(p) for p in pyside_version.split(".")[:2])
    return (major, minor) < (6, 11)


class AnalysisPlot(QWidget):
    """Base class: subclasses set `title`, build controls and items in build(), and implement draw() (read from
    self.source, set item data), csv_columns() and optionally highlight(number)."""

    title = "Plot"
    key = "plot"
    status_changed = Signal(str)

    def __init__(self, source: AnalysisSource, selection: TrialSelection, parent=None):
        super().__init__(parent)
        self.source = source
        self.selection = selection
        self._dirty = True
        self._drawn_revision = -1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        # The title and the view's controls wrap onto a second row in a narrow window, and the status has a line
        # of its own that wraps too: in one row they were cut off at 1000 px.
        self.header = QHBoxLayout()
        self.controls = FlowLayout()
        heading = QLabel(self.title)
        heading.setObjectName("sectionTitle")
        self.controls.addWidget(heading)
        self.header.addLayout(self.controls, 1)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Image (PNG)…", lambda: self._export_dialog("png"))
        self.svg_action = menu.addAction("Image (SVG)…", lambda: self._export_dialog("svg"))
        self.svg_action.setEnabled(svg_supported())
        menu.addAction("Data (CSV)…", lambda: self._export_dialog("csv"))
        self.export_button.setMenu(menu)
        self.header.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(self.header)
        layout.addWidget(self.status)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.ci.setContentsMargins(4, 4, 8, 4)
        layout.addWidget(self.canvas, 1)
        self.colors = theme.colors()
        self._redraw_timer = deferred(self, self.redraw_if_dirty)
        self.marked_scatter: ThinnedScatter | None = None  # the trial scatter whose selected point is ringed
        self.build()
        source.changed.connect(self.invalidate)
        selection.trial_selected.connect(self._selected)
        t = theme.current()
        if t is not None:
            t.changed.connect(self._restyle)
        self._restyle(self.colors, redraw=False)

    # --- subclass hooks ---------------------------------------------------------------------------------------
    def build(self) -> None:
        raise NotImplementedError

    def draw(self) -> None:
        raise NotImplementedError

    def csv_columns(self) -> dict:
        raise NotImplementedError

    def highlight(self, number: int | None) -> None:
        """Show the selected trial (None: nothing selected). Views made with add_trial_scatter ring its point;
        others override this."""
        scatter = self.marked_scatter
        if scatter is None:
            return
        where = np.flatnonzero(scatter.numbers == number) if number is not None else []
        if len(where) == 0:
            self.marker.setData([], [])
            return
        self.marker.setData([scatter.x[where[0]]], [scatter.y[where[0]]])

    def plot_items(self) -> list[pg.PlotItem]:
        return [item for item in self.canvas.ci.items if isinstance(item, pg.PlotItem)]

    # --- helpers for subclasses -------------------------------------------------------------------------------
    def add_trial_scatter(
        self, plot: pg.PlotItem, size: float, z: float = 0, marker_size: float = 14
    ) -> ThinnedScatter:
        """The trials as a thinned scatter on `plot` (x, y in plot coordinates): clicking a point selects its trial
        in every view, and a ring (`self.marker`, above everything) marks the selected trial."""
        scatter = ThinnedScatter(plot, size=size, z=z)
        scatter.callbacks.append(self.selection.select)
        self.marker = pg.ScatterPlotItem(size=marker_size, brush=None)
        self.marker.setZValue(30)
        plot.addItem(self.marker)
        self.marked_scatter = scatter
        return scatter

    def add_combo(self, tooltip: str, on_change) -> QComboBox:
        box = QComboBox()
        box.setToolTip(tooltip)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        box.currentIndexChanged.connect(lambda *_: on_change())
        self.controls.addWidget(box)
        return box

    def set_items(self, box: QComboBox, names: list[str], keep: str | None = None, default: int = 0) -> None:
        current = keep if keep is not None else box.currentText()
        box.blockSignals(True)
        box.clear()
        box.addItems(names)
        if current in names:
            box.setCurrentIndex(names.index(current))
        elif names:
            box.setCurrentIndex(min(default, len(names) - 1))
        box.blockSignals(False)

    def objective_names(self) -> list[str]:
        summary = self.source.summary
        table = self.source.table()
        directions = summary.directions if summary is not None else (table.directions if table else ("minimize",))
        metrics = list(summary.metric_names or []) if summary is not None else []
        return [
            f"{metrics[k] if k < len(metrics) else ('objective' if len(directions) == 1 else f'objective {k}')} ({d})"
            for k, d in enumerate(directions)
        ]

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status_changed.emit(text)

    def style_plot(self, plot: pg.PlotItem) -> None:
        c = self.colors
        for name in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(c.grid))
            axis.setTextPen(pg.mkPen(c.muted))
            if axis.label is not None:
                axis.label.setDefaultTextColor(QColor(c.muted))
        plot.showGrid(x=True, y=True, alpha=0.25)

    # --- drawing lifecycle ------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._redraw_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._redraw_timer.start()

    def redraw_if_dirty(self) -> None:
        if self._dirty:
            self.redraw()

    def redraw(self) -> None:
        """Draw now (also when hidden: tests, exports)."""
        self._dirty = False
        try:
            if self.source.table() is None:
                self.set_status("No study")
                return
            self.set_status("")  # (a view with nothing to draw says so in the plot, not with another study's counts)
            self.draw()
        except OptguiError as exc:  # e.g. the storage was closed or became unreadable: say so in the view
            self.set_status(str(exc))
            return
        self._drawn_revision = self.source.revision
        self.highlight(self.selection.selected)

    def _selected(self, number) -> None:
        if not self._dirty:
            self.highlight(number)

    def _restyle(self, colors: theme.Colors, redraw: bool = True) -> None:
        self.colors = colors
        self.canvas.setBackground(colors.background)
        for plot in self.plot_items():
            self.style_plot(plot)
        if self.marked_scatter is not None:
            self.marker.setPen(pg.mkPen(colors.foreground, width=2))
        self.restyle()
        if redraw:
            self.invalidate()

    def restyle(self) -> None:
        """Subclasses recolour their own items here (the next draw uses self.colors too)."""

    # --- exports ----------------------------------------------------------------------------------------------
    def _export_dialog(self, kind: str) -> None:
        filters = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "csv": "CSV data (*.csv)"}[kind]
        study = self.source.study_name or "study"
        path = ask_export_path(self, f"Export {self.title}", f"{study}-{self.key}.{kind}", filters)
        if path:
            {"png": self.export_png, "svg": self.export_svg, "csv": self.export_csv}[kind](path)

    def _ensure_drawn(self) -> None:
        if self._dirty or self._drawn_revision != self.source.revision:
            self.redraw()

    def export_png(self, path: str) -> None:
        """What is on screen, at the widget's size (the header row excluded)."""
        self._ensure_drawn()
        if not self.canvas.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def export_svg(self, path: str) -> bool:
        """Vector export of the plots; False (nothing written) where the Qt binding breaks pyqtgraph's
        exporter — PNG then remains."""
        if not svg_supported():
            return False
        import pyqtgraph.exporters

        self._ensure_drawn()
        pyqtgraph.exporters.SVGExporter(self.canvas.ci).export(path)
        return True

    def export_csv(self, path: str) -> int:
        """The plotted data for every trial (not only what was drawn). Returns the number of rows."""
        self._ensure_drawn()
        return write_csv(path, self.csv_columns())


def image_rect(x_centres: np.ndarray, y_centres: np.ndarray) -> QRectF:
    """The data rectangle of an image whose pixels are centred on uniform grids."""
    dx = (x_centres[-1] - x_centres[0]) / max(len(x_centres) - 1, 1) or 1.0
    dy = (y_centres[-1] - y_centres[0]) / max(len(y_centres) - 1, 1) or 1.0
    return QRectF(x_centres[0] - dx / 2, y_centres[0] - dy / 2, dx * len(x_centres), dy * len(y_centres))


def category_ticks(labels: list | None) -> list | None:
    if labels is None:
        return None
    return [[(i, str(label)) for i, label in enumerate(labels)]]


def set_param_axis(plot: pg.PlotItem, name: str, param: str, log: bool, labels: list | None) -> None:
    """Label a plot axis that shows a param: log10 positions for a log param (without pyqtgraph's SI-prefix
    rescaling, which turned 1e-5..1e-1 into "0.01..100 (x0.001)"), category names for a categorical one."""
    axis = plot.getAxis(name)
    axis.setLogMode(log)
    axis.enableAutoSIPrefix(not log and labels is None)
    axis.setTicks(category_ticks(labels))
    plot.setLabel(name, param)


def clear_axes(plot: pg.PlotItem, param_axes: tuple[str, ...] = ()) -> None:
    """Take the shown study out of a plot that has nothing to draw: the names of its params off `param_axes`
    (with their log scale and category ticks) and the range of its values off both axes (autorange keeps the last
    range when no item has data, so an empty study showed the previous one's axes)."""
    for name in param_axes:
        set_param_axis(plot, name, "", False, None)
    plot.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    plot.enableAutoRange()


def placeholder(plot: pg.PlotItem) -> pg.TextItem:
    item = pg.TextItem("", anchor=(0.5, 0.5))
    item.setZValue(50)
    plot.addItem(item, ignoreBounds=True)
    return item


def show_message(item: pg.TextItem, plot: pg.PlotItem, text: str, color: str) -> None:
    item.setText(text)
    item.setColor(color)
    item.setVisible(bool(text))
    if text:
        (x0, x1), (y0, y1) = plot.vb.viewRange()
        item.setPos((x0 + x1) / 2, (y0 + y1) / 2)
