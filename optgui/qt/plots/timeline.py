"""Timeline: every trial as a bar from its start to its end (y: trial number, x: wall-clock time), coloured by
state. All trials, not a recent window: the bars are rasterised to the view's pixels (a difference array per
state row, O(trials + pixels)), so 100k bars draw in milliseconds and each trial covers at least one pixel.
Zooming re-rasterises the visible range at full detail."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

from optgui.core import analysis
from optgui.core.storage import COMPLETE, FAIL, PRUNED, RUNNING, STATE_NAMES, WAITING
from optgui.qt.plots.base import AnalysisPlot, deferred, placeholder, show_message

# Painting order: later states win a pixel shared with earlier ones (failures and running trials stay visible).
PAINT_ORDER = (COMPLETE, PRUNED, WAITING, FAIL, RUNNING)


def span_text(seconds: float) -> str:
    """A run's length in the unit that reads best (a 20 s run read as "0.00 h")."""
    if not seconds == seconds or seconds < 0:  # NaN: no trial has both ends
        return "—"
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def rasterize(
    bars: analysis.Timeline, x_range, y_range, width: int, height: int, colors: dict[int, tuple[int, int, int, int]]
) -> np.ndarray:
    """An RGBA image (height, width, 4), row 0 at y_range[0]: each bar covers the pixel row of its trial number
    and the columns from its start to its end (at least one)."""
    (x0, x1), (y0, y1) = x_range, y_range
    image = np.zeros((height, width, 4), dtype=np.uint8)
    if len(bars.numbers) == 0 or x1 <= x0 or y1 <= y0:
        return image
    row = np.floor((bars.numbers - y0) / (y1 - y0) * height).astype(np.int64)
    c0 = np.floor((bars.start - x0) / (x1 - x0) * width)
    c1 = np.floor((bars.end - x0) / (x1 - x0) * width)
    ok = (row >= 0) & (row < height) & (c1 >= 0) & (c0 < width) & np.isfinite(c0) & np.isfinite(c1)
    row, c0, c1, state = (
        row[ok],
        np.clip(c0[ok], 0, width - 1).astype(np.int64),
        np.clip(c1[ok], 0, width - 1).astype(np.int64),
        bars.state[ok],
    )
    c1 = np.maximum(c1, c0)
    for code in PAINT_ORDER:
        sel = state == code
        if not sel.any():
            continue
        diff = np.zeros((height, width + 1), dtype=np.int32)
        np.add.at(diff, (row[sel], c0[sel]), 1)
        np.add.at(diff, (row[sel], c1[sel] + 1), -1)
        covered = np.cumsum(diff[:, :width], axis=1) > 0
        image[covered] = colors[code]
    return image


class TimelinePlot(AnalysisPlot):
    title = "Timeline"
    key = "timeline"

    def build(self) -> None:
        self.plot = self.canvas.addPlot(axisItems={"bottom": pg.DateAxisItem(utcOffset=None)})
        self.plot.setLabel("left", "trial number")
        self.plot.setLabel("bottom", "time")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.marker = pg.PlotCurveItem()
        self.marker.setZValue(20)
        self.plot.addItem(self.marker)
        self.message = placeholder(self.plot)
        self.bars: analysis.Timeline | None = None
        self._rerender = deferred(self, self.rasterize)
        self.plot.vb.sigRangeChanged.connect(self._range_changed)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.full_range = None
        # pyqtgraph's "auto range" button would fit the image, i.e. the current view: fit all bars instead
        self.plot.autoBtn.clicked.disconnect()
        self.plot.autoBtn.clicked.connect(self.show_all)

    def show_all(self) -> None:
        if self.full_range is not None:
            self.plot.setRange(xRange=self.full_range[0], yRange=self.full_range[1], padding=0.02)

    def restyle(self) -> None:
        self.marker.setPen(pg.mkPen(self.colors.foreground, width=3))

    def state_colors(self) -> dict[int, tuple[int, int, int, int]]:
        c = self.colors

        def rgba(name: str):
            q = QColor(name)
            return q.red(), q.green(), q.blue(), 255

        return {
            COMPLETE: rgba(c.complete),
            PRUNED: rgba(c.pruned),
            FAIL: rgba(c.fail),
            RUNNING: rgba(c.running),
            WAITING: rgba(c.muted),
        }

    def draw(self) -> None:
        table = self.source.table()
        self.bars = bars = analysis.timeline(table)
        if len(bars.numbers) == 0:
            self.image.clear()
            show_message(self.message, self.plot, "No trials yet", self.colors.muted)
            self.set_status("")
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        # The image covers the view itself, so auto-range has nothing to measure: the full extent is set here.
        self.full_range = (
            (float(bars.start.min()), float(bars.end.max())),
            (float(bars.numbers.min()) - 0.5, float(bars.numbers.max()) + 0.5),
        )
        self.plot.vb.disableAutoRange()
        self.plot.setRange(xRange=self.full_range[0], yRange=self.full_range[1], padding=0.02)
        self.rasterize()
        counts = {STATE_NAMES[s]: int((bars.state == s).sum()) for s in PAINT_ORDER if (bars.state == s).any()}
        c = self.colors
        legend = " ".join(
            f'<span style="color:{c.state(name) if name != "WAITING" else c.muted}">■</span> {name.lower()} {n:,}'
            for name, n in counts.items()
        )
        span = float(bars.end.max() - bars.start.min())
        self.status.setTextFormat(pg.QtCore.Qt.TextFormat.RichText)
        self.set_status(f"{legend} · all {len(bars.numbers):,} trials over {span_text(span)}")

    def rasterize(self) -> None:
        if self.bars is None or len(self.bars.numbers) == 0:
            return
        vb = self.plot.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        width, height = max(int(vb.width()), 50), max(int(vb.height()), 50)
        image = rasterize(self.bars, (x0, x1), (y0, y1), width, height, self.state_colors())
        self.image.setImage(image, autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _range_changed(self, *_args) -> None:
        self._rerender.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._range_changed()

    def _clicked(self, event) -> None:
        if self.bars is None or not self.plot.sceneBoundingRect().contains(event.scenePos()):
            return
        p = self.plot.vb.mapSceneToView(event.scenePos())
        number = int(round(p.y()))
        where = np.flatnonzero(self.bars.numbers == number)
        if len(where) and self.bars.start[where[0]] - 60 <= p.x():
            self.selection.select(number)

    def highlight(self, number) -> None:
        b = self.bars
        where = np.flatnonzero(b.numbers == number) if b is not None and number is not None else []
        if len(where) == 0:
            self.marker.setData([], [])
            return
        i = where[0]
        self.marker.setData([b.start[i], b.end[i]], [float(number), float(number)])

    def csv_columns(self) -> dict:
        b = self.bars
        if b is None:
            return {"number": []}

        def iso(seconds):
            return [str(np.datetime64(int(round(s * 1e6)), "us")) + "Z" for s in seconds]

        return {
            "number": b.numbers,
            "state": [STATE_NAMES[s] for s in b.state.tolist()],
            "start": iso(b.start),
            "end": iso(b.end),
            "duration_s": b.duration,
        }
