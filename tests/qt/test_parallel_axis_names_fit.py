"""In a narrow window the parallel-coordinates plot keeps its first and last axis names inside the canvas (issue
18, item 8: "Objective Value" showed as "jective Value" at 1000 px)."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QGraphicsItem

from optgui.core.storage._reader import open_reader
from optgui.qt import theme
from optgui.qt.plots.panel import AnalysisPanel
from optgui.qt.study.selection import TrialSelection
from tests.support.studies import plain_study


def _objective(trial):
    activation = trial.suggest_categorical("activation", ["sigmoid", "relu", "tanh"])
    return trial.suggest_float("x", -1, 1) ** 2 + (activation == "relu")


def test_the_outer_axis_names_stay_inside_the_canvas(qapp, qtbot, tmp_path):
    if theme.current() is None:
        theme.install(qapp, "light")
    db = plain_study(tmp_path / "s.db", trials=20, objective=_objective)
    reader = open_reader(str(db))
    try:
        panel = AnalysisPanel(TrialSelection())
        qtbot.addWidget(panel)
        panel.resize(430, 560)  # the analysis area of a 1000 px window
        panel.show()
        panel.open(reader, reader.studies()[0])
        view = panel.show_view("parallel-coordinates")
        view.canvas.setFixedWidth(270)  # what the plot gets in a 1000 px window
        view.redraw()
        qtbot.wait(50)
        ticks = view.plot.getAxis("bottom")._tickLevels[0]
        metrics = QFontMetrics(view.plot.getAxis("bottom").font())
        canvas_width = view.canvas.width()
        for x, name in (ticks[0], ticks[-1]):
            centre = view.canvas.mapFromScene(view.vb.mapViewToScene(QPointF(x, 0))).x()
            half = metrics.horizontalAdvance(name) / 2
            assert centre - half >= 0 and centre + half <= canvas_width, (name, centre, half, canvas_width)
        # the last axis' values, written to its right: inside the canvas, and not cut off by the view box
        values = QFontMetrics(QApplication.font())
        clips = bool(view.vb.flags() & QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        box_right = view.vb.sceneBoundingRect().right()
        for label in view.labels[-3:]:
            left = view.canvas.mapFromScene(view.vb.mapViewToScene(label.pos())).x()
            text = label.textItem.toPlainText()
            assert left + values.horizontalAdvance(text) <= canvas_width, text
            assert not clips or label.sceneBoundingRect().right() <= box_right, f"{text!r} is cut by the view box"
    finally:
        from optgui.qt.tasks import tasks

        tasks.wait_for_all(60000)
        reader.close()
