"""The fleet processes this window started: `optgui run --workers N` (a coordinator and its local workers) and
extra `optgui worker` processes, as QProcess children, so the GUI thread never waits for them.

They run the window's Python with an isolated import path (optgui.core.engine._child_process): the window's environment
minus its PYTHON* variables. Their output is kept (last lines) for the error dialog when one
exits with an error. Shutting down is in order: the caller first sends the fleet a stop through the study (the
trials in flight are finished and told), then shutdown() waits; a process still alive after the grace period gets
SIGTERM (its own ordered stop), and SIGKILL only as the last resort.
"""

from __future__ import annotations

import collections
import sys
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from optgui.core.engine import isolated_environment, python_command

OUTPUT_LINES = 40
STOP_GRACE_MS = 60_000  # after the stop command: long trials finish first
TERMINATE_GRACE_MS = 15_000  # after SIGTERM


def optgui_command(*args: str) -> tuple[str, list[str]]:
    """This Python running optgui (`python -P -s -m optgui ...`): the same installation as the window."""

    program, *arguments = python_command("optgui", *args)
    return program, arguments


def isolated_process_environment() -> QProcessEnvironment:

    env = QProcessEnvironment()
    for key, value in isolated_environment().items():
        env.insert(key, value)
    return env


@dataclass
class ChildProcess:
    role: str  # "fleet" (optgui run --workers) or "worker"
    process: QProcess
    output: collections.deque = field(default_factory=lambda: collections.deque(maxlen=OUTPUT_LINES))
    pid: int = 0


class FleetProcesses(QObject):
    failed = Signal(str, str)  # message (the process's last error line), details (its last output lines)
    all_exited = Signal()  # no child process is left

    def __init__(self, parent=None):
        super().__init__(parent)
        self.children: list[ChildProcess] = []
        self.shutting_down = False
        self._terminate_timer = QTimer(self, singleShot=True, interval=STOP_GRACE_MS)
        self._terminate_timer.timeout.connect(self._terminate_all)
        self._kill_timer = QTimer(self, singleShot=True, interval=TERMINATE_GRACE_MS)
        self._kill_timer.timeout.connect(self._kill_all)

    @property
    def running(self) -> list[ChildProcess]:
        return [c for c in self.children if c.process.state() != QProcess.ProcessState.NotRunning]

    def pids(self) -> list[int]:
        """Every pid this window started (also those that have exited)."""
        return [c.pid for c in self.children if c.pid]

    def start(self, role: str, args: list[str]) -> ChildProcess:
        program, arguments = optgui_command(*args)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.setProcessEnvironment(isolated_process_environment())
        child = ChildProcess(role, process)
        process.readyReadStandardOutput.connect(lambda c=child: self._read(c))
        process.started.connect(lambda c=child: setattr(c, "pid", int(c.process.processId())))
        process.finished.connect(lambda code, status, c=child: self._finished(c, code, status))
        process.errorOccurred.connect(lambda error, c=child: self._error(c, error))
        self.children.append(child)
        process.start(program, arguments)
        return child

    def _read(self, child: ChildProcess) -> None:
        text = bytes(child.process.readAllStandardOutput()).decode("utf-8", "replace")
        child.output.extend(line for line in text.splitlines() if line.strip())

    def _finished(self, child: ChildProcess, code: int, status) -> None:
        self._read(child)
        crashed = status == QProcess.ExitStatus.CrashExit
        if not self.shutting_down and (code != 0 or crashed):
            errors = [line for line in child.output if "error" in line.lower()]
            last = (errors or list(child.output) or [""])[-1]
            message = (
                last.removeprefix("optgui: error: ").removeprefix("optgui: ")
                if last
                else f"the {child.role} process exited with code {code}"
            )
            if crashed and not last:
                message = f"the {child.role} process crashed"
            self.failed.emit(message, "\n".join(child.output))
        self._check_all_exited()

    def _error(self, child: ChildProcess, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.failed.emit(f"cannot start {sys.executable} -m optgui: {child.process.errorString()}", "")
            self._check_all_exited()

    def _check_all_exited(self) -> None:
        if not self.running:
            self._terminate_timer.stop()
            self._kill_timer.stop()
            self.shutting_down = False
            self.all_exited.emit()

    def shutdown(self) -> None:
        """Wait for the children (already told to stop through the study); escalate after the grace periods."""
        if not self.running:
            self.all_exited.emit()
            return
        if not self.shutting_down:
            self.shutting_down = True
            self._terminate_timer.start()

    def _terminate_all(self) -> None:
        for child in self.running:
            child.process.terminate()  # SIGTERM: coordinator and workers stop in order
        self._kill_timer.start()

    def _kill_all(self) -> None:
        for child in self.running:
            child.process.kill()
