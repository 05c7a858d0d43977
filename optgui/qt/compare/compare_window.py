"""The Compare window (Study ▸ Compare studies…): pick 2–8 studies of the open file and of any other file, then see
the definition diff (rows that differ highlighted) and overlays — best so far by trial and by wall time, EDF,
final bests of seed replicates, parameter importance side by side, 2-objective Pareto fronts. Every view exports
PNG, SVG and CSV; a best-so-far step of the study shown in the main window selects its trial there. The studies
are read and the data computed in a background task (optgui.qt.tasks)."""

from __future__ import annotations

import traceback
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from optgui.core import analysis
from optgui.core.compare import MAX_STUDIES, MIN_STUDIES
from optgui.core.errors import OptguiError
from optgui.core.storage import StudyRef, open_reader
from optgui.qt import dialogs, theme
from optgui.qt.compare.overlays import Overlays, build_overlays, csv_columns, final_bests, top_params
from optgui.qt.tasks.tasks import TaskError, TaskSlot
from optgui.qt.workbench.plot_export import export_plot

PALETTE = ("#2f6db5", "#d4560b", "#1a7f37", "#8250df", "#cf222e", "#9a6700", "#0998a8", "#bf3989")
VIEWS = (
    ("best-by-trial", "Best so far"),
    ("best-by-time", "Best vs time"),
    ("edf", "EDF"),
    ("final-best", "Final best"),
    ("importance", "Importance"),
    ("pareto", "Pareto fronts"),
)
IMAGE_FILTER = "PNG image (*.png);;SVG image (*.svg)"
CSV_FILTER = "CSV files (*.csv)"


class OverlayView(QWidget):
    """One overlay: a plot and its export buttons."""

    def __init__(self, key: str, owner: CompareWindow):
        super().__init__()
        self.key, self.owner = key, owner
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(theme.colors().background)
        self.plot = self.canvas.addPlot()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # values as stored, never "(x0.001)"
        # Bars fill the top of the importance view; curves fall towards the bottom right elsewhere.
        self.legend = self.plot.addLegend(offset=(-10, -10) if key == "importance" else (-10, 10))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        for text, slot in (("PNG…", self.export_png), ("SVG…", self.export_svg), ("CSV…", self.export_csv)):
            button = QPushButton(text)
            button.setObjectName(f"export-{self.key}-{text[:3].lower()}")
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(buttons)

    def clear(self) -> None:
        self.plot.clear()
        self.legend.clear()
        self.message.setText("")

    def export_png(self, path: str | None = None) -> str | None:
        return self._export_image(path, ".png")

    def export_svg(self, path: str | None = None) -> str | None:
        return self._export_image(path, ".svg")

    def _export_image(self, path: str | None, suffix: str) -> str | None:
        path = path or dialogs.save_file(self, "Export the view", f"compare-{self.key}{suffix}", IMAGE_FILTER)
        if path:
            export_plot(self.canvas, path)
        return path

    def export_csv(self, path: str | None = None) -> str | None:
        if self.owner.overlays is None:
            return None
        path = path or dialogs.save_file(self, "Export the view's data", f"compare-{self.key}.csv", CSV_FILTER)
        if path:
            analysis.write_csv(path, csv_columns(self.owner.overlays, self.key))
        return path


class CompareWindow(QWidget):
    """A top-level window beside the main window; `main` gives the open storage and the shared selection."""

    def __init__(self, main: Any):
        super().__init__(main, Qt.WindowType.Window)
        self.main = main
        self.setWindowTitle("Compare studies — optgui")
        self.resize(1000, 700)
        self.overlays: Overlays | None = None
        self.slot = TaskSlot(self, "compare")
        self.studies = QListWidget()
        self.studies.setObjectName("compareStudies")
        self.studies.setToolTip(f"Tick {MIN_STUDIES} to {MAX_STUDIES} studies")
        add_file = QPushButton("Add file…")
        add_file.clicked.connect(lambda: self.add_file())
        self.compare_button = QPushButton("Compare")
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self.compare)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Studies"))
        left_layout.addWidget(self.studies, 1)
        left_layout.addWidget(add_file)
        left_layout.addWidget(self.compare_button)
        left_layout.addWidget(self.status)
        self.tabs = QTabWidget()
        self.definition = QTableWidget()
        self.definition.setObjectName("compareDefinition")
        self.definition.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.definition.setWordWrap(False)
        self.tabs.addTab(self.definition, "Definition")
        self.views: dict[str, OverlayView] = {}
        for key, title in VIEWS:
            self.views[key] = OverlayView(key, self)
            self.tabs.addTab(self.views[key], title)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 770])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._fill_from_main()

    # --- picking studies ----------------------------------------------------------------------------------
    def _fill_from_main(self) -> None:
        storage = getattr(self.main, "storage", None)
        if storage is None or self.main.reader is None:
            return
        shown = self.main.study_view.summary.name if self.main.study_view.summary is not None else None
        names = [s.name for s in self.main.study_list.model._all]
        self.add_studies(storage, self.main.reader.display, names, checked={shown} if shown else set())

    def add_studies(self, storage: str, display: str, names: list[str], checked: Collection[str] = ()) -> None:
        known = {self.studies.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.studies.count())}
        for name in names:
            ref = StudyRef(f"{storage}#{name}", storage, name)
            if ref in known:
                continue
            item = QListWidgetItem(f"{name}  ·  {Path(display).name}")
            item.setToolTip(f"{display}#{name}")
            item.setData(Qt.ItemDataRole.UserRole, ref)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
            self.studies.addItem(item)

    def add_file(self, path: str | None = None) -> bool:
        path = path or dialogs.open_file(self, "Add a study file to compare")
        if not path:
            return False
        try:
            with open_reader(path) as reader:
                names, display = reader.study_names(), reader.display
        except OptguiError as exc:
            dialogs.error(self, "Cannot open the file", str(exc))
            return False
        self.add_studies(path, display, names)
        return True

    def set_checked(self, refs: list[StudyRef]) -> None:
        for i in range(self.studies.count()):
            item = self.studies.item(i)
            state = Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in refs else Qt.CheckState.Unchecked
            item.setCheckState(state)

    def checked_refs(self) -> list[StudyRef]:
        items = [self.studies.item(i) for i in range(self.studies.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]

    # --- comparing ----------------------------------------------------------------------------------------
    def compare(self) -> None:
        refs = self.checked_refs()
        if not MIN_STUDIES <= len(refs) <= MAX_STUDIES:
            dialogs.error(self, "Compare studies", f"Tick {MIN_STUDIES} to {MAX_STUDIES} studies ({len(refs)} ticked).")
            return
        self.status.setText(f"Reading {len(refs)} studies…")
        self.compare_button.setEnabled(False)
        self.slot.start(lambda _state: build_overlays(refs), returned=self.show_overlays, errored=self._failed)

    def _failed(self, error: TaskError) -> None:
        self.compare_button.setEnabled(True)
        self.status.setText("")
        exc = error.exception
        if isinstance(exc, OptguiError):
            dialogs.error(self, "Cannot compare", str(exc))
        else:
            dialogs.error(self, "Cannot compare", f"{exc.__class__.__name__}: {exc}", error.details)

    def show_overlays(self, overlays: Overlays) -> None:
        self.compare_button.setEnabled(True)
        self.overlays = overlays
        self.status.setText("; ".join(overlays.notes))
        self._show_definition(overlays)
        for view in self.views.values():
            view.clear()
        try:
            self._draw_best(overlays)
            self._draw_edf(overlays)
            self._draw_final_best(overlays)
            self._draw_importance(overlays)
            self._draw_pareto(overlays)
        except Exception as exc:  # noqa: BLE001 - a drawing failure must not lose the definition diff
            dialogs.error(self, "Cannot draw a view", f"{exc.__class__.__name__}: {exc}", traceback.format_exc())

    def _color(self, index: int) -> QColor:
        return QColor(PALETTE[index % len(PALETTE)])

    def _show_definition(self, overlays: Overlays) -> None:
        rows = overlays.comparison.rows
        table = self.definition
        table.clear()
        table.setColumnCount(len(overlays.labels))
        table.setRowCount(len(rows))
        table.setHorizontalHeaderLabels(list(overlays.labels))
        table.setVerticalHeaderLabels([f"{r.section}: {r.field}" for r in rows])
        bold = QFont()
        bold.setBold(True)
        highlight = QBrush(QColor(theme.colors().warn))
        for i, row in enumerate(rows):
            for j, value in enumerate(row.values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                if row.differs:
                    item.setFont(bold)
                    item.setForeground(highlight)
                table.setItem(i, j, item)
        table.resizeColumnsToContents()
        for j in range(table.columnCount()):
            table.setColumnWidth(j, min(table.columnWidth(j), 320))

    def _draw_best(self, overlays: Overlays) -> None:
        for key, curves, x_label in (
            ("best-by-trial", overlays.by_trial, "trial number"),
            ("best-by-time", overlays.by_time, "seconds since the first trial started"),
        ):
            view = self.views[key]
            view.plot.setLabel("bottom", x_label)
            view.plot.setLabel("left", "best value so far")
            for i, (label, curve) in enumerate(curves.items()):
                pen = pg.mkPen(self._color(i), width=2)
                view.plot.plot(*staircase(curve.x, curve.y), pen=pen, name=label, connect="finite")
                if key == "best-by-trial" and len(curve.x) > 1:
                    points = pg.ScatterPlotItem(
                        curve.x[:-1], curve.y[:-1], size=7, brush=self._color(i), data=curve.numbers[:-1]
                    )
                    points.sigClicked.connect(lambda _item, pts, _event=None, lab=label: self._point_clicked(lab, pts))
                    view.plot.addItem(points)

    def _point_clicked(self, label: str, points: Any) -> None:
        if not len(points) or self.overlays is None:
            return
        number = int(points[0].data())
        study = next(s for s in self.overlays.comparison.studies if s.label == label)
        view = self.main.study_view
        shown = view.summary is not None and view.summary.name == study.name and view.storage == study.ref.storage
        if shown:
            view.selection.select(number)
            self.status.setText(f"Trial {number} of {label} selected in the main window")
        else:
            self.status.setText(f"Trial {number} of {label} (open that study to select it)")

    def _draw_edf(self, overlays: Overlays) -> None:
        view, edf = self.views["edf"], overlays.edf
        view.plot.setLabel("bottom", "objective value")
        view.plot.setLabel("left", "cumulative probability")
        if edf is None or not edf.names:
            view.message.setText("No COMPLETE trials")
            return
        for i, (name, ys) in enumerate(zip(edf.names, edf.y, strict=True)):
            view.plot.plot(edf.x, ys, pen=pg.mkPen(self._color(i), width=2), name=name)

    def _draw_final_best(self, overlays: Overlays) -> None:
        view = self.views["final-best"]
        view.plot.setLabel("left", "final best value")
        groups = final_bests(overlays)
        ticks = []
        for g, (title, spread) in enumerate(groups):
            ticks.append((g, title))
            labels = list(overlays.labels)
            for k, (label, value) in enumerate(zip(spread.labels, spread.values, strict=True)):
                x = g + (k - (len(spread.values) - 1) / 2) * 0.06  # a deterministic spread, no random jitter
                color = self._color(labels.index(label))
                view.plot.addItem(pg.ScatterPlotItem([x], [value], size=10, brush=color, name=label))
            if spread.values:
                box = pg.BarGraphItem(x=[g], height=[spread.q3 - spread.q1], y0=[spread.q1], width=0.5, brush=None)
                view.plot.addItem(box)
                view.plot.plot([g - 0.3, g + 0.3], [spread.median] * 2, pen=pg.mkPen("#888", width=3))
        view.plot.getAxis("bottom").setTicks([ticks])
        view.plot.setXRange(-0.6, len(groups) - 0.4)
        texts = [
            f"{title}: median {s.median:.6g}, range {s.minimum:.6g}…{s.maximum:.6g}" for title, s in groups if s.values
        ]
        view.message.setText("; ".join(texts) + " (box: interquartile range; bar: median)")

    def _draw_importance(self, overlays: Overlays) -> None:
        view = self.views["importance"]
        params = top_params(overlays.importances)
        if not params:
            view.message.setText("Importance needs single-objective studies with COMPLETE trials")
            return
        n = max(len(overlays.importances), 1)
        height = 0.8 / n
        for i, (label, imp) in enumerate(overlays.importances.items()):
            y = np.arange(len(params)) + (i - (n - 1) / 2) * height
            widths = [imp.get(p, 0.0) for p in params]
            bars = pg.BarGraphItem(x0=0, y=y, height=height, width=widths, brush=self._color(i), name=label)
            view.plot.addItem(bars)
        view.plot.getAxis("left").setTicks([list(enumerate(params))])
        view.plot.setLabel("bottom", "importance (PED-ANOVA, normalized)")
        view.plot.invertY(True)

    def _draw_pareto(self, overlays: Overlays) -> None:
        view = self.views["pareto"]
        if not overlays.fronts or len(overlays.fronts) != len(overlays.labels):
            view.message.setText("Pareto fronts need studies with 2 objectives")
            return
        view.plot.setLabel("bottom", "objective 0")
        view.plot.setLabel("left", "objective 1")
        for i, (label, front) in enumerate(overlays.fronts.items()):
            color = self._color(i)
            view.plot.plot(front[:, 0], front[:, 1], pen=pg.mkPen(color, width=1), symbol="o", symbolBrush=color,
                           symbolSize=7, name=label)  # fmt: skip


def staircase(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Steps through (x[i], y[i]): the best holds until the next change (horizontal, then vertical)."""
    if len(x) < 2:
        return x, y
    xs = np.repeat(x, 2)[1:]
    ys = np.repeat(y, 2)[:-1]
    return xs, ys


def install_compare_action(window: Any, menu: Any) -> QAction:
    """Study ▸ Compare studies…: opens (or raises) the window's Compare window."""
    action = QAction("Compare s&tudies…", window)
    action.setStatusTip("Compare 2–8 studies of this and other files: definitions and results side by side")

    def show() -> None:
        compare = getattr(window, "compare_window", None)
        if compare is None:
            compare = window.compare_window = CompareWindow(window)
        else:
            compare._fill_from_main()
        compare.show()
        compare.raise_()

    action.triggered.connect(show)
    menu.addAction(action)
    return action
