"""The GUI's door to the verifier (optgui.core.verify_process / objective_check): both run in child processes,
polled from a GUI timer, so the GUI never waits for them; their results become a BadgeState."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from optgui.core.verdict import DIVERGED, VERIFIED, ObjectiveCheck, Verdict

POLL_MS = 100
# A check's process is started this long after it is asked for: the asking happens in a busy GUI pass (the end of
# a run), and the thread that starts the process takes the interpreter lock in turns with the GUI thread.
LAUNCH_DELAY_MS = 40
# start_soon(): how long after the request the check (and its "Checking…" badge) starts; used at the end of a run,
# whose event-loop pass is the GUI's busiest.
SOON_MS = 150
OBJECTIVE_CHECK_TRIALS = 10
VERIFY_NICENESS = 10  # the verifier's child runs below the GUI (optgui.core.priority)


@dataclass(frozen=True)
class BadgeState:
    kind: str  # none | checking | verified | diverged | unverifiable
    text: str
    checked: int = 0
    total: int = 0
    verdict: dict = field(default_factory=dict)  # what the verdict dialog shows

    @property
    def equivalent(self) -> bool:
        return bool(self.verdict.get("equivalent"))

    @classmethod
    def none(cls, text: str = "Not checked") -> BadgeState:
        return cls("none", text)

    @classmethod
    def checking(cls, checked: int, total: int, first: int | None = None, last: int | None = None) -> BadgeState:
        if total <= 0:  # the verifier has not counted the trials yet: "0 of 0" would read as an empty study
            return cls("checking", "Checking…", checked, total)
        span = f"{first if first is not None else 0}–{last}" if last is not None else "0"
        return cls("checking", f"Checking… {span} of {total}", checked, total)

    @classmethod
    def from_verdict(cls, v: Verdict) -> BadgeState:
        details = {
            "sampler": v.sampler,
            "n_checked": v.n_checked,
            "n_total": v.n_total,
            "segments": len(v.segments),
            "equivalent": v.equivalent,
            "equivalence_reason": "; ".join(v.reasons),
            "cause": v.cause,
            "reason": v.reason,
            "versions": v.versions,
            "summary": v.summary(),
            "json": v.to_json_obj(),  # the verifier's own JSON (as `optgui verify --json`), for Export verdict
        }
        if v.divergence is not None:
            d = v.divergence
            details["divergence"] = {"trial": d.trial, "param": d.param, "recorded": d.recorded, "replayed": d.replayed}
        check = v.objective_check
        if check is not None:
            bad = next((t for t in check.trials if not t.reproduced), None)
            details["objective"] = {
                "checked": len(check.trials),
                "reproduced": check.n_reproduced,
                "first_mismatch": None
                if bad is None
                else {"trial": bad.trial, "recorded": bad.recorded, "reproduced": bad.error or bad.evaluated},
            }
        if v.kind == VERIFIED and v.n_total == 0:  # nothing was replayed: no claim, not a green badge
            return cls("none", "Nothing to check yet: no finished trials", 0, 0, details)
        if v.kind == VERIFIED:
            text = f"Sampler replay verified {v.n_checked}/{v.n_total}"
            text += " · equivalent to an uninterrupted run" if v.equivalent else " · replayable only"
            text += _version_change_text(v)
            if check is None:
                text += " · objective not checked"
            elif check.ok:
                text += f" · objective reproduced {check.n_reproduced}/{len(check.trials)}"
            else:
                text += f" · objective differs ({check.n_reproduced}/{len(check.trials)} reproduced)"
            return cls("verified", text, v.n_checked, v.n_total, details)
        if v.kind == DIVERGED:
            at = v.divergence.trial if v.divergence is not None else "?"
            return cls("diverged", f"Diverged at trial {at}", v.n_checked, v.n_total, details)
        return cls("unverifiable", f"Not verifiable: {v.reason}", v.n_checked, v.n_total, details)

    @classmethod
    def failed(cls, reason: str) -> BadgeState:
        return cls("unverifiable", f"Not verifiable: {reason}", verdict={"reason": reason})


def version_change_explanation(checks: list[dict]) -> str:
    """A "version change" note of the verdict in plain words: what the replay checked and what it costs."""
    statuses = {c.get("status") for c in checks}
    changes = "; ".join(f"{c.get('change')} at trial {c.get('trial')}" for c in checks)
    text = (
        f"The run went on under other versions of packages its sampler uses ({changes}). optgui does not refuse "
        "such a run: the verifier replays the history recorded before the change under today's versions and "
        "compares every parameter bit for bit. "
    )
    if "diverged" in statuses:
        return text + (
            "Here the replay differs: the new versions draw other parameters from the same seed, so the study is "
            "replayable only (each segment from its saved state), not equal to one uninterrupted run. Its trials "
            "stay valid; what it costs is the bit-for-bit equivalence."
        )
    if "unchecked" in statuses:
        return text + (
            "The replay did not reach the change yet (it stopped earlier), so whether the new versions matter is "
            "not known; check again when the study is complete."
        )
    return text + "The replay was identical: the change did not matter, and nothing was lost."


def _version_change_text(v: Verdict) -> str:
    """The badge's word on package version changes the run went through (none: nothing)."""
    statuses = {check.status for check in v.version_checks}
    if not statuses:
        return ""
    if "diverged" in statuses:
        return " · version change: replay differs"
    if "unchecked" in statuses:
        return " · version change: unchecked"
    return " · version change checked"


class VerifyJob(QObject):
    """Verification of one study at a time. Emits `state` (BadgeState) as it progresses; a new start() cancels
    the check in flight."""

    state = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._job = None
        self._objective: dict | None = None  # {"thread", "result", "error"} of a running objective check
        self.verdict: Verdict | None = None
        self.last: BadgeState = BadgeState.none()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._launch = QTimer(self)  # a child: it cannot fire after this object is gone
        self._launch.setSingleShot(True)
        self._launch.setInterval(LAUNCH_DELAY_MS)
        self._launch.timeout.connect(self._launch_job)
        self._soon = QTimer(self)  # start_soon(): a child, stopped by cancel()
        self._soon.setSingleShot(True)
        self._soon.setInterval(SOON_MS)
        self._soon.timeout.connect(lambda: self.start(*self._soon_target))
        self._soon_target: tuple[str, str] | None = None

    @property
    def running(self) -> bool:
        return self._job is not None or self._objective is not None or self._soon.isActive()

    def start_soon(self, storage: str, study: str) -> None:
        """start() in SOON_MS, in an event-loop pass of its own (cancel() still stops it)."""
        self.cancel()
        self._soon_target = (storage, study)
        self._soon.start()

    def start(self, storage: str, study: str, *, check_objective: bool = False, spec: str | None = None) -> None:
        """Check `study`; `spec` is the sampler a study made by plain Optuna was made with (`optgui verify --spec`)."""
        from optgui.core.verify_process import VerifyJob as CoreJob

        self.cancel()
        self.target = (storage, study)
        if check_objective and self.verdict is not None:
            self._start_objective_check(storage, study)
        else:
            self.verdict = None
            # Started a little later and from a thread: no process start in the GUI pass that asked for it.
            self._job = CoreJob(storage, study, spec=spec, niceness=VERIFY_NICENESS)
            self._launch.start()
            self._publish(BadgeState("checking", "Checking…"))
        self._timer.start()

    def _launch_job(self) -> None:
        if self._job is not None:
            self._job.start(background=True)

    def _start_objective_check(self, storage: str, study: str) -> None:
        from optgui.core.objective_check import run_objective_check

        box: dict = {}

        def work():
            try:
                box["result"] = run_objective_check(storage, study, OBJECTIVE_CHECK_TRIALS)
            except Exception as exc:  # noqa: BLE001 - shown in the verdict dialog, never fatal
                box["error"] = str(exc)

        box["thread"] = threading.Thread(target=work, name="optgui-objective-check", daemon=True)
        box["thread"].start()
        self._objective = box
        self._publish(BadgeState("checking", "Checking the objective…", verdict=self.last.verdict))

    def cancel(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.cancel(wait=False)
        self._objective = None  # its thread ends with its child process; the result is dropped
        self._timer.stop()
        self._launch.stop()
        self._soon.stop()

    def _poll(self) -> None:
        if self._objective is not None:
            box = self._objective
            if box["thread"].is_alive():
                return
            self._objective = None
            if "result" in box:
                self.verdict = self.verdict.with_objective_check(box["result"])
                self._publish(BadgeState.from_verdict(self.verdict))
            else:
                check = ObjectiveCheck(None, (), note=box.get("error", "failed"))
                state = BadgeState.from_verdict(self.verdict)
                self._publish(
                    BadgeState(
                        state.kind,
                        state.text + " · objective check failed",
                        state.checked,
                        state.total,
                        {**state.verdict, "objective_error": check.note},
                    )
                )
        if self._job is None:
            if self._objective is None:
                self._timer.stop()
            return
        job = self._job
        for message in job.poll():
            p = message.progress
            if p is not None:
                self._publish(BadgeState.checking(p.checked, p.total, p.first_trial, p.last_trial))
        if job.done:
            self._job = None
            if job.verdict is not None:
                self.verdict = job.verdict
                self._publish(BadgeState.from_verdict(job.verdict))
            elif not job.cancelled:
                self._publish(BadgeState.failed(job.error or "the verifier stopped without a verdict"))

    def _publish(self, state: BadgeState) -> None:
        self.last = state
        self.state.emit(state)
