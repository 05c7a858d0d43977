"""One trial in detail: params with their distributions, values, intermediate values (a small plot), user and
system attributes, the recorded error and traceback of a failed trial, and the trial's captured output.

Everything comes from the read-only reader (system attributes and intermediate values are read for the whole
study once and kept until the next live update) and from the run's log files (optgui.core.engine._trial_output).
"""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from optgui.core.engine import read_trial_output, strip_engine_frames
from optgui.core.records import TRIAL_ERROR, TrialError
from optgui.core.storage import (
    STATE_NAMES,
    ParamDistribution,
    TrialFrame,
    format_compact,
    format_value,
    local_time_text,
)
from optgui.qt import theme


def describe_distribution(dist: ParamDistribution) -> str:
    if dist.kind == "categorical":
        return "categorical " + json.dumps(list(dist.choices))
    bounds = (
        f"[{format_value(dist.low) if dist.kind == 'float' else dist.low}, "
        f"{format_value(dist.high) if dist.kind == 'float' else dist.high}]"
    )
    extras = []
    if dist.log:
        extras.append("log")
    if dist.step is not None and not (dist.kind == "int" and dist.step == 1):
        extras.append(f"step {dist.step}")
    return f"{dist.kind} {bounds}" + (f" ({', '.join(extras)})" if extras else "")


class StudyExtras:
    """Per-trial reads the details pane needs (system attributes, intermediate values), each read for the one
    trial shown and kept until a live update touches that trial: following a live run re-reads nothing unless the
    selected trial got new data (reading them for the whole study took seconds on large studies)."""

    def __init__(self):
        self.reader = None
        self.study: str | None = None
        self._system: dict[int, dict] = {}
        self._intermediate: dict[int, dict[int, float]] = {}
        self.reads = 0  # storage reads made (what a live update costs the pane)

    def set_study(self, reader, study: str) -> None:
        self.reader, self.study = reader, study
        self.invalidate()

    def invalidate(self, numbers=None) -> None:
        """Forget what was read for these trials (all trials when None)."""
        if numbers is None:
            self._system.clear()
            self._intermediate.clear()
            return
        # Few trials are held (those shown), while `numbers` may be every trial (a full read landing): look the
        # held ones up in `numbers` rather than each number in the dicts (~0.8 s at 1M trials).
        held = np.array(sorted(set(self._system) | set(self._intermediate)), dtype=np.int64)
        if not len(held):
            return
        numbers = np.asarray(numbers, dtype=np.int64)
        for number in held[np.isin(held, numbers)].tolist():
            self._system.pop(number, None)
            self._intermediate.pop(number, None)

    def system_attrs(self, number: int) -> dict:
        if self.reader is None:
            return {}
        if number not in self._system:
            self.reads += 1
            self._system[number] = self.reader.trial_system_attrs(self.study, prefix="", numbers=[number]).get(
                number, {}
            )
        return self._system[number]

    def intermediate(self, number: int) -> dict[int, float]:
        if self.reader is None:
            return {}
        if number not in self._intermediate:
            self.reads += 1
            self._intermediate[number] = self.reader.intermediate_values(self.study, numbers=[number]).of_trial(number)
        return self._intermediate[number]


class TrialDetails(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.extras = StudyExtras()
        self.storage: str | None = None
        self.frame: TrialFrame | None = None
        self.number: int | None = None
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.header = QLabel("Select a trial")
        self.header.setObjectName("sectionTitle")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The header's row also holds actions on the shown trial, added by the workbench (Reproduce…).
        self.header_row = QHBoxLayout()
        self.header_row.addWidget(self.header, 1)
        layout.addLayout(self.header_row)
        # Side by side: attributes on the left; intermediate values, error and output on the right.
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Name", "Value", "Distribution / details"])
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setColumnWidth(0, 120)
        self.tree.setColumnWidth(1, 110)
        # The attributes, and the trial's optuna-dashboard note and artifacts (tabs added by the workbench).
        self.left_tabs = QTabWidget()
        self.left_tabs.setDocumentMode(True)
        self.left_tabs.addTab(self.tree, "Attributes")
        self.splitter.addWidget(self.left_tabs)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(110)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "reported")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # "reported (x0.001)" was cut off in the narrow pane
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.curve = self.plot.plot([], [], symbol="o", symbolSize=4)
        self.right.addWidget(self.plot)
        error_box = QWidget()
        el = QVBoxLayout(error_box)
        el.setContentsMargins(0, 0, 0, 0)
        self.error_title = QLabel("Error")
        self.error_title.setObjectName("errorTitle")
        el.addWidget(self.error_title)
        self.error_text = QPlainTextEdit()
        self.error_text.setReadOnly(True)
        self.error_text.setFont(mono)
        self.error_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        el.addWidget(self.error_text)
        self.error_box = error_box
        self.right.addWidget(error_box)
        output_box = QWidget()
        ol = QVBoxLayout(output_box)
        ol.setContentsMargins(0, 0, 0, 0)
        self.output_title = QLabel("Output")
        self.output_title.setObjectName("sectionTitle")
        ol.addWidget(self.output_title)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setFont(mono)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        ol.addWidget(self.output)
        self.right.addWidget(output_box)
        self.right.setSizes([90, 190, 150])
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        t = theme.current()
        if t is not None:
            t.changed.connect(self._restyle)
        self._restyle(theme.colors())
        self.clear()

    def _restyle(self, c: theme.Colors) -> None:
        self.plot.setBackground(c.background)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setPen(c.muted)
            self.plot.getAxis(axis).setTextPen(c.foreground)
        self.curve.setPen(pg.mkPen(c.complete, width=1.5))
        self.curve.setSymbolBrush(c.complete)
        self.curve.setSymbolPen(None)
        self.error_title.setStyleSheet(f"color: {c.bad}; font-weight: 600;")

    def set_study(self, storage: str, reader, study: str, frame: TrialFrame) -> None:
        self.storage, self.frame = storage, frame
        self.extras.set_study(reader, study)
        self.clear()

    def clear(self) -> None:
        self.number = None
        self.header.setText("Select a trial in the table")
        self.tree.clear()
        self.plot.hide()
        self.error_box.hide()
        self.output.setPlainText("")

    def data_changed(self, frame: TrialFrame, numbers) -> None:
        """A live update touched the trials `numbers`: forget what was read for them, and show the selected trial
        again if it is one of them."""
        self.frame = frame
        self.extras.invalidate(numbers)
        if self.number is not None and self.number in set(int(n) for n in numbers):
            self.show_trial(self.number)

    # --- one trial ----------------------------------------------------------------------------------------
    def show_trial(self, number: int) -> None:
        frame = self.frame
        if frame is None or not 0 <= number < frame.n:
            self.clear()
            return
        self.number = number
        state = STATE_NAMES[int(frame.state[number])]
        parts = [f"Trial {number}", state]
        if not np.isnan(frame.duration[number]):
            parts.append(f"{frame.duration[number]:.3f} s")
        if not np.isnat(frame.datetime_start[number]):
            parts.append("started " + local_time_text(frame.datetime_start[number])[:19])
        self.header.setText("  ·  ".join(parts))
        self.header.setStyleSheet(f"color: {theme.colors().state(state)};" if state == "FAIL" else "")
        system = self.extras.system_attrs(number)
        self._fill_tree(frame, number, system)
        self._fill_plot(number)
        self._fill_error(system.get(TRIAL_ERROR), state)
        self._fill_output(number)

    def _fill_tree(self, frame: TrialFrame, number: int, system: dict) -> None:
        self.tree.clear()
        dists = frame.distributions_of(number)
        params = frame.params_of(number)
        fixed = system.get("fixed_params")
        group = self._group(f"Params ({len(params)})")
        for name, value in params.items():
            note = describe_distribution(dists[name])
            if isinstance(fixed, dict) and name in fixed:
                note += "  · enqueued"
            self._item(group, name, value, note)
        group = self._group("Values")
        for k in range(frame.values.shape[1]):
            v = frame.values[number, k]
            title = (
                frame.metric_names[k]
                if frame.metric_names
                else (f"value {k}" if frame.values.shape[1] > 1 else "value")
            )
            self._item(group, title, None if np.isnan(v) else float(v), frame.directions[k])
        attrs = frame.attrs_of(number)
        if attrs:
            group = self._group(f"User attributes ({len(attrs)})")
            for key, value in attrs.items():
                self._item(group, key, value, "")
        if system:
            group = self._group(f"System attributes ({len(system)})")
            for key, value in system.items():
                text = value if isinstance(value, str) else json.dumps(value, default=str)
                if key == TRIAL_ERROR:
                    text = TrialError.text_of(value)
                QTreeWidgetItem(group, [key, text[:300], ""])
        self.tree.expandAll()

    @staticmethod
    def _item(group: QTreeWidgetItem, name: str, value, note: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(group, [name, "" if value is None else format_compact(value), note])
        item.setToolTip(1, "" if value is None else format_value(value))  # full precision on hover
        item.setToolTip(2, note)
        return item

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        return item

    def _fill_plot(self, number: int) -> None:
        values = self.extras.intermediate(number)
        if not values:
            self.plot.hide()
            return
        steps = np.array(sorted(values), dtype=float)
        self.curve.setData(steps, np.array([values[int(s)] for s in steps], dtype=float))
        self.plot.show()

    def _fill_error(self, error, state: str) -> None:
        if not error:
            self.error_box.setVisible(state == "FAIL")
            self.error_title.setText("Failed" if state == "FAIL" else "Error")
            # Without a record the likeliest reason is named, not "not run by optgui": fleet workers and plain
            # Optuna record nothing when Optuna itself fails a trial for its return value.
            self.error_text.setPlainText(
                "No reason was recorded for this failure. Optuna fails a trial without recording why when its "
                "objective returns NaN, None or the wrong number of values; an exception would be shown here with "
                "its traceback."
                if state == "FAIL"
                else ""
            )
            return
        if TrialError.problem(error) is None:
            record = TrialError.from_json(error)
            title = record.summary
            body = strip_engine_frames(record.traceback or "") or title
        else:
            title, body = "Error", str(error)
        self.error_title.setText(title)
        self.error_text.setPlainText(body)
        self.error_box.show()

    def _fill_output(self, number: int) -> None:
        text = None
        if self.storage is not None and self.extras.study is not None:
            text = read_trial_output(self.storage, self.extras.study, number)
        if text is None:
            self.output_title.setText("Output")
            self.output.setPlainText(
                "No output was captured for this trial. optgui records what an objective "
                "prints and logs when it runs the trial in this process."
            )
        else:
            lines = text.count("\n")
            self.output_title.setText(f"Output ({lines} line{'s' if lines != 1 else ''})")
            self.output.setPlainText(text)
