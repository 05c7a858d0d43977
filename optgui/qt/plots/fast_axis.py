"""An axis item whose tick picture is cheap to rebuild.

pyqtgraph's AxisItem rebuilds its picture (tick lines and labels) whenever its range changes: 2-3 ms of Python per
axis, spent on a Point object per tick end, a font query per label and a pen change per line. A live convergence
plot changes its ranges as trials arrive, so that rebuild landed in the same event-loop pass as the update that
caused it and made the GUI's longest stalls. FastAxisItem lays out the same ticks with the same rules (pyqtgraph's
own tickSpacing and tickStrings, the same tick lengths, alphas, text offsets and crowding limits), but computes
positions with numpy, measures each label string once and draws each tick level with one call. Log mode, fixed
ticks, grids and the less common styles are left to pyqtgraph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPicture

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
    "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
}
_TEXT_FLAGS = {side: int(flags | Qt.TextFlag.TextDontClip) for side, flags in _ALIGN.items()}
# Labels are measured as pyqtgraph measures them (a layout box, then 80% of its height: font boxes run tall).
_MEASURE_BOX = QRectF(0, 0, 100, 100)
_LABEL_HEIGHT = 0.8


@dataclass(frozen=True)
class AxisLayout:
    """What one rebuild draws, in the axis item's coordinates."""

    line: QLineF
    ticks: list[tuple[QPen, list[QLineF]]]  # one entry per tick level, major first
    labels: list[tuple[QRectF, int, str]]  # (box, text flags, text)
    thickness: float  # widest (vertical axis) or tallest (horizontal axis) label drawn; sizes the axis


class FastAxisItem(pg.AxisItem):
    # Class-level defaults: pyqtgraph's constructor already sets the range and the title through our overrides.
    _label_html: str | None = None  # the title as last set
    _measured_font: str | None = None  # font key of the cached label sizes

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self._label_sizes: dict[str, tuple[float, float]] = {}
        self.whole_numbers = False  # set_whole_numbers()

    def set_whole_numbers(self) -> None:
        """An axis of trial numbers: ticks on integers only, and never an SI prefix (a range of a few trials was
        labelled "-500 … 500 (x0.001)", half trials as 2.5)."""
        self.whole_numbers = True
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph's name
        levels = super().tickSpacing(minVal, maxVal, size)
        if not self.whole_numbers:
            return levels
        whole = [(spacing, offset) for spacing, offset in levels if spacing >= 1]
        return whole or [(1.0, 0.0)]

    def fast_path(self) -> bool:
        """Whether this axis is drawn by layout() (else by pyqtgraph)."""
        style = self.style
        return (
            not self.logMode
            and self._tickLevels is None
            and self.grid is False
            and style["tickAlpha"] is None
            and tuple(style["stopAxisAtTick"]) == (False, False)
        )

    def paint(self, p, opt, widget):
        if self.picture is None and self.fast_path():
            picture = QPicture()
            painter = QPainter(picture)
            try:
                if self.style["tickFont"] is not None:
                    painter.setFont(self.style["tickFont"])
                layout = self.layout_ticks(painter.font())
                if layout is not None:
                    self._draw(painter, layout)
            finally:
                painter.end()
            if layout is not None:  # (first: a size update drops the picture)
                self._updateMaxTextSize(layout.thickness)
            self.picture = picture
        super().paint(p, opt, widget)  # plays the picture (pyqtgraph builds it when not on the fast path)

    def _updateLabel(self):
        """pyqtgraph re-sets the axis title (rich text, then a size check) on every range change; only a changed
        title needs that."""
        html = self.labelString()
        if html != self._label_html:
            self._label_html = html
            super()._updateLabel()
        else:
            self.picture = None
            self.update()

    def _label_size(self, text: str, metrics: QFontMetricsF) -> tuple[float, float]:
        size = self._label_sizes.get(text)
        if size is None:
            box = metrics.boundingRect(_MEASURE_BOX, int(Qt.AlignmentFlag.AlignCenter), text)
            size = self._label_sizes[text] = (box.width(), box.height() * _LABEL_HEIGHT)
        return size

    def layout_ticks(self, font: QFont) -> AxisLayout | None:
        side = self.orientation
        vertical = side in ("left", "right")
        bounds = self.mapRectFromParent(self.geometry())
        # The scene is not scaled in our views, so item units are pixels.
        length = bounds.height() + 2 if vertical else bounds.width() + 2
        r0, r1 = self.range
        if r1 == r0 or length <= 2:
            return None
        if side == "left":
            line = QLineF(bounds.right() - 1, bounds.top() - 1, bounds.right() - 1, bounds.bottom() + 1)
            edge, outward = bounds.right(), -1
        elif side == "right":
            line = QLineF(bounds.left() + 1, bounds.top() - 1, bounds.left() + 1, bounds.bottom() + 1)
            edge, outward = bounds.left(), 1
        elif side == "top":
            line = QLineF(bounds.left() - 1, bounds.bottom() - 1, bounds.right() + 1, bounds.bottom() - 1)
            edge, outward = bounds.bottom(), -1
        else:
            line = QLineF(bounds.left() - 1, bounds.top() + 1, bounds.right() + 1, bounds.top() + 1)
            edge, outward = bounds.top(), 1

        # Pixel position of a value along the axis: up from the bottom for a vertical axis, else right from the left.
        if vertical:
            per_unit, origin = -bounds.height() / (r1 - r0), bounds.bottom()
        else:
            per_unit, origin = bounds.width() / (r1 - r0), bounds.left()
        lo, hi = sorted((r0, r1))
        scale = self.scale
        levels, taken = [], np.empty(0)
        for spacing, offset in self.tickSpacing(lo * scale, hi * scale, length):
            first = math.ceil((lo * scale - offset) / spacing)
            count = int((hi * scale - (first * spacing + offset)) / spacing) + 1
            values = np.arange(max(count, 0)) * spacing + (first * spacing + offset)
            if len(taken) and len(values):  # a tick already drawn by a longer level is not drawn again
                values = values[np.abs(values[:, None] - taken[None, :]).min(axis=1) > spacing * 0.01]
            taken = np.concatenate((taken, values))
            levels.append((spacing / scale, values / scale))

        tick_length = self.style["tickLength"]
        base_pen = self.tickPen()
        solid = base_pen.brush().style() == Qt.BrushStyle.SolidPattern
        ticks, positions = [], []
        for i, (_, values) in enumerate(levels):
            at = origin + (values - r0) * per_unit
            positions.append(at)
            pen = base_pen
            if solid:
                pen = QPen(base_pen)
                color = QColor(pen.color())
                color.setAlpha(int(255 / (i + 1)))
                pen.setColor(color)
            tip = edge + outward * tick_length / (1 + 0.5 * i)
            if vertical:
                lines = [QLineF(edge, y, tip, y) for y in at.tolist()]
            else:
                lines = [QLineF(x, edge, x, tip) for x in at.tolist()]
            ticks.append((pen, lines))

        labels: list[tuple[QRectF, int, str]] = []
        thickness = 0.0
        if not self.style["showValues"]:
            return AxisLayout(line, ticks, labels, thickness)
        key = font.key()
        if key != self._measured_font:
            self._label_sizes.clear()
            self._measured_font = key
        metrics = QFontMetricsF(font)
        gap = max(0, tick_length) + self.style["tickTextOffset"][0 if vertical else 1]
        keep_in = self.boundingRect()
        flags = _TEXT_FLAGS[side]
        filled = 0.0  # label extent along the axis, all levels so far (pyqtgraph's crowding measure)
        for i, (spacing, values) in enumerate(levels[: self.style["maxTextLevel"] + 1]):
            if not len(values):
                continue
            strings = self.tickStrings(values.tolist(), self.autoSIPrefixScale * scale, spacing)
            sizes = [self._label_size(s, metrics) for s in strings]
            filled += sum(h if vertical else w for w, h in sizes)
            if i > 0 and any(
                len(labels) >= shown and filled / length >= limit for shown, limit in self.style["textFillLimits"]
            ):
                break
            thickness = max(thickness, max(w if vertical else h for w, h in sizes))
            for text, (w, h), at in zip(strings, sizes, positions[i].tolist(), strict=False):
                if side == "left":
                    box = QRectF(edge - gap - w, at - h / 2, w, h)
                elif side == "right":
                    box = QRectF(edge + gap, at - h / 2, w, h)
                elif side == "top":
                    box = QRectF(at - w / 2, edge - gap - h, w, h)
                else:
                    box = QRectF(at - w / 2, edge + gap, w, h)
                if keep_in.contains(box):
                    labels.append((box, flags, text))
        return AxisLayout(line, ticks, labels, thickness)

    def _draw(self, painter: QPainter, layout: AxisLayout) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setPen(self.pen())
        painter.drawLine(layout.line)
        for pen, lines in layout.ticks:
            if lines:
                painter.setPen(pen)
                painter.drawLines(lines)
        if layout.labels:
            painter.setPen(self.textPen())
            painter.setClipRect(self.boundingRect().toAlignedRect())
            for box, flags, text in layout.labels:
                painter.drawText(box, flags, text)
