"""With many axes in a narrow window, the parallel-coordinates plot draws no text over another one: the axis names
are elided to the room between two axes, and an axis' values that do not fit before the next axis are hidden
(issue 18, item 8: names and values of neighbouring axes overlapped)."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from optgui.core.storage._reader import open_reader
from optgui.qt import theme
from optgui.qt.plots.panel import AnalysisPanel
from optgui.qt.study.selection import TrialSelection
from tests.support.studies import plain_study

PARAMS = [f"learning_rate_of_layer_{i}" for i in range(11)]


def _objective(trial):
    return sum(trial.suggest_float(name, -1, 1) ** 2 for name in PARAMS)


def _canvas_x(view, x: float) -> float:
    return view.canvas.mapFromScene(view.vb.mapViewToScene(QPointF(x, 0))).x()


def test_many_axes_draw_no_text_over_another(qapp, qtbot, tmp_path):
    if theme.current() is None:
        theme.install(qapp, "light")
    db = plain_study(tmp_path / "s.db", trials=15, objective=_objective)
    reader = open_reader(str(db))
    try:
        panel = AnalysisPanel(TrialSelection())
        qtbot.addWidget(panel)
        panel.resize(430, 560)
        panel.show()
        panel.open(reader, reader.studies()[0])
        view = panel.show_view("parallel-coordinates")
        view.canvas.setFixedWidth(400)
        view.redraw()
        qtbot.wait(50)
        assert view.n_axes == len(PARAMS) + 1
        ticks = view.plot.getAxis("bottom")._tickLevels[0]
        metrics = QFontMetrics(view.plot.getAxis("bottom").font())
        spans = []
        named = [(x, name) for x, name in ticks if name]
        assert len(named) >= 2 and len(named) < len(ticks)  # not every axis has room for its name, some do
        for x, name in named:
            centre, half = _canvas_x(view, x), metrics.horizontalAdvance(name) / 2
            spans.append((centre - half, centre + half))
        for (_, right), (left, _) in zip(spans, spans[1:], strict=False):
            assert right <= left, f"axis names overlap: {ticks}"
        assert all(len(name) >= 5 for _, name in named)  # names that say something
        values = QFontMetrics(QApplication.font())
        for axis, labels in enumerate(view._labels_by_axis[:-1]):
            next_axis = _canvas_x(view, axis + 1)
            for label in labels:
                if label.isVisible():
                    left = _canvas_x(view, label.pos().x())
                    assert left + values.horizontalAdvance(label.textItem.toPlainText()) < next_axis, axis
        assert all(label.isVisible() for label in view._labels_by_axis[-1])  # the last axis keeps its scale

        view.canvas.setFixedWidth(1400)  # room enough: every axis named, every scale shown
        qtbot.waitUntil(lambda: all(label.isVisible() for label in view.labels), timeout=5000)
        shown = [name for _, name in view.plot.getAxis("bottom")._tickLevels[0]]
        assert shown[0] == "Objective Value", shown
        assert all(name.startswith("learn") and "_" in name for name in shown[1:]), shown
    finally:
        from optgui.qt.tasks import tasks

        tasks.wait_for_all(60000)
        reader.close()
