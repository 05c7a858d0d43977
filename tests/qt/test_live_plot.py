"""The convergence plot's live updates: new trials are appended (not every point re-set), the x range follows in
steps, what is drawn is real trials with each pixel column's extremes, and zoom/log still show the right points."""

from __future__ import annotations

import numpy as np

from optgui.core.engine._trial_store import TrialStore
from optgui.core.storage._tables import COMPLETE, FAIL, PRUNED, TrialTable
from optgui.qt.plots import convergence_plot
from optgui.qt.plots.convergence_plot import ConvergencePlot, staircase


def _table(numbers, states, values):
    n = len(numbers)
    nat = np.full(n, np.datetime64("NaT", "us"))
    return TrialTable(
        "s",
        ("minimize",),
        np.asarray(numbers) + 1,
        np.asarray(numbers),
        np.asarray(states, dtype=np.int8),
        np.asarray(values, dtype=float).reshape(n, 1),
        nat,
        nat,
        np.full(n, np.nan),
    )


def _trials(rng, start, k):
    numbers = np.arange(start, start + k)
    states = rng.choice([COMPLETE] * 90 + [PRUNED] * 7 + [FAIL] * 3, size=k)
    values = np.where(states == FAIL, np.nan, rng.lognormal(0, 1, k) * 10 / (1 + numbers) ** 0.5)
    return _table(numbers, states, values)


def _drawn(item) -> tuple[np.ndarray, np.ndarray]:
    x, y = item.getData()
    return np.asarray(x), np.asarray(y)


def _shown_plot(qtbot, data: TrialStore, size=(900, 500)) -> ConvergencePlot:
    plot = ConvergencePlot()
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_data(data)
    return plot


def test_live_updates_append_and_keep_real_points_with_each_columns_extremes(qtbot):
    rng = np.random.default_rng(7)
    data = TrialStore(("minimize",))
    data.load(_trials(rng, 0, 20_000))
    plot = _shown_plot(qtbot, data)
    first_count = len(_drawn(plot.complete)[0])
    assert first_count <= 2 * 4 * max(100, int(plot.main.vb.width()))  # thinned: ~2 points per pixel column

    plot.set_live(True)
    ranges = set()
    for _ in range(40):
        before = len(_drawn(plot.complete)[0])
        table = _trials(rng, data.n, 10)
        data.apply(table)
        plot.refresh()
        new_complete = int((table.state == COMPLETE).sum())
        assert len(_drawn(plot.complete)[0]) == before + new_complete  # appended, the rest left as it was
        ranges.add(tuple(plot.main.vb.viewRange()[0]))
    assert len(ranges) <= 2  # the followed x range moves in steps, not on every update
    assert plot.main.vb.viewRange()[0][1] > data.n  # with headroom

    x, y = _drawn(plot.complete)
    cx, cy = data.complete.view()
    # Drawn points are real complete trials' numbers and values (a thinned column shows its lowest and highest
    # value at the column's first trial), and the extremes are among them.
    assert np.isin(x, cx).all() and np.isin(y, cy).all()
    assert y.min() == cy.min() and y.max() == cy.max()  # the extremes are drawn
    bx, by = plot.best.getData()
    assert by[-1] == data.best_value() and bx[-1] == data.n - 1
    assert len(_drawn(plot.failed)[0]) > 0 and plot.strip.isVisible()

    # The run ends: the headroom goes a moment later, in a pass of its own, and a new run cancels that.
    plot.set_live(False)
    assert plot.main.vb.viewRange()[0][1] > data.n
    plot.set_live(True)
    qtbot.wait(2 * convergence_plot.SETTLE_AFTER_RUN_MS)
    assert plot.live and plot.main.vb.viewRange()[0][1] > data.n
    plot.set_live(False)
    qtbot.waitUntil(lambda: not plot.live, timeout=5000)
    assert plot.main.vb.viewRange()[0][1] == data.n - 0.5


def test_zoom_draws_every_trial_in_view_and_log_scale_maps_values(qtbot):
    rng = np.random.default_rng(3)
    data = TrialStore(("minimize",))
    data.load(_trials(rng, 0, 30_000))
    plot = _shown_plot(qtbot, data)
    plot.main.vb.setXRange(1000, 1200, padding=0)  # as a mouse zoom does
    qtbot.waitUntil(lambda: not plot._follow and plot._drawn_key is not None and plot._drawn_key[3] is not None)
    cx, cy = data.complete.view()
    inside = (cx >= 1000) & (cx <= 1200)
    x, _ = _drawn(plot.complete)
    assert set(cx[inside].tolist()) <= set(x.tolist())  # full detail in view
    data.apply(_trials(rng, data.n, 10))  # a live update while zoomed keeps the user's range
    plot.refresh()
    assert plot.main.vb.viewRange()[0] == [1000, 1200]

    plot.set_log_scale(True)
    qtbot.waitUntil(lambda: plot._drawn_key is not None and plot._drawn_key[2])
    # (pyqtgraph's log toggle re-enables auto range: the plot follows all trials again)
    cx, cy = data.complete.view()
    x, y = _drawn(plot.complete)
    assert len(y) and np.isin(y, np.log10(cy)).all() and y.min() == np.log10(cy.min())


def test_best_so_far_staircase_steps_only_where_the_best_improves():
    best = np.array([np.nan, np.nan, 5.0, 5.0, 3.0, 3.0, 3.0, 1.0])
    x, y = staircase(best)
    assert x.tolist() == [2, 4, 4, 7, 7, 7]
    assert y.tolist() == [5.0, 5.0, 3.0, 3.0, 1.0, 1.0]


def test_live_y_range_moves_in_steps_holds_every_value_and_respects_a_vertical_zoom(qtbot):
    rng = np.random.default_rng(11)
    data = TrialStore(("minimize",))
    data.load(_trials(rng, 0, 200))
    plot = _shown_plot(qtbot, data)
    plot.set_live(True)
    ranges = []
    for _ in range(40):
        data.apply(_trials(rng, data.n, 10))
        plot.refresh()
        y0, y1 = plot.main.vb.viewRange()[1]
        _, y = _drawn(plot.complete)
        assert y0 <= np.nanmin(y) and np.nanmax(y) <= y1  # every value stays in view
        ranges.append((y0, y1))
    assert len(set(ranges)) <= 6  # steps with headroom, not a new range (and axis layout) per update

    plot.main.vb.setYRange(0.1, 0.2, padding=0)  # as a vertical mouse zoom does
    data.apply(_trials(rng, data.n, 10))
    plot.refresh()
    assert plot.main.vb.viewRange()[1] == [0.1, 0.2]


def test_points_are_drawn_where_their_trials_are(qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    data = TrialStore(("minimize",))
    data.load(_table([0, 1, 2, 3], [COMPLETE, COMPLETE, PRUNED, COMPLETE], [4.0, 2.0, 3.0, 1.0]))
    plot = _shown_plot(qtbot, data, (600, 400))
    image = plot.view.grab().toImage()
    brush = plot.complete._brush.color()

    def color_near(x, y):
        pos = plot.view.mapFromScene(plot.main.vb.mapViewToScene(QPointF(x, y)))
        return [QColor(image.pixel(pos.x() + dx, pos.y() + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]

    for x, y in ((0, 4.0), (1, 2.0), (3, 1.0)):
        assert any(
            abs(c.red() - brush.red()) + abs(c.green() - brush.green()) + abs(c.blue() - brush.blue()) < 40
            for c in color_near(x, y)
        ), (x, y)
    background = [c for c in color_near(2.5, 3.5)]  # nothing there
    assert not any(
        abs(c.red() - brush.red()) + abs(c.green() - brush.green()) + abs(c.blue() - brush.blue()) < 40
        for c in background
    )


def _line_pixels(x, y, x_range, y_range, size=(600, 300)) -> np.ndarray:
    """The pixels a 2 px line through (x, y) covers on an image of `size` showing x_range × y_range."""
    import pyqtgraph as pg
    from PySide6.QtGui import QColor, QImage, QPainter, QTransform

    width, height = size
    image = QImage(width, height, QImage.Format.Format_Grayscale8)
    image.fill(0)
    painter = QPainter(image)
    sx, sy = width / (x_range[1] - x_range[0]), -height / (y_range[1] - y_range[0])
    painter.setTransform(QTransform(sx, 0, 0, sy, -x_range[0] * sx, -y_range[1] * sy))
    pen = pg.mkPen(QColor("white"), width=2)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.drawPath(pg.arrayToQPath(np.asarray(x, float), np.asarray(y, float), connect="finite"))
    painter.end()
    return np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())[:, :width] > 0


def test_a_best_line_that_improves_on_every_trial_is_thinned_to_the_same_picture():
    rng = np.random.default_rng(3)
    n = 200_000
    drops = rng.exponential(1.0, n) * np.where(rng.random(n) < 0.001, 2000.0, 1.0)  # now and then a big one
    best = np.cumsum(-drops)  # improves on every trial
    x, y = staircase(best)
    assert len(x) == 2 * n
    for x_range in ((-0.5, n - 0.5), (50_000.0, 50_700.0), (123_456.0, 150_000.0)):
        tx, ty = convergence_plot.thin_line(x, y, *x_range, 600)
        shown = (x >= x_range[0]) & (x <= x_range[1])
        assert len(tx) <= 2 * 600 + 4 or len(tx) == shown.sum() + 2
        y_range = (float(y[shown].min()), float(y[shown].max()))
        full = _line_pixels(x, y, x_range, y_range)
        thinned = _line_pixels(tx, ty, x_range, y_range)
        assert full.sum() > 600
        # The same picture up to where a step falls inside its pixel column: every pixel of each is at most one
        # pixel from one of the other.
        assert not (full & ~_grown(thinned)).any() and not (thinned & ~_grown(full)).any(), x_range


def _grown(pixels: np.ndarray) -> np.ndarray:
    """pixels and their 8 neighbours."""
    padded = np.pad(pixels, 1)
    height, width = pixels.shape
    return np.logical_or.reduce(
        [padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    )
