"""LineItem: a polyline in data coordinates that Qt draws by itself.

The convergence plot's best-so-far line is a staircase of at most a few points per pixel column. pyqtgraph's curve
items recompute their bounds in pixels (with the pen's width) and re-enter Python on every repaint: ~1 ms of each live
update at 100k trials, for a line that changes little. Here the line is a QGraphicsPathItem with a cosmetic pen: its
path is built once per change, and repaints stay in C++. Non-finite points break the line (pyqtgraph's
connect="finite").
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsPathItem


class LineItem(QGraphicsPathItem):
    def __init__(self, pen=None):
        super().__init__()
        self._x = np.empty(0)
        self._y = np.empty(0)
        self.setPen(pen)

    def setPen(self, pen) -> None:  # noqa: N802 - Qt's name
        pen = pg.mkPen(pen)
        pen.setCosmetic(True)  # the width is in pixels, whatever the zoom
        super().setPen(pen)

    def setData(self, x, y) -> None:  # noqa: N802 - pyqtgraph's name
        self._x = np.asarray(x, dtype=float).copy()
        self._y = np.asarray(y, dtype=float).copy()
        if len(self._x):
            self.setPath(pg.arrayToQPath(self._x, self._y, connect="finite"))
        else:
            self.setPath(pg.QtGui.QPainterPath())

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802 - pyqtgraph's name
        return self._x, self._y

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 - what pyqtgraph's auto range asks
        values = (self._x, self._y)[ax]
        finite = values[np.isfinite(values)]
        if not len(finite):
            return None, None
        return float(finite.min()), float(finite.max())
