"""FastAxisItem draws what pyqtgraph's AxisItem draws (same ticks, same labels, same places), cheaper."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QPainter, QPicture

from optgui.qt.plots.convergence_plot import ConvergencePlot
from optgui.qt.plots.fast_axis import FastAxisItem

SIDES = ("left", "bottom", "right", "top")


def _both_layouts(axis: FastAxisItem):
    picture = QPicture()
    painter = QPainter(picture)
    try:
        ours = axis.layout_ticks(painter.font())
        theirs = pg.AxisItem.generateDrawSpecs(axis, painter)
    finally:
        painter.end()
    return ours, theirs


def _centers(labels):
    return sorted((box.center().x(), box.center().y()) for box, *_ in labels)


@pytest.fixture
def axes_plot(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    axes = {side: FastAxisItem(side) for side in SIDES}
    plot = widget.addPlot(axisItems=axes)
    widget.show()
    qtbot.waitExposed(widget)
    return plot, axes, widget  # (the widget must outlive the test: it owns the items)


def test_ticks_and_labels_match_pyqtgraph_over_many_ranges(qtbot, axes_plot):
    plot, axes, _ = axes_plot
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(120):
        start = rng.uniform(-1000, 1000) * 10.0 ** rng.integers(-5, 6)
        span = abs(start) * 10.0 ** rng.uniform(-8, 1) + 10.0 ** rng.uniform(-6, 6)
        plot.vb.setRange(xRange=(start, start + span), yRange=(start, start + span), padding=0)
        qtbot.wait(0)
        for side, axis in axes.items():
            assert axis.fast_path()
            ours, (_, their_ticks, their_labels) = _both_layouts(axis)
            assert sorted(t for *_, t in ours.labels) == sorted(t for *_, t in their_labels), (side, start, span)
            assert np.allclose(_centers(ours.labels), _centers(their_labels), atol=0.5), (side, start, span)
            our_lines = sorted(
                (ln.x1(), ln.y1(), ln.x2(), ln.y2(), pen.color().alpha()) for pen, lines in ours.ticks for ln in lines
            )
            their_lines = sorted((a.x(), a.y(), b.x(), b.y(), pen.color().alpha()) for pen, a, b in their_ticks)
            assert len(our_lines) == len(their_lines) > 0
            assert np.allclose(our_lines, their_lines, atol=0.05), (side, start, span)
            compared += len(ours.labels)
    assert compared > 1000


def test_the_convergence_plot_rebuilds_its_axes_without_pyqtgraphs_tick_layout(qtbot, monkeypatch):
    plot = ConvergencePlot()
    qtbot.addWidget(plot)
    plot.resize(900, 560)
    plot.show()
    qtbot.waitExposed(plot)
    slow = []
    original = pg.AxisItem.generateDrawSpecs
    monkeypatch.setattr(pg.AxisItem, "generateDrawSpecs", lambda self, p: slow.append(self) or original(self, p))
    for step in range(5):
        plot.main.vb.setRange(xRange=(0, 100 + 37 * step), yRange=(0, 1 + step), padding=0)
        qtbot.wait(0)
        plot.view.grab()  # paints
    left = plot.main.getAxis("left")
    assert left.picture is not None and left.range[1] == pytest.approx(5)
    # Only the axes with fixed ticks (the right-hand margin and the failed strip's label) take pyqtgraph's way.
    assert all(axis._tickLevels is not None for axis in slow)
    plot.main.setLogMode(y=True)
    assert not left.fast_path()
    slow.clear()
    plot.main.vb.setYRange(-3, 2, padding=0)
    qtbot.wait(0)
    plot.view.grab()
    assert left in slow  # log ticks (10^k labels) stay pyqtgraph's


def test_the_title_is_set_again_only_when_it_changes(qtbot, axes_plot):
    plot, axes, _ = axes_plot
    axis = axes["left"]
    axis.setLabel("objective value")
    document = axis.label.document()
    revision = document.revision()
    for k in range(5):
        plot.vb.setYRange(0, 10 + k, padding=0)
    assert document.revision() == revision  # range changes did not re-set the rich text
    axis.setLabel("loss")
    assert "loss" in axis.label.toPlainText()
