"""The studies of the open storage: a flat table model over the reader's summaries, with its own sort and a
name filter (Find)."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from optgui.core.health import RunHealth
from optgui.core.storage import StudySummary
from optgui.qt import theme
from optgui.qt.flow_layout import FlowLayout

# The root index, as Qt's model API takes for a flat table (one instance: no call in default arguments).
_NO_PARENT = QModelIndex()

COLUMNS = (
    "Study",
    "Direction",
    "Trials",
    "Complete",
    "Pruned",
    "Failed",
    "Running",
    "Best",
    "Last activity",
    "optgui",
    "Health",
)
HEALTH = COLUMNS.index("Health")
# Which columns a narrow list keeps, most important first (the health before the best value: a list watched during
# runs must say which one stalls): the list shows the first ones that fit whole beside the
# study's name (which takes the rest and elides); the others are in each row's tooltip. (At 1000 px the list showed
# Study and Direction and a scroll bar: no trial count, no best value.)
COLUMN_PRIORITY = (0, 2, HEALTH, 7, 5, 6, 1, 3, 4, 8, 9)
STUDY_COLUMN_MIN = 96  # px the study's name keeps before a column gives way to it


def _best(s: StudySummary) -> str:
    if not s.best_values:
        return "—"
    return ", ".join(f"{v:.6g}" for v in s.best_values)


def _when(value) -> str:
    if value is None or np.isnat(value):
        return "—"
    return str(value.astype("datetime64[s]")).replace("T", " ") + " UTC"


class StudyTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._all: list[StudySummary] = []
        self.rows: list[StudySummary] = []
        self._filter = ""
        self._sort = (0, Qt.SortOrder.AscendingOrder)
        # Each study's run health (the core's, as `optgui inspect` says it), read in the background: a study not
        # read yet has none; None when its trials could not be read.
        self.health: dict[str, RunHealth | None] = {}

    def set_health(self, health: dict[str, RunHealth | None]) -> None:
        self.health = dict(health)
        if self.rows:
            self.dataChanged.emit(self.index(0, HEALTH), self.index(len(self.rows) - 1, HEALTH))
            if self._sort[0] == HEALTH:
                self.sort(*self._sort)

    def set_health_of(self, name: str, health: RunHealth | None) -> None:
        self.health[name] = health
        row = self.row_of(name)
        if row is not None:
            self.dataChanged.emit(self.index(row, HEALTH), self.index(row, HEALTH))

    def health_text(self, name: str) -> str:
        """What the Health column shows: the state as `optgui inspect` prints it ("?" when it could not be read),
        "…" while it is being read."""
        if name not in self.health:
            return "…"
        health = self.health[name]
        return "?" if health is None else str(health.state)

    def set_summaries(self, summaries: list[StudySummary]) -> None:
        self.beginResetModel()
        self._all = list(summaries)
        self._apply()
        self.endResetModel()

    def set_filter(self, text: str) -> None:
        self.beginResetModel()
        self._filter = text.strip().lower()
        self._apply()
        self.endResetModel()

    def _apply(self) -> None:
        rows = [s for s in self._all if self._filter in s.name.lower()]
        column, order = self._sort
        rows.sort(key=lambda s: self._key(s, column), reverse=order == Qt.SortOrder.DescendingOrder)
        self.rows = rows

    def _key(self, s: StudySummary, column: int):
        if column == HEALTH:
            return self.health_text(s.name)
        counts = s.state_counts
        return {
            0: s.name.lower(),
            1: s.directions,
            2: s.n_trials,
            3: counts.get("COMPLETE", 0),
            4: counts.get("PRUNED", 0),
            5: counts.get("FAIL", 0),
            6: counts.get("RUNNING", 0),
            7: (s.best_values or (float("inf"),))[0],
            8: "" if np.isnat(s.last_activity) else str(s.last_activity),
            9: bool(s.optgui_metadata),
        }[column]

    def rowCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        s = self.rows[index.row()]
        col = index.column()
        counts = s.state_counts
        if role == Qt.ItemDataRole.DisplayRole:
            if not s.counted and 3 <= col <= 8:
                return "…"  # a large storage's counts are on their way (read in the background)
            return [
                s.name,
                " / ".join(s.directions),
                str(s.n_trials),
                str(counts.get("COMPLETE", 0)),
                str(counts.get("PRUNED", 0)),
                str(counts.get("FAIL", 0)),
                str(counts.get("RUNNING", 0)),
                _best(s),
                _when(s.last_activity),
                "yes" if s.optgui_metadata else "—",
                self.health_text(s.name),
            ][col]
        if role == Qt.ItemDataRole.TextAlignmentRole and 2 <= col <= 7:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            c = theme.colors()
            color = {3: c.complete, 4: c.pruned, 5: c.fail, 6: c.running}.get(col)
            if color and counts.get(COLUMNS[col].upper().replace("FAILED", "FAIL"), 0):
                return QColor(color)
        if role == Qt.ItemDataRole.ToolTipRole:
            names = f"metrics: {', '.join(s.metric_names)}\n" if s.metric_names else ""
            health = self.health.get(s.name)
            tip = f"health: {health.summary}\n" if health is not None else ""
            if col == HEALTH and health is not None:
                return "\n".join([health.summary, *health.evidence[1:]])
            return (
                f"{s.name}\n{names}{tip}directions: {', '.join(s.directions)}\n"
                f"{s.n_trials} trials: {counts.get('COMPLETE', 0)} complete, {counts.get('PRUNED', 0)} pruned, "
                f"{counts.get('FAIL', 0)} failed, {counts.get('RUNNING', 0)} running\n"
                f"best: {_best(s)} · last activity: {_when(s.last_activity)}\n"
                f"optgui metadata: {'present' if s.optgui_metadata else 'absent (not run by optgui)'}"
            )
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._apply()
        self.layoutChanged.emit()

    def replace(self, summary: StudySummary) -> None:
        """Show `summary` in place of the study's current one (same name), keeping the order of the rows."""
        self._all = [summary if s.name == summary.name else s for s in self._all]
        row = self.row_of(summary.name)
        if row is not None:
            self.rows[row] = summary
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def row_of(self, name: str) -> int | None:
        for i, s in enumerate(self.rows):
            if s.name == name:
                return i
        return None


class StudyList(QWidget):
    study_selected = Signal(str)
    live_changed = Signal(bool, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        # "Live" + "every 2.0 s" go under the title where the list is narrow (in a 1000 px window the spin box
        # was cut to "every 2.0").
        header = FlowLayout(spacing=10)
        title = QLabel("Studies")
        title.setObjectName("sectionTitle")
        header.addWidget(title)
        self.live = QCheckBox("Live")
        self.live.setToolTip("Re-read the storage periodically (read-only; picks up trials written by other processes)")
        self.interval = QDoubleSpinBox()
        self.interval.setPrefix("every ")
        self.interval.setToolTip("How often the live refresh re-reads the storage")
        self.interval.setRange(0.5, 3600)
        self.interval.setDecimals(1)
        self.interval.setSuffix(" s")
        self.interval.setValue(2.0)
        live = QWidget()
        live_row = QHBoxLayout(live)
        live_row.setContentsMargins(0, 0, 0, 0)
        live_row.addWidget(self.live)
        live_row.addWidget(self.interval)
        header.addWidget(live)
        layout.addLayout(header)
        self.find = QLineEdit()
        self.find.setPlaceholderText("Find study (Ctrl+F)")
        self.find.setClearButtonEnabled(True)
        layout.addWidget(self.find)
        self.model = StudyTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        header_view = self.table.horizontalHeader()
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name takes the rest, elided
        header_view.setStretchLastSection(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # names differ at their ends ("…-seed-3")
        self.table.setWordWrap(False)  # one line per study: a wrapped name doubled its row
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.viewport().installEventFilter(self)
        layout.addWidget(self.table, 1)
        self.find.textChanged.connect(self._filter)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.live.toggled.connect(lambda on: self.live_changed.emit(on, self.interval.value()))
        self.interval.valueChanged.connect(lambda v: self.live_changed.emit(self.live.isChecked(), v))
        self._current: str | None = None

    def set_summaries(self, summaries: list[StudySummary]) -> None:
        current = self._current
        self.table.selectionModel().blockSignals(True)
        self.model.set_summaries(summaries)
        self.table.selectionModel().blockSignals(False)
        if current is not None:
            self.select(current, emit=False)
        self.fit_columns()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return False

    def fit_columns(self) -> None:
        """Show the most important columns that fit whole in the list's width (COLUMN_PRIORITY); the study's name
        takes the rest (at least STUDY_COLUMN_MIN px) and is elided in the middle."""
        header = self.table.horizontalHeader()
        room = self.table.viewport().width() - STUDY_COLUMN_MIN
        fits = True
        for column in COLUMN_PRIORITY[1:]:
            if fits:  # (measured shown: a hidden column's hints are not its texts', and it was shown past the edge)
                header.setSectionHidden(column, False)
                width = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
                fits = width <= room  # once one does not fit, the less important ones give way too
            if fits:
                room -= width
            else:
                header.setSectionHidden(column, True)

    def shown_columns(self) -> list[str]:
        header = self.table.horizontalHeader()
        return [name for column, name in enumerate(COLUMNS) if not header.isSectionHidden(column)]

    def show_counts(self, name: str, n_trials: int, counts: dict[str, int], best: float | None) -> None:
        """Counts of a study that this window knows before a read of the storage would (the study its engine runs):
        its row follows the header at once instead of the next live refresh."""
        row = self.model.row_of(name)
        if row is None:
            return
        summary = self.model.rows[row]
        best_values = (best,) if best is not None and len(summary.directions) == 1 else summary.best_values
        self.model.replace(
            dataclasses.replace(
                summary,
                n_trials=n_trials,
                state_counts={state: n for state, n in counts.items() if n},
                best_values=best_values,
            )
        )

    def show_storage(self, summaries: list[StudySummary]) -> None:
        """The studies of a newly opened storage: the find filter and the selection were about the previous one
        (a kept filter hid the new file's studies, and the window opened none of them)."""
        self._current = None
        self.find.blockSignals(True)
        self.find.clear()
        self.find.blockSignals(False)
        self.model.set_filter("")
        self.model.health = {}
        self.set_summaries(summaries)

    def set_health(self, health: dict[str, RunHealth | None]) -> None:
        """Each study's health (read in the background): the Health column follows."""
        self.model.set_health(health)
        self.fit_columns()

    def _filter(self, text: str) -> None:
        self.model.set_filter(text)
        if self._current is not None:
            self.select(self._current, emit=False)

    def select(self, name: str, emit: bool = True) -> bool:
        row = self.model.row_of(name)
        if row is None:
            return False
        if not emit:
            self.table.selectionModel().blockSignals(True)
        self.table.selectRow(row)
        self.table.selectionModel().blockSignals(False)
        self._current = name
        return True

    def _row_changed(self, current: QModelIndex, _previous) -> None:
        if current.isValid():
            name = self.model.rows[current.row()].name
            if name != self._current:
                self._current = name
                self.study_selected.emit(name)
