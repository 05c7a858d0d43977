"""The Fleet tab of the study view: start N local workers on a shared storage (PostgreSQL/MySQL or a journal file),
watch every worker of the study's fleet — also those started from a terminal or another machine — and Pause /
Resume / Stop the whole fleet through the study itself, as `optgui control` does.

Reading and writing the storage happens in FleetMonitor's thread; processes are QProcess children
(FleetProcesses). This module only turns snapshots into widgets and clicks into requests.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from optgui.core import fleet as fl
from optgui.core.errors import OptguiError
from optgui.core.records import RunState
from optgui.qt import dialogs, theme
from optgui.qt.fleet.fleet_monitor import FleetMonitor, FleetSnapshot
from optgui.qt.fleet.fleet_processes import FleetProcesses
from optgui.qt.flow_layout import FlowLayout
from optgui.qt.paths_shown import shown_name
from optgui.qt.study.run_state import ENDED, SessionRunState

COLUMNS = ("Worker", "Host", "PID", "State", "Trial", "Evaluated", "Heartbeat")
S = SessionRunState
FINAL_STATES = frozenset({S.STOPPED, S.COMPLETED, S.FAILED})
GONE = ("exited", "failed", "dead")
# The fleet's phase is a run state (None: no fleet has run the study).
PHASE_TEXT: dict[SessionRunState | None, str] = {
    None: "No fleet has run this study",
    S.RUNNING: "Running",
    S.PAUSING: "Pausing: finishing the trials in flight…",
    S.PAUSED: "Paused",
    S.STOPPING: "Stopping: finishing the trials in flight…",
    S.STOPPED: "Stopped",
    S.COMPLETED: "Completed",
    S.FAILED: "Failed",
    S.IDLE: "No worker running",
}


def live_workers(status: fl.FleetStatus) -> list[fl.WorkerStatus]:
    return [w for w in status.workers if w.state not in GONE]


def _recorded_state(status: fl.FleetStatus) -> SessionRunState | None:
    """The state the fleet's record holds (a RunState value), None when it holds none optgui knows."""
    try:
        return SessionRunState.of(status.state) if status.state else None
    except ValueError:
        return None


def fleet_phase(status: fl.FleetStatus) -> SessionRunState | None:
    """One state for the whole fleet (None: no fleet has run the study). The command decides between running and
    pausing/stopping; paused needs the fleet drained: no RUNNING trial and every live worker waiting (a free-running
    fleet has no coordinator to say so)."""
    live = live_workers(status)
    recorded = _recorded_state(status)
    if status.state is None and not status.workers:
        return None
    if recorded in FINAL_STATES and not live:
        return recorded
    if status.command == "pause":
        drained = not status.running_trials and all(w.state == RunState.PAUSED for w in live)
        coordinator_done = status.mode == "free" or recorded is S.PAUSED
        return S.PAUSED if drained and coordinator_done else S.PAUSING
    if status.command == "stop":
        return S.STOPPING if live or recorded not in FINAL_STATES else recorded
    if not live and recorded not in (S.RUNNING, S.PAUSING, S.STOPPING):
        return recorded or S.IDLE
    return S.RUNNING if live else S.IDLE


def labelled(label: str, field: QWidget) -> QWidget:
    """A field with its label before it, kept together when a row wraps."""
    pair = QWidget()
    row = QHBoxLayout(pair)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(QLabel(label))
    row.addWidget(field)
    return pair


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


START_TIP = (
    "Start a coordinator and N workers as child processes of this window (optgui run STORAGE --study NAME --workers N)"
)


class FleetPanel(QWidget):
    activity = Signal()  # the fleet moved (trials evaluated, state): the study view re-reads its trials
    settled = Signal(object)  # SessionRunState: the fleet reached paused, stopped or completed

    def __init__(self, request_fields: Callable[[], dict], confirm_write: Callable[[], bool], parent=None):
        super().__init__(parent)
        self.setObjectName("fleetPanel")
        self._request_fields = request_fields
        self._confirm_write = confirm_write
        self.storage: str | None = None
        self.study: str | None = None
        self.display = ""
        self.supported = False
        self.unsupported_reason = ""
        self.recorded_fleet: dict | None = None  # the run record's fleet options, once a fleet has run
        self.single_run_active = False
        self.status: fl.FleetStatus | None = None
        self.evaluating: dict[int, int] = {}  # worker index -> trial in evaluation
        self.phase: SessionRunState | None = None
        self._last_signature = None
        self._close_then: Callable[[], None] | None = None

        self.monitor = FleetMonitor(self)
        self.monitor.status.connect(self._show_status)
        self.monitor.unavailable.connect(self._unavailable)
        self.monitor.command_failed.connect(self._command_failed)
        self.monitor.command_sent.connect(lambda command: self._set_note(f"Sent {command} to the fleet."))
        self.processes = FleetProcesses(self)
        self.processes.failed.connect(self._process_failed)
        self.processes.all_exited.connect(self._processes_exited)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(10)

        start_box = QGroupBox("Start workers on this machine")
        grid = QGridLayout(start_box)
        self.workers = QSpinBox()
        self.workers.setRange(1, 256)
        self.workers.setValue(2)
        self.workers.setToolTip("Number of local worker processes (optgui run --workers N)")
        self.batch = QSpinBox()
        self.batch.setRange(0, 100_000)
        self.batch.setSpecialValueText("= workers")
        self.batch.setToolTip(
            "Deterministic mode: trials asked per batch (--batch). Part of the run's definition: "
            "the same batch gives the same trials for any number of workers."
        )
        self.mode = QComboBox()
        self.mode.addItem("Deterministic", "deterministic")
        self.mode.addItem("Free-running (not reproducible)", "free")
        self.mode.setToolTip(
            "Deterministic: one coordinator samples in batches, workers evaluate, results are told "
            "in trial-number order. Free-running: classic Optuna, each worker samples."
        )
        self.mode.currentIndexChanged.connect(self._update_controls)
        self.start_button = QPushButton("Start fleet")
        self.start_button.setObjectName("primary")
        self.start_button.setToolTip(START_TIP)
        self.start_button.clicked.connect(self.start_fleet)
        self.add_button = QPushButton("Add worker")
        self.add_button.setToolTip("Start one more optgui worker process that joins the study's fleet")
        self.add_button.clicked.connect(self.add_worker)
        # Each field keeps its size (at 1000 px a grid row cut "= workers" and "Deterministic" short); the fields
        # wrap onto a second row instead.
        fields = FlowLayout(spacing=14)
        for label, widget in (("Workers", self.workers), ("Batch", self.batch), ("Mode", self.mode)):
            fields.addWidget(labelled(label, widget))
        grid.addLayout(fields, 0, 0, 1, 7)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        grid.addLayout(buttons, 1, 0, 1, 7)
        self.start_note = QLabel()
        self.start_note.setObjectName("muted")
        self.start_note.setWordWrap(True)
        self.start_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.start_note, 2, 0, 1, 7)
        outer.addWidget(start_box)

        fleet_box = QGroupBox("Fleet")
        fl_layout = QVBoxLayout(fleet_box)
        head = QHBoxLayout()
        self.state_label = QLabel()
        self.state_label.setObjectName("runState")
        self.state_label.setWordWrap(True)  # ("not available for this storage" is longer than a narrow row)
        head.addWidget(self.state_label, 1)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Every worker finishes its trial in flight, then waits (optgui control pause)")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the paused fleet (optgui control resume)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip(
            "Finish the trials in flight, then every process exits; Start fleet resumes later (optgui control stop)"
        )
        for button, command in (
            (self.pause_button, "pause"),
            (self.resume_button, "resume"),
            (self.stop_button, "stop"),
        ):
            button.clicked.connect(lambda _=False, c=command: self.send(c))
            head.addWidget(button)
        fl_layout.addLayout(head)
        self.detail_label = QLabel()
        self.detail_label.setObjectName("muted")
        fl_layout.addWidget(self.detail_label)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        fl_layout.addWidget(self.table, 1)
        self.note = QLabel()
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        fl_layout.addWidget(self.note)
        outer.addWidget(fleet_box, 1)

        t = theme.current()
        if t is not None:
            t.changed.connect(self._restyle)  # a bound slot: disconnected when the panel is deleted
        self._render()

    def _restyle(self, _colors) -> None:
        self._render()

    # --- study --------------------------------------------------------------------------------------------
    def open(self, storage: str, study: str, kind: str, display: str, run_record: dict | None) -> None:
        """Follow a study. kind is the reader's ("sqlite", "journal" or "rdb"); run_record the study's optgui run
        record (its "fleet" entry fixes mode and batch)."""
        if (storage, study) != (self.storage, self.study):
            self.monitor.retire()
            self.status, self.evaluating, self._last_signature = None, {}, None
        self.storage, self.study, self.display = storage, study, display
        try:
            fl.require_parallel_storage(kind)
            self.supported, self.unsupported_reason = True, ""
        except OptguiError as exc:
            self.supported, self.unsupported_reason = False, str(exc)
        self.recorded_fleet = None
        self.set_run_record(run_record)
        if self.supported and not self.monitor.active:
            self.monitor.start(storage, study)
        self._set_note("")
        self._render()

    def set_run_record(self, run_record: dict | None) -> None:
        """The study's run record was re-read (a fleet that ran since fixes mode and batch)."""
        fleet = (run_record or {}).get("fleet")
        if fleet != self.recorded_fleet:
            self.recorded_fleet = fleet
            if fleet:
                self.mode.setCurrentIndex(max(0, self.mode.findData(fleet.get("mode"))))
                self.batch.setValue(int(fleet.get("batch") or 0))
            self._render()

    def set_single_run_active(self, active: bool) -> None:
        self.single_run_active = active
        self._update_controls()

    def started_here(self, lease: dict | None) -> bool:
        """Whether a run lease is held by a process this window started (the fleet's coordinator)."""
        import socket

        return (
            bool(lease)
            and lease.get("host") == socket.gethostname()
            and int(lease.get("pid") or 0) in self.processes.pids()
        )

    @property
    def busy(self) -> bool:
        """Processes started here are running: the study must stay open until they end."""
        return bool(self.processes.running)

    # --- starting ------------------------------------------------------------------------------------------
    def fleet_arguments(self) -> list[str]:
        """`optgui run` arguments for N local workers, from this tab and the run panel's definition and budget."""
        n = self.workers.value()
        args = ["run", self.storage, "--study", self.study, "--workers", str(n), "--quiet"]
        if not self.recorded_fleet:
            mode = self.mode.currentData()
            args += ["--mode", mode]
            if mode == "deterministic":
                args += ["--batch", str(self.batch.value() or n)]
        fields = self._request_fields()
        for option, key in (
            ("--n-trials", "n_trials"),
            ("--timeout", "timeout"),
            ("--objective", "objective"),
            ("--sampler", "sampler"),
            ("--pruner", "pruner"),
            ("--seed", "seed"),
            ("--python", "python"),  # the run panel's Python: the coordinator records it, the workers use it
        ):
            if fields.get(key) is not None:
                args += [option, str(fields[key])]
        return args

    def start_fleet(self) -> None:
        if self.study is None:
            return
        if not self.supported:
            dialogs.error(self, "Cannot start a fleet", self.unsupported_reason)
            return
        if self.busy or self.single_run_active:
            dialogs.error(self, "Cannot start a fleet", "This study is already being run from this window.")
            return
        fields = self._request_fields()
        if "objective" in fields and not fields["objective"]:
            dialogs.error(
                self,
                "Cannot start a fleet",
                "Choose an objective in the run panel first (e.g. file.py:search_space,evaluate or builtin:quadratic).",
            )
            return
        if not self._confirm_write():
            return
        self.processes.start("fleet", self.fleet_arguments())
        self._set_note(f"Started {self.workers.value()} workers.")
        self._update_controls()

    def add_worker(self) -> None:
        if self.study is None:
            return
        if not self.supported:
            dialogs.error(self, "Cannot start a worker", self.unsupported_reason)
            return
        if not self._confirm_write():
            return
        python = self._request_fields().get("python")
        extra = ["--python", python] if python else []  # (else the Python the study recorded)
        self.processes.start("worker", ["worker", self.storage, "--study", self.study, "--quiet", *extra])
        self._set_note("Started one more worker.")
        self._update_controls()

    def _process_failed(self, message: str, details: str) -> None:
        self._set_note(f"A fleet process failed: {message}")
        dialogs.error(self, "The fleet process failed", message, details)

    def _processes_exited(self) -> None:
        self._update_controls()
        then, self._close_then = self._close_then, None
        if then is not None:
            QTimer.singleShot(0, then)

    # --- control -------------------------------------------------------------------------------------------
    def send(self, command: str) -> None:
        """Pause, resume or stop every process of the study's fleet (written into the study by the monitor)."""
        if not self.monitor.send(command):
            dialogs.error(
                self, f"Cannot {command} the fleet", self.unsupported_reason or "The study's storage cannot be reached."
            )

    def _command_failed(self, command: str, message: str, details: str) -> None:
        dialogs.error(self, f"Cannot {command} the fleet", message, details)

    def _unavailable(self, message: str, details: str) -> None:
        self._set_note(f"Cannot read the fleet: {message}")
        self._render()

    # --- closing -------------------------------------------------------------------------------------------
    def close_when_stopped(self, then: Callable[[], None]) -> bool:
        """True when the window may close now. Otherwise asks (once) to stop the fleet this window started, sends
        the stop through the study, and calls `then` when every child process has exited."""
        if not self.busy:
            return True
        if self._close_then is not None or self.processes.shutting_down:
            return False
        choice = dialogs.choose(
            self,
            "A fleet is running",
            f"This window started {len(self.processes.running)} fleet process(es) on study {self.study!r}. They "
            "finish the trials in flight and exit before the window closes; Start fleet resumes the run later.",
            ["Stop the fleet and quit"],
        )
        if choice is None:
            return False
        self._close_then = then
        self.monitor.send("stop")
        self.processes.shutdown()
        return False

    def close(self) -> None:
        """The window is closing: end the monitor thread."""
        self.monitor.stop()

    # --- display -------------------------------------------------------------------------------------------
    def _show_status(self, snapshot: FleetSnapshot) -> None:
        previous = self.phase
        status = self.status = snapshot.status
        self.evaluating = snapshot.evaluating
        self.phase = fleet_phase(status)
        signature = (status.state, status.command, status.running_trials, sum(w.n_evaluated for w in status.workers))
        if signature != self._last_signature:
            self._last_signature = signature
            self.activity.emit()
        self._render()
        if self.phase != previous and self.phase in ENDED:
            self.settled.emit(self.phase)

    def _set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _render(self) -> None:
        c = theme.colors()
        status = self.status
        if not self.supported and self.study is not None:
            phase_text, color = "Parallel runs are not available for this storage", c.muted
        else:
            phase_text = PHASE_TEXT.get(self.phase, str(self.phase))
            color = {
                S.RUNNING: c.info,
                S.PAUSING: c.warn,
                S.PAUSED: c.warn,
                S.STOPPING: c.warn,
                S.COMPLETED: c.ok,
                S.FAILED: c.bad,
            }.get(self.phase, c.muted)
        self.state_label.setText(f'<span style="color:{color}; font-weight:600">● {phase_text}</span>')
        if status is not None and (status.mode or status.workers):
            live = live_workers(status)
            parts = [f"{status.mode or '?'} mode"]
            if self.recorded_fleet and self.recorded_fleet.get("mode") == "deterministic":
                parts.append(f"batch {self.recorded_fleet.get('batch')}")
            parts.append(f"{len(live)} of {len(status.workers)} workers live")
            flight = ", ".join(str(n) for n in status.running_trials[:12])
            more = "…" if len(status.running_trials) > 12 else ""
            parts.append(f"trials in flight: {flight}{more}" if flight else "no trial in flight")
            self.detail_label.setText("   ·   ".join(parts))
        else:
            self.detail_label.setText("")
        self._fill_table(status)
        self._update_controls()
        if self.supported and self.study is not None:
            self.start_note.setText(
                "Uses the run definition and trial budget of the run panel. Workers on other machines join with "
                f"optgui worker {shown_name(self.display)} --study {self.study}"
            )
        else:
            self.start_note.setText(self.unsupported_reason)

    def _fill_table(self, status: fl.FleetStatus | None) -> None:
        workers = status.workers if status is not None else ()
        c = theme.colors()
        colors = {
            "running": c.info,
            "paused": c.warn,
            "stopping": c.warn,
            "starting": c.muted,
            "dead": c.bad,
            "failed": c.bad,
            "exited": c.muted,
        }
        self.table.setRowCount(len(workers))
        for row, w in enumerate(workers):
            trial = self.evaluating.get(w.index)
            values = (
                str(w.index),
                w.host,
                str(w.pid),
                w.state,
                "—" if trial is None else str(trial),
                str(w.n_evaluated),
                "—" if w.state in ("exited", "failed") else _age(w.heartbeat_age),
            )
            for col, value in enumerate(values):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(value)
                item.setTextAlignment(
                    Qt.AlignmentFlag.AlignVCenter
                    | (Qt.AlignmentFlag.AlignRight if col in (0, 2, 4, 5) else Qt.AlignmentFlag.AlignLeft)
                )
                if col == 3:
                    from PySide6.QtGui import QColor

                    item.setForeground(QColor(colors.get(w.state, c.foreground)))

    def _update_controls(self) -> None:
        status = self.status
        live = bool(status and live_workers(status))
        fleet_on = live or self.busy or (self.phase is not None and self.phase.active)
        command = status.command if status else "run"
        ready = self.supported and self.study is not None
        # On a storage that cannot take a fleet, Start is disabled (clicking it only brought a refusal): the note
        # under it and its tooltip say why.
        self.start_button.setEnabled(ready and not self.busy and not live and not self.single_run_active)
        self.start_button.setToolTip(START_TIP if self.supported else f"Not available: {self.unsupported_reason}")
        self.add_button.setEnabled(
            ready and not self.single_run_active and bool(self.recorded_fleet or (status and status.mode))
        )
        watching = ready and self.monitor.active
        self.pause_button.setEnabled(watching and fleet_on and command == "run")
        self.resume_button.setEnabled(watching and command == "pause" and fleet_on)
        self.stop_button.setEnabled(watching and fleet_on and command != "stop")
        fixed = bool(self.recorded_fleet)
        self.mode.setEnabled(ready and not fixed and not fleet_on)
        self.batch.setEnabled(ready and not fixed and not fleet_on and self.mode.currentData() == "deterministic")
        self.workers.setEnabled(ready and not self.busy)
