"""The GUI's door to the verifier: runs it in a child process (never on the GUI thread) and turns its output
into a BadgeState. A new check cancels the one in flight."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal


@dataclass(frozen=True)
class BadgeState:
    kind: str  # none | checking | verified | diverged | unverifiable
    text: str
    checked: int = 0
    total: int = 0
    verdict: dict = field(default_factory=dict)

    @property
    def equivalent(self) -> bool:
        return bool(self.verdict.get("equivalent"))

    @classmethod
    def none(cls, text: str = "Not checked") -> "BadgeState":
        return cls("none", text)

    @classmethod
    def checking(cls, checked: int, total: int) -> "BadgeState":
        return cls("checking", f"Checking… 0–{checked} of {total}", checked, total)

    @classmethod
    def from_verdict(cls, v: dict) -> "BadgeState":
        status = v.get("status")
        n, total = int(v.get("n_checked", 0)), int(v.get("n_total", 0))
        if status == "verified":
            text = f"Sampler replay verified {n}/{total}"
            text += " · equivalent to an uninterrupted run" if v.get("equivalent") else " · replayable only"
            obj = v.get("objective")
            if obj is None:
                text += " · objective not checked"
            elif obj["reproduced"] == obj["checked"]:
                text += f" · objective reproduced {obj['reproduced']}/{obj['checked']}"
            else:
                text += f" · objective differs at trial {obj['first_mismatch']['trial']} " \
                        f"({obj['reproduced']}/{obj['checked']} reproduced)"
            return cls("verified", text, n, total, v)
        if status == "diverged":
            return cls("diverged", f"Diverged at trial {v['divergence']['trial']}", n, total, v)
        return cls("unverifiable", f"Not verifiable: {v.get('reason', 'unknown reason')}", n, total, v)


def _child_environment() -> QProcessEnvironment:
    env = QProcessEnvironment.systemEnvironment()
    # The child must import this very optgui (a source checkout may shadow an installed one).
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = env.value("PYTHONPATH", "")
    env.insert("PYTHONPATH", package_root + (os.pathsep + path if path else ""))
    return env


class VerifyJob(QObject):
    """One verification of one study in a child process. Emits `state` (BadgeState) as it progresses."""

    state = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._proc: QProcess | None = None
        self._buffer = b""
        self.last: BadgeState = BadgeState.none()
        self.target: tuple[str, str] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None

    def start(self, storage: str, study: str, *, check_objective: bool = False) -> None:
        self.cancel()
        self.target = (storage, study)
        proc = QProcess(self)
        proc.setProcessEnvironment(_child_environment())
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(lambda *_: self._finished(proc))
        args = ["-m", "optgui.qt.verify_child", storage, study]
        if check_objective:
            args.append("--objective")
        self._proc = proc
        self._buffer = b""
        self._publish(BadgeState("checking", "Checking…"))
        proc.start(sys.executable, args)

    def cancel(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.finished.disconnect()
            proc.readyReadStandardOutput.disconnect()
            proc.kill()
            proc.waitForFinished(2000)
            proc.deleteLater()

    def wait(self, ms: int = 30000) -> bool:
        if self._proc is None:
            return True
        return self._proc.waitForFinished(ms)

    def _read(self) -> None:
        if self._proc is None:
            return
        self._buffer += bytes(self._proc.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "progress" in message:
                self._publish(BadgeState.checking(*message["progress"]))
            elif "verdict" in message:
                self._publish(BadgeState.from_verdict(message["verdict"]))

    def _finished(self, proc: QProcess) -> None:
        if proc is not self._proc or not shiboken6.isValid(proc) or not shiboken6.isValid(self):
            return  # cancelled, or torn down with the application
        self._read()
        if self.last.kind == "checking":
            err = bytes(proc.readAllStandardError()).decode(errors="replace").strip().splitlines()
            reason = err[-1] if err else f"the verifier exited with code {proc.exitCode()}"
            self._publish(BadgeState("unverifiable", f"Not verifiable: {reason}", verdict={"reason": reason}))
        self._proc = None
        proc.deleteLater()

    def _publish(self, state: BadgeState) -> None:
        self.last = state
        self.state.emit(state)
