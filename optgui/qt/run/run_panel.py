"""The run panel: what the run is (objective, sampler, pruner, seed: editable only before the first run; the Python
the objective runs in, with "Test objective"), its budget, the Start/Pause/Resume/Stop/Abort controls, progress
with elapsed time, ETA and trials per second, and notices (another process holds the study, objective errors).

The Python field lists optgui's own interpreter, the environments found (optgui.core.engine.find_interpreters: a
venv beside the objective or at its project root, conda, pyenv, PATH), each with its Python and Optuna versions as
it answers (asked in the background, one child process each), and "Browse…"; a path can be typed too."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from optgui.core.engine import (
    BUILTINS,
    InterpreterInfo,
    describe_interpreter,
    find_interpreters,
    try_objective,
)
from optgui.core.errors import OptguiError
from optgui.qt import dialogs, theme
from optgui.qt.errors import in_window_words
from optgui.qt.paths_shown import shown_name
from optgui.qt.study.run_state import ABORTABLE, PAUSABLE, STOPPABLE, SessionRunState
from optgui.qt.study.session import RunDefinition
from optgui.qt.tasks.tasks import TaskError, TaskSlot
from optgui.qt.wrapped_label import WrappedLabel

S = SessionRunState
OWN_PYTHON = "optgui's own Python"
BROWSE = "Browse…"
POPUP_MAX_WIDTH = 640  # the Python list's width at most (longer entries are elided in the middle)
_OWN_DATA, _BROWSE_DATA = "", "\0browse"  # the item data of those two entries (the others hold a path)
STATE_TEXT: dict[SessionRunState, str] = {
    S.IDLE: "Not running",
    S.STARTING: "Starting…",
    S.RUNNING: "Running",
    S.PAUSING: "Pausing after the current trial…",
    S.PAUSED: "Paused",
    S.STOPPING: "Stopping after the current trial…",
    S.STOPPED: "Stopped",
    S.COMPLETED: "Completed",
    S.FAILED: "Failed",
    S.INTERRUPTED: "Trial abandoned — Resume recovers it",
    S.LEASED: "Held by another process",
}


def _duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "—"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _PythonCombo(QComboBox):
    """The Python field: says when its list is about to open (the environments are looked for then)."""

    opening = Signal()

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.opening.emit()
        super().showPopup()


class RunPanel(QWidget):
    start_requested = Signal()
    pause_requested = Signal()
    resume_requested = Signal()
    stop_requested = Signal()
    abort_requested = Signal()
    python_chosen = Signal(str)  # the user chose the objective's Python: its path, "" for optgui's own

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("runPanel")
        self.state, self.state_message = SessionRunState.IDLE, ""  # the shown session's, as last shown
        self.resumable = False
        self.held_elsewhere = False
        self.has_study = False  # no study shown (the start page): nothing to start or resume
        self.defined = False
        self._setting_fields = False  # fields are being set from the study, not by the user
        self._trials_edited = False  # the user changed "Trials (total)" since the study was shown
        self._run_end: float | None = None  # when the shown run stopped (elapsed time stops there)
        self._rate_window: list[tuple[float, int]] = []
        self._run_start: float | None = None
        self._done = 0
        self._target: int | None = None
        self._record: dict | None = None  # the shown study's run record
        self._shown_python: str | None = None  # the Python choice last shown or reported (None: optgui's own)
        self._described: dict[str, InterpreterInfo] = {}  # interpreters asked for their versions, by path
        self._discovered_for: str | None = None  # the objective folder the found environments are for
        self._discovery = TaskSlot(self, "python discovery")
        self._describe_one = TaskSlot(self, "python describe")
        self._objective_test = TaskSlot(self, "objective test")
        self.test_ok: bool | None = None  # the last "Test objective" result (None: none shown)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)

        definition = QGroupBox("Run definition")
        form = QFormLayout(definition)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.objective = QComboBox()
        self.objective.setEditable(True)
        self.objective.addItems([f"builtin:{name}" for name in BUILTINS])
        self.objective.setCurrentText("")
        self.objective.lineEdit().setPlaceholderText("file.py:function, module:function or builtin:NAME")
        self.objective.setToolTip("The objective function. Recorded with the run (with a hash of its file).")
        self.sampler = QLineEdit()
        self.sampler.setPlaceholderText("TPESampler (Optuna's default)")
        self.sampler.setToolTip("Sampler SPEC, e.g. TPESampler(seed=42, multivariate=True), random, cmaes")
        self.pruner = QLineEdit()
        self.pruner.setPlaceholderText("MedianPruner (Optuna's default)")
        self.pruner.setToolTip("Pruner SPEC, e.g. MedianPruner(n_startup_trials=5)")
        self.seed = QLineEdit()
        self.seed.setPlaceholderText("drawn at random and recorded")
        self.seed.setToolTip("Sampler seed. The same seed gives the same trials as an uninterrupted Optuna run.")
        form.addRow("Objective", self.objective)
        form.addRow("Sampler", self.sampler)
        form.addRow("Pruner", self.pruner)
        form.addRow("Seed", self.seed)
        self.definition_note = WrappedLabel()
        self.definition_note.setObjectName("muted")
        self.definition_note.setWordWrap(True)
        form.addRow(self.definition_note)
        self.python = _PythonCombo()
        self.python.opening.connect(self.discover_interpreters)
        self.python.setEditable(True)
        self.python.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # The items hold paths and versions: the field keeps the panel's width and the list elides in the middle.
        self.python.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.python.setMinimumContentsLength(10)
        self.python.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.python.addItem(OWN_PYTHON, _OWN_DATA)
        self.python.addItem(BROWSE, _BROWSE_DATA)
        self.python.setItemData(0, f"{sys.executable} (the Python optgui runs in)", Qt.ItemDataRole.ToolTipRole)
        self.python_edit = QLineEdit()  # (set before the items: a combo's own line edit is typed as optional)
        self.python.setLineEdit(self.python_edit)
        self.python_edit.setPlaceholderText("path to a Python interpreter")
        self.python.setToolTip(
            "The Python the objective runs in: its packages, not optgui's. Recorded with each run; a different one "
            "on a later run is asked about first (the values may change, the sampler's suggestions do not)."
        )
        self.python.activated.connect(self._python_activated)
        self.python_edit.editingFinished.connect(self._python_edited)
        form.addRow("Python", self.python)
        # The field is narrow: what the chosen interpreter is (versions, full path) is said in full below it.
        self.python_info = WrappedLabel()
        self.python_info.setObjectName("muted")
        self.python_info.setWordWrap(True)
        self.python_info.setTextFormat(Qt.TextFormat.PlainText)
        self.python_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.python_info)
        self.python.currentTextChanged.connect(lambda *_: self._show_python_info())
        self._show_python_info()
        self.test_button = QPushButton("Test objective")
        self.test_button.setToolTip("Import the objective in the chosen Python now, before a run starts")
        self.test_button.clicked.connect(self.test_objective)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        form.addRow("", test_row)
        self.test_result = WrappedLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)  # an import error may hold "<...>"
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result.hide()
        form.addRow(self.test_result)
        objective_edit = self.objective.lineEdit()
        assert objective_edit is not None  # (editable)
        objective_edit.editingFinished.connect(self._objective_edited)
        outer.addWidget(definition)

        budget = QGroupBox("Budget")
        bform = QFormLayout(budget)
        self.n_trials = QSpinBox()
        self.n_trials.setRange(0, 100_000_000)
        self.n_trials.setSpecialValueText("no limit")
        self.n_trials.setValue(100)
        self.n_trials.setToolTip("Total number of finished trials the run aims at (a resumed run does the rest)")
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0, 10_000_000)
        self.timeout.setDecimals(0)
        self.timeout.setSuffix(" s")
        self.timeout.setSpecialValueText("none")
        self.timeout.setToolTip("Stop after this many seconds (this session only)")
        self.n_trials.valueChanged.connect(self._trials_changed)
        bform.addRow("Trials (total)", self.n_trials)
        bform.addRow("Timeout", self.timeout)
        self.child_process = QCheckBox("Objective in a separate process")
        self.child_process.setToolTip(
            "Abort trial then stops the objective at once, even in the middle of a long "
            "computation (costs one process start per run; an objective in another Python always has its own)"
        )
        bform.addRow(self.child_process)
        outer.addWidget(budget)

        controls = QGroupBox("Control")
        grid = QGridLayout(controls)
        self.start_action = self._action("Start", "Ctrl+R", "Start the run (Ctrl+R)", self.start_requested)
        self.pause_action = self._action(
            "Pause", "Ctrl+P", "Pause after the current trial, saving the sampler state (Ctrl+P)", self.pause_requested
        )
        self.resume_action = self._action(
            "Resume", "Ctrl+Shift+R", "Continue exactly where the run paused (Ctrl+Shift+R)", self.resume_requested
        )
        self.stop_action = self._action(
            "Stop",
            "Ctrl+.",
            "End the run after the current trial; it can be resumed later (Ctrl+.)",
            self.stop_requested,
        )
        self.abort_action = self._action(
            "Abort trial",
            "Ctrl+Shift+.",
            "Abandon the trial in flight now, as a crash would; Resume recovers it deterministically (Ctrl+Shift+.)",
            self.abort_requested,
        )
        self.buttons = {}
        for i, action in enumerate(
            (self.start_action, self.pause_action, self.resume_action, self.stop_action, self.abort_action)
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumWidth(64)
            button.setSizePolicy(button.sizePolicy().horizontalPolicy().Expanding, button.sizePolicy().verticalPolicy())
            self.buttons[action.text()] = button
            grid.addWidget(button, i // 2, i % 2)  # two columns: the texts fit in a narrow panel
        self.start_button = self.buttons["Start"]
        self.start_button.setObjectName("primary")
        outer.addWidget(controls)

        status = QGroupBox("Progress")
        sl = QVBoxLayout(status)
        self.state_label = WrappedLabel()
        self.state_label.setObjectName("runState")
        self.state_label.setWordWrap(True)  # ("Paused after trial 46" and the count do not fit one row at 1000 px)
        # The count sits beside the state, not on the bar: drawn on the bar, the part of it over the fill took the
        # fill's text colour and was lost where the two met.
        self.progress_text = QLabel()
        self.progress_text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head = QHBoxLayout()
        head.addWidget(self.state_label, 1)
        head.addWidget(self.progress_text)
        sl.addLayout(head)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        sl.addWidget(self.progress)
        row = QHBoxLayout()
        self.elapsed_label = QLabel("Elapsed —")
        self.eta_label = QLabel("ETA —")
        self.rate_label = QLabel("— trials/s")
        for label in (self.elapsed_label, self.eta_label, self.rate_label):
            label.setObjectName("muted")
            row.addWidget(label)
        sl.addLayout(row)
        self.notice = WrappedLabel()
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice_is_error = False
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        sl.addWidget(self.notice)
        self.last_error = WrappedLabel()
        self.last_error.setWordWrap(True)
        self.last_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_error.hide()
        sl.addWidget(self.last_error)
        outer.addWidget(status)
        outer.addStretch(1)

        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        t = theme.current()
        if t is not None:
            t.changed.connect(self._restyle)
        self.set_state(S.IDLE)

    def _restyle(self, _colors) -> None:
        self.set_state(self.state, self.state_message)  # (the same state, looked at again)
        if self.test_result.text():
            c = theme.colors()
            color = c.muted if self.test_ok is None else (c.ok if self.test_ok else c.bad)
            self.test_result.setStyleSheet(f"QLabel {{ color: {color}; }}")

    def _action(self, text: str, shortcut: str, tip: str, signal) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(signal)
        return action

    @property
    def actions_list(self) -> list[QAction]:
        return [self.start_action, self.pause_action, self.resume_action, self.stop_action, self.abort_action]

    # --- definition ---------------------------------------------------------------------------------------
    def unbind(self) -> None:
        """No study is shown any more (the storage was closed): Start and Resume have nothing to act on."""
        self.has_study = False
        self.set_state(self.state, self.state_message)

    def show_definition(self, definition: RunDefinition, *, rebind: bool) -> None:
        """Show a study's run definition. rebind: another study is shown, so every field is set from it;
        otherwise (the same study re-read) fields the user is editing are left as they are."""
        was_recorded = self.defined
        self.has_study = True
        self.defined = definition.recorded
        self.resumable = definition.resumable
        self._record = definition.record
        if rebind:
            self._objective_test.cancel()
            self.show_test_result(None)
            self.set_python_choice(definition.python, recorded=definition.environment, describe=False)
        if rebind or definition.recorded != was_recorded:
            self._setting_fields = True
            try:
                self.objective.setCurrentText(definition.objective)
                self.sampler.setText(definition.sampler)
                self.pruner.setText(definition.pruner)
                self.seed.setText(definition.seed)
                for field in (self.objective.lineEdit(), self.sampler, self.pruner, self.seed):
                    field.setCursorPosition(0)  # a long spec shows its start ("builtin:slow(…"), not its end
            finally:
                self._setting_fields = False
        if rebind:
            self._trials_edited = False
        if not self._trials_edited and not self.n_trials.hasFocus():
            self._setting_fields = True
            try:
                self.n_trials.setValue(definition.n_trials)
            finally:
                self._setting_fields = False
        if definition.recorded:
            self.definition_note.setText("Recorded with the study: fixed for every later run segment.")
        else:
            adopted = definition.adopted_trials
            self.definition_note.setText(
                f"The study has {adopted} trials made without optgui: they become history, and "
                "determinism claims start after them."
                if adopted
                else "Not run by optgui yet: choose the objective and sampler."
            )
        for w in (self.objective, self.sampler, self.pruner, self.seed):
            w.setEnabled(not definition.recorded)
        self.set_state(self.state, self.state_message)  # (the same state, looked at again)

    def _trials_changed(self, _value: int) -> None:
        if not self._setting_fields:
            self._trials_edited = True  # the user's target: a re-read of the study does not overwrite it

    def request_fields(self) -> dict:
        """The values to build a RunRequest from (None for fields fixed by the record)."""
        seed_text = self.seed.text().strip()
        fields: dict[str, Any] = {"n_trials": self.n_trials.value() or None, "timeout": self.timeout.value() or None}
        if not self.defined:
            fields.update(
                objective=self.objective.currentText().strip() or None,
                sampler=self.sampler.text().strip() or None,
                pruner=self.pruner.text().strip() or None,
                seed=int(seed_text) if seed_text else None,
            )
        fields["python"] = self.python_choice()
        return fields

    # --- the objective's Python ---------------------------------------------------------------------------
    def objective_text(self) -> str:
        return self.objective.currentText().strip()

    def python_choice(self) -> str | None:
        """The interpreter chosen: a path, or None for optgui's own."""
        text = self.python.currentText().strip()
        index = self.python.findText(text, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            data = self.python.itemData(index)
            return data if data not in (_OWN_DATA, _BROWSE_DATA) else None
        return os.path.expanduser(text) if text else None

    def set_python_choice(self, python: str | None, *, recorded: dict | None = None, describe: bool = True) -> None:
        """Show `python` (a path; None or "": optgui's own) as the choice, without reporting it as the user's.

        recorded: the study's record of that interpreter (its versions are shown from it). describe: ask the
        interpreter for its versions if they are not known; never for a path that comes from a study being opened
        (opening a study runs nothing it names)."""
        if python and recorded and recorded.get("executable") == python and python not in self._described:
            self._described[python] = InterpreterInfo(
                python, "recorded with the study", recorded.get("python") or "?", recorded.get("optuna")
            )
        if python:
            index = self.python.findData(python)
            if index < 0:
                index = self._add_python_item(self._described.get(python) or InterpreterInfo(python, ""))
            if describe and python not in self._described:
                self._describe(python)
        else:
            index = 0
        self.python.setCurrentIndex(index)
        self.python_edit.setCursorPosition(0)
        self._shown_python = self.python_choice()
        self._show_python_info()

    def _show_python_info(self) -> None:
        python = self.python_choice()
        if python is None:
            text = f"Python {platform.python_version()} · {_own_optuna()} — the Python optgui runs in"
        else:
            info = self._described.get(python)
            if info is not None:
                summary = info.summary()
            else:
                summary = "asking for its versions…" if self._describe_one.running else "versions not known yet"
            if info is not None and info.source == "recorded with the study":
                summary += " (as recorded)"
            text = f"{summary}\n{_breakable(shown_name(python))}"
        self.python_info.setText(text)

    def _python_item_text(self, info: InterpreterInfo) -> str:
        if info.python is None and info.problem is None:
            return shown_name(info.path)  # not asked yet
        return f"{info.summary()} — {shown_name(info.path)}"

    def _add_python_item(self, info: InterpreterInfo) -> int:
        """The item of the interpreter `info` describes (added before "Browse…", or brought up to date)."""
        text = self._python_item_text(info)
        tip = f"{info.path}" + (f" ({info.source})" if info.source else "")
        index = self.python.findData(info.path)
        if index < 0:
            index = self.python.count() - 1
            self.python.insertItem(index, text, info.path)
        else:
            editing = index == self.python.currentIndex() and self.python_edit.hasFocus()
            if not editing:
                self.python.setItemText(index, text)
                if index == self.python.currentIndex():
                    self.python_edit.setCursorPosition(0)
        self.python.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        # The list shows each entry in full (up to a limit) even though the field is narrow.
        view = self.python.view()
        view.setMinimumWidth(min(POPUP_MAX_WIDTH, view.sizeHintForColumn(0) + 2 * view.frameWidth() + 24))
        self._show_python_info()
        return index

    def _interpreter_found(self, info: InterpreterInfo) -> None:
        if _same_file(info.path, sys.executable):
            return  # optgui's own: the first entry
        self._described[info.path] = info
        self._add_python_item(info)

    def _describe(self, path: str) -> None:
        self._describe_one.start(lambda state: describe_interpreter(path), returned=self._interpreter_found)

    def _objective_file(self) -> str | None:
        target = self.objective_text().rpartition(":")[0]
        return target if target.endswith(".py") or "/" in target or "\\" in target else None

    def discover_interpreters(self) -> None:
        """Find the environments the Python field offers (again when the objective's folder changed), in the
        background: each appears with its versions as it answers. Done when the list is first opened, not before:
        each candidate costs a process start."""
        objective_file = self._objective_file()
        folder = str(Path(objective_file).expanduser().absolute().parent) if objective_file else ""
        if folder == self._discovered_for:
            return
        self._discovered_for = folder
        known = dict(self._described)

        def work(state):
            for candidate in find_interpreters(objective_file):
                info = known.get(candidate.path)
                yield info if info is not None else describe_interpreter(candidate.path, candidate.source)

        self._discovery.start(work, yielded=self._interpreter_found)

    def _objective_edited(self) -> None:
        self.show_test_result(None)

    def _python_activated(self, index: int) -> None:
        if self.python.itemData(index) == _BROWSE_DATA:
            previous = self._shown_python
            path = dialogs.open_file(self, "Choose the objective's Python", "All files (*)")
            self.set_python_choice(path or previous)
            if not path:
                return
            self._shown_python = previous  # (so that the new one is reported below)
        self._python_changed()

    def _python_edited(self) -> None:
        choice = self.python_choice()
        if choice is not None and self.python.findData(choice) < 0 and choice not in self._described:
            self._describe(choice)
        self._python_changed()

    def _python_changed(self) -> None:
        choice = self.python_choice()
        if choice == self._shown_python:
            return
        self._shown_python = choice
        self.show_test_result(None)
        if not self._setting_fields:
            self.python_chosen.emit(choice or "")

    def test_objective(self) -> None:
        """Import the objective in the chosen Python, in the background; the result shows below the button."""
        text = self.objective_text()
        if not text:
            self.show_test_result(False, "Choose an objective first.")
            return
        python = self.python_choice()
        objective = (self._record or {}).get("objective") or {}
        import_root = objective.get("import_root") if self.defined else None
        self.test_button.setEnabled(False)
        self.show_test_result(None, f"Importing the objective in {shown_name(python) if python else OWN_PYTHON}…")
        self._objective_test.start(
            lambda state: try_objective(python, text, import_root=import_root),
            returned=lambda message: self.show_test_result(True, f"✓ {str(message)[:1].upper()}{str(message)[1:]}"),
            errored=self._test_failed,
            finished=lambda: self.test_button.setEnabled(True),
        )

    def _test_failed(self, error: TaskError) -> None:
        exc = error.exception
        message = in_window_words(str(exc)) if isinstance(exc, OptguiError) else error.message
        self.show_test_result(False, f"✗ {message}")

    def show_test_result(self, ok: bool | None, text: str = "") -> None:
        """The Test objective line: success (green), failure (red), a note (muted), or nothing (a test still
        running is then dropped: its answer would be about another objective or Python)."""
        if not text:
            self._objective_test.cancel()
            self.test_button.setEnabled(True)
        self.test_ok = ok
        self.test_result.setVisible(bool(text))
        self.test_result.setText(text)
        c = theme.colors()
        color = c.muted if ok is None else (c.ok if ok else c.bad)
        self.test_result.setStyleSheet(f"QLabel {{ color: {color}; }}")

    # --- state --------------------------------------------------------------------------------------------
    def set_state(self, state: SessionRunState, message: str = "") -> None:
        state = SessionRunState(state)
        self.state, self.state_message = state, message
        active = state.active
        # A study another process holds (its lease is live: a fleet, a terminal run) is followed, not started here.
        held = (self.held_elsewhere or not self.has_study) and not active
        self.start_action.setEnabled(not active and not self.resumable and not held)
        self.pause_action.setEnabled(state in PAUSABLE)
        self.resume_action.setEnabled(state is S.PAUSED or (not active and self.resumable and not held))
        self.stop_action.setEnabled(state in STOPPABLE)
        self.abort_action.setEnabled(state in ABORTABLE)
        for w in (self.n_trials, self.timeout, self.child_process, self.python):
            w.setEnabled(not active)
        c = theme.colors()
        color = {
            S.RUNNING: c.info,
            S.PAUSING: c.warn,
            S.PAUSED: c.warn,
            S.STOPPING: c.warn,
            S.COMPLETED: c.ok,
            S.FAILED: c.bad,
            S.LEASED: c.bad,
            S.INTERRUPTED: c.warn,
        }.get(state, c.muted)
        text = STATE_TEXT[state]
        if message and state is S.PAUSED:
            text = message[:1].upper() + message[1:]  # "paused after trial 61"
        elif message and state in (S.STOPPED, S.COMPLETED) and message != state:
            text += f" — {message}"
        self.state_label.setText(f'<span style="color:{color}; font-weight:600">● {text}</span>')
        if state in (S.RUNNING, S.STARTING):
            self._run_end = None
            self._clock.start()
        elif state not in (S.PAUSING, S.STOPPING):
            self._clock.stop()
            if self._run_start is not None and self._run_end is None:
                self._run_end = time.monotonic()  # a run at rest: its elapsed time stops counting
            self._rate_window.clear()
            self._tick()  # no rate or ETA while not running (not the last ones seen)

    def set_held_elsewhere(self, held: bool) -> None:
        """Another live process holds the study's run lease: Start and Resume wait until it lets go."""
        self.held_elsewhere = held
        self.set_state(self.state, self.state_message)  # (the same state, looked at again)

    def set_notice(self, text: str | None, error: bool = False) -> None:
        """A message about the run; error: something went wrong (red), otherwise information (e.g. a recovery)."""
        c = theme.colors()
        self.notice.setVisible(bool(text))
        self.notice.setText(text or "")
        self.notice_is_error = error
        color = c.bad if error else c.info
        self.notice.setStyleSheet(f"QLabel {{ border: 1px solid {color}; border-radius: 4px; padding: 6px; }}")

    def set_last_error(self, number: int | None, message: str | None) -> None:
        c = theme.colors()
        self.last_error.setVisible(bool(message))
        if message:
            first = message.strip().splitlines()[0] if message.strip() else message
            self.last_error.setText(f'<span style="color:{c.fail}">Trial {number} failed:</span> {first}')

    # --- progress -----------------------------------------------------------------------------------------
    def run_began(self, n_finished: int, target: int | None) -> None:
        self._run_start, self._run_end = time.monotonic(), None
        self._rate_window = [(self._run_start, n_finished)]
        self.set_progress(n_finished, target)

    def reset_clock(self) -> None:
        self.show_clock(None)

    def show_clock(self, started: float | None, keep: bool = False) -> None:
        """The elapsed time of the shown study's run: counting from `started` (time.monotonic()), or none.
        keep: the run ended: the elapsed time stays at its last value."""
        if keep and self._run_start is not None:
            self._run_end = self._run_end or time.monotonic()
            self._tick()
            return
        self._run_start, self._run_end = started, None
        if started is None:
            self._rate_window = []
            self.elapsed_label.setText("Elapsed —")
        self._tick()

    def set_progress(self, n_finished: int, target: int | None) -> None:
        self._done, self._target = n_finished, target
        # QProgressBar.setValue repaints at once (synchronously) when the text changes, which it does on every
        # trial: with updates off the changes are only recorded, and one ordinary deferred paint shows them.
        self.progress.setUpdatesEnabled(False)
        if target:
            self.progress.setRange(0, target)
            self.progress.setValue(min(n_finished, target))
            text = f"{n_finished} / {target} trials"
        else:
            self.progress.setRange(0, 0 if self.state is S.RUNNING else 1)
            text = f"{n_finished} trials"
        self.progress.setFormat(text)  # for accessibility tools, which read the bar's text
        self.progress.setUpdatesEnabled(True)
        self.progress_text.setText(text)
        now = time.monotonic()
        if self.state is S.RUNNING:
            self._rate_window.append((now, n_finished))
            self._rate_window = [(t, n) for t, n in self._rate_window if now - t <= 30.0] or [(now, n_finished)]
        self._tick()

    def rate(self) -> float | None:
        if len(self._rate_window) < 2:
            return None
        (t0, n0), (t1, n1) = self._rate_window[0], self._rate_window[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 and n1 > n0 else None

    def _tick(self) -> None:
        if self._run_start is not None:
            end = self._run_end if self._run_end is not None else time.monotonic()
            self.elapsed_label.setText(f"Elapsed {_duration(end - self._run_start)}")
        rate = self.rate()
        self.rate_label.setText(f"{rate:.2f} trials/s" if rate else "— trials/s")
        if rate and self._target and self._done < self._target:
            self.eta_label.setText(f"ETA {_duration((self._target - self._done) / rate)}")
        else:
            self.eta_label.setText("ETA —")


def _same_file(a: str, b: str) -> bool:
    """The same interpreter path (absolute, not resolved: a venv's python is a symlink to its base's)."""
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _own_optuna() -> str:
    from importlib import metadata

    try:
        return f"optuna {metadata.version('optuna')}"
    except metadata.PackageNotFoundError:
        return "no optuna"


def _breakable(path: str) -> str:
    """A path that a word-wrapped label may break after each separator (zero-width spaces)."""
    return path.replace("/", "/\u200b").replace("\\", "\\\u200b")
