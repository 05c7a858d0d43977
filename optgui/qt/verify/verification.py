"""The GUI's door to the verifier (optgui.core.verify._process / objective_check): both run in child processes,
read by a background task (optgui.qt.tasks.tasks), so the GUI never waits for them; their results become a
BadgeState."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from optgui.core.verify import DIVERGED, VERIFIED, ObjectiveCheck, Verdict, VerificationState
from optgui.core.verify import VerifyJob as CoreJob
from optgui.qt.tasks.tasks import TaskSlot, TaskState

if TYPE_CHECKING:
    from optgui.core.verify import VerifyJob as CoreJob

# A check's process is started this long after it is asked for: the asking happens in a busy GUI pass (the end of
# a run), and the task that starts the process takes the interpreter lock in turns with the GUI thread.
LAUNCH_DELAY_MS = 40
# start_soon(): how long after the request the check (and its "Checking…" badge) starts; used at the end of a run,
# whose event-loop pass is the GUI's busiest.
SOON_MS = 150
OBJECTIVE_CHECK_TRIALS = 10
VERIFY_NICENESS = 10  # the verifier's child runs below the GUI (optgui.core.engine._priority)


@dataclass(frozen=True)
class BadgeState:
    kind: VerificationState  # never NOT_REPRODUCIBLE: the badge shows such a verdict as unverifiable
    text: str
    checked: int = 0
    total: int = 0
    verdict: dict = field(default_factory=dict)  # what the verdict dialog shows

    @property
    def equivalent(self) -> bool:
        return bool(self.verdict.get("equivalent"))

    @classmethod
    def none(cls, text: str = "Not checked") -> BadgeState:
        return cls(VerificationState.NOT_CHECKED, text)

    @classmethod
    def checking(cls, checked: int, total: int, first: int | None = None, last: int | None = None) -> BadgeState:
        if total <= 0:  # the verifier has not counted the trials yet: "0 of 0" would read as an empty study
            return cls(VerificationState.CHECKING, "Checking…", checked, total)
        span = f"{first if first is not None else 0}–{last}" if last is not None else "0"
        return cls(VerificationState.CHECKING, f"Checking… {span} of {total}", checked, total)

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
            return cls(VerificationState.NOT_CHECKED, "Nothing to check yet: no finished trials", 0, 0, details)
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
            return cls(VerificationState.VERIFIED, text, v.n_checked, v.n_total, details)
        if v.kind == DIVERGED:
            at = v.divergence.trial if v.divergence is not None else "?"
            return cls(VerificationState.DIVERGED, f"Diverged at trial {at}", v.n_checked, v.n_total, details)
        return cls(VerificationState.UNVERIFIABLE, f"Not verifiable: {v.reason}", v.n_checked, v.n_total, details)

    @classmethod
    def failed(cls, reason: str) -> BadgeState:
        return cls(VerificationState.UNVERIFIABLE, f"Not verifiable: {reason}", verdict={"reason": reason})


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
    the check in flight (the verifier's and the objective check's child processes are killed)."""

    state = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._task = TaskSlot(self, "verify")
        self.verdict: Verdict | None = None
        self.last: BadgeState = BadgeState.none()
        self.target: tuple[str, str] | None = None

    @property
    def running(self) -> bool:
        return self._task.running

    def start_soon(self, storage: str, study: str) -> None:
        """start() in SOON_MS, in an event-loop pass of its own (cancel() still stops it)."""
        self._start_check(storage, study, None, SOON_MS / 1000, announce=False)

    def start(self, storage: str, study: str, *, check_objective: bool = False, spec: str | None = None) -> None:
        """Check `study`; `spec` is the sampler a study made by plain Optuna was made with (`optgui verify --spec`)."""
        if check_objective and self.verdict is not None:
            self._start_objective_check(storage, study)
        else:
            self._start_check(storage, study, spec, LAUNCH_DELAY_MS / 1000, announce=True)

    def _start_check(self, storage: str, study: str, spec: str | None, delay: float, *, announce: bool) -> None:
        self.target = (storage, study)
        self.verdict = None
        # Started a little later and from a thread: no process start in the GUI pass that asked for it.
        self._task.start(
            lambda state: _verify(state, storage, study, spec),
            name=f"verify {study}",
            delay=delay,
            started=None if announce else lambda: self._publish(BadgeState(VerificationState.CHECKING, "Checking…")),
            yielded=self._publish,
            returned=self._verified,
            errored=lambda error: self._publish(BadgeState.failed(error.message)),
        )
        if announce:
            self._publish(BadgeState(VerificationState.CHECKING, "Checking…"))

    def _verified(self, job: CoreJob) -> None:
        if job.verdict is not None:
            self.verdict = job.verdict
            self._publish(BadgeState.from_verdict(job.verdict))
        elif not job.cancelled:
            self._publish(BadgeState.failed(job.error or "the verifier stopped without a verdict"))

    def _start_objective_check(self, storage: str, study: str) -> None:
        self.target = (storage, study)
        self._task.start(
            lambda state: _objective_check(storage, study),
            name=f"objective check {study}",
            returned=self._objective_checked,
            errored=lambda error: self._objective_check_failed(str(error.exception)),
        )
        self._publish(BadgeState(VerificationState.CHECKING, "Checking the objective…", verdict=self.last.verdict))

    def _objective_checked(self, result: ObjectiveCheck) -> None:
        assert self.verdict is not None
        self.verdict = self.verdict.with_objective_check(result)
        self._publish(BadgeState.from_verdict(self.verdict))

    def _objective_check_failed(self, message: str) -> None:
        # Shown in the verdict dialog, never fatal.
        assert self.verdict is not None
        check = ObjectiveCheck(None, (), note=message or "failed")
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

    def cancel(self) -> None:
        self._task.cancel()

    def _publish(self, state: BadgeState) -> None:
        self.last = state
        self.state.emit(state)


def _verify(state: TaskState, storage: str, study: str, spec: str | None) -> Iterator[BadgeState]:
    """The verifier's child process, read in a task: its progress as BadgeStates, then the finished job."""

    job = CoreJob(storage, study, spec=spec, niceness=VERIFY_NICENESS)
    state.on_cancel(lambda: job.cancel(wait=False))
    if state.cancelled:
        return job
    for message in job:  # blocks until the child has exited (killed by a cancel)
        p = message.progress
        if p is not None:
            yield BadgeState.checking(p.checked, p.total, p.first_trial, p.last_trial)
    return job


def _objective_check(storage: str, study: str) -> ObjectiveCheck:
    # imported on use, not with this module (it loads Optuna): start-up time
    from optgui.core.verify import run_objective_check

    return run_objective_check(storage, study, OBJECTIVE_CHECK_TRIALS)
