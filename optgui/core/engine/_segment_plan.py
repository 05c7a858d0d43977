"""What the next run segment of a study does, decided from what the study holds: a pure planning step.

`plan_segment(meta, trials, ...)` reads nothing and writes nothing: it takes the study's optgui metadata and its
trials (plain values) and returns a `SegmentPlan` — how the segment starts (a fresh start, a resume after a clean
end, or the recovery of a segment whose process died), the boundary it starts at and the saved state restored
there, the trials re-entered or abandoned, the trials other processes added meanwhile, and whether there is
anything to do at all. The runner then carries the plan out (optgui.core.engine._runner), in an order that survives
being cut anywhere.

A recovery is planned by re-enacting the dead segment in memory (optgui.core.engine._recovery.plan_recovery); that too
writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine._recovery import RecoveryPlan, plan_recovery
from optgui.core.engine._samplers import Spec, parse_spec
from optgui.core.errors import StudyStateError
from optgui.core.records import StudyMetadata

# How a segment that ended with one of these reasons left a saved state at its end: the next one resumes from it.
ENDED_WITH_STATE = records.ENDED_WITH_STATE

SegmentStart = Literal["start", "resume", "recovery"]


@dataclass(frozen=True)
class TrialToAbandon:
    """An unfinished trial the segment tells FAIL, tagged abandoned, before it runs anything."""

    trial_id: int
    number: int
    segment: int  # the segment it belonged to
    reason: str


@dataclass(frozen=True)
class SegmentPlan:
    """What the next segment of a study does (see the module docstring)."""

    index: int  # the new segment's index
    resumed_by: SegmentStart
    boundary: int  # the first trial number the segment runs; its sampler state is saved under this boundary
    target: int | None  # how many finished trials the run aims at (None: no limit)
    n_finished: int  # finished trials of the run so far, as optimize counts them
    nothing_to_do: bool  # the target is met already: no segment, nothing written
    saved_state: dict | None  # the state record restored at the boundary (resume); None: a fresh sampler's
    recovery: RecoveryPlan | None  # the re-enactment of a dead segment (resumed_by "recovery")
    reenter: tuple[int, int] | None  # (trial id, number) of a RUNNING trial run again under its number, first
    abandon: tuple[TrialToAbandon, ...]  # unfinished trials told FAIL before the segment runs
    foreign_before: tuple[int, ...]  # trials other processes added since the last segment ended
    notes: tuple[str, ...]  # what the user is told about the plan

    @property
    def restores_state(self) -> bool:
        return self.saved_state is not None or self.recovery is not None


def count_finished(meta: StudyMetadata, trials: Sequence[FrozenTrial]) -> int:
    """Finished trials of the run, as optimize counts them (FAIL counts; abandoned and foreign trials do not)."""
    mine = meta.optgui_trial_numbers(len(trials))
    return sum(
        1
        for t in trials
        if t.number in mine and t.state.is_finished() and records.TRIAL_ABANDONED not in t.system_attrs
    )


def run_target(meta: StudyMetadata, n_trials: int | None) -> int | None:
    """The target of this invocation: --n-trials when given, else the recorded one."""
    return n_trials if n_trials is not None else (meta.target or {}).get("n_trials")


def ended_with_state(segment: dict | None) -> bool:
    return segment is not None and (segment.get("end") or {}).get("reason") in ENDED_WITH_STATE


def specs_of(meta: StudyMetadata) -> tuple[Spec, Spec]:
    """The recorded sampler and pruner specs."""
    run = _run_record(meta)
    return parse_spec(run["sampler"], "sampler"), parse_spec(run["pruner"], "pruner")


def plan_segment(
    meta: StudyMetadata,
    trials: Sequence[FrozenTrial],
    *,
    n_trials: int | None,
    study_name: str,
    reentry_supported: bool,
) -> SegmentPlan:
    """The next segment of the study `meta` and `trials` describe; `n_trials` is the invocation's --n-trials.
    `reentry_supported`: the storage can roll a zombie trial back and ask it again (RDB, not journal files)."""
    run = _run_record(meta)
    target = run_target(meta, n_trials)
    last = meta.last_segment
    n_finished = count_finished(meta, trials)
    if last is None:
        return SegmentPlan(
            index=0,
            resumed_by="start",
            boundary=len(trials),
            target=target,
            n_finished=n_finished,
            nothing_to_do=target is not None and n_finished >= target,
            saved_state=None,
            recovery=None,
            reenter=None,
            abandon=(),
            foreign_before=(),
            notes=(),
        )
    if ended_with_state(last):
        return _plan_resume(meta, trials, last, target=target, n_finished=n_finished)
    sampler_spec, pruner_spec = specs_of(meta)
    recovery = plan_recovery(
        trials=list(trials),
        meta=meta,
        build_sampler=sampler_spec.build,
        build_pruner=pruner_spec.build,
        study_name=study_name,
        directions=run["directions"],
        sampler_name=sampler_spec.name,
        reentry_supported=reentry_supported,
    )
    abandon: tuple[TrialToAbandon, ...] = ()
    zombie_number = recovery.info["zombie"]
    if recovery.reenter_trial_id is None and zombie_number is not None:
        zombie = next(t for t in trials if t.number == zombie_number)
        if zombie.state == TrialState.RUNNING:
            abandon = (
                TrialToAbandon(oi.trial_id(zombie), zombie.number, last["index"], "process died during the trial"),
            )
    return SegmentPlan(
        index=last["index"] + 1,
        resumed_by="recovery",
        boundary=recovery.boundary,
        target=target,
        n_finished=n_finished,
        nothing_to_do=False,  # a dead segment is always closed, even when its target was met
        saved_state=None,
        recovery=recovery,
        reenter=(recovery.reenter_trial_id, zombie_number) if recovery.reenter_trial_id is not None else None,
        abandon=abandon,
        foreign_before=(),
        notes=(),
    )


def _plan_resume(
    meta: StudyMetadata, trials: Sequence[FrozenTrial], last: dict, *, target: int | None, n_finished: int
) -> SegmentPlan:
    """A segment that ended with a saved state goes on from it. A zombie that a recovery re-entered but did not run
    before the run was stopped (a Ctrl-C during recovery) is re-entered now, so it never stays RUNNING; when other
    trials were added meanwhile it is abandoned instead."""
    saved_boundary = last["end"]["last_trial"] + 1
    record = meta.states.get(saved_boundary)
    if record is None:
        raise StudyStateError(
            f"the sampler state saved at trial {saved_boundary} is missing from the "
            "study; it cannot be resumed deterministically"
        )
    pending = pending_reentry(last, trials)
    reenter = None
    abandon: tuple[TrialToAbandon, ...] = ()
    foreign_before: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    if pending is not None and pending.number == len(trials) - 1 == saved_boundary:
        reenter = (oi.trial_id(pending), pending.number)
    else:
        if pending is not None:
            reason = "other trials were added while it waited to be re-entered"
            abandon = (TrialToAbandon(oi.trial_id(pending), pending.number, last["index"], reason),)
        foreign_before = tuple(range(saved_boundary, len(trials)))
        if foreign_before:
            notes = (
                f"{len(foreign_before)} trials ({foreign_before[0]}–{foreign_before[-1]}) were "
                "added by another process since optgui paused: the resumed run is no longer "
                "equivalent to an uninterrupted one",
            )
    return SegmentPlan(
        index=last["index"] + 1,
        resumed_by="resume",
        boundary=saved_boundary if reenter is not None else len(trials),
        target=target,
        n_finished=n_finished,
        nothing_to_do=target is not None and n_finished >= target,
        saved_state=record,
        recovery=None,
        reenter=reenter,
        abandon=abandon,
        foreign_before=foreign_before,
        notes=notes,
    )


def pending_reentry(segment: dict, trials: Sequence[FrozenTrial]) -> FrozenTrial | None:
    """The zombie a recovery re-entered in `segment` but never ran (the run stopped first), if still RUNNING."""
    number = (segment.get("end") or {}).get("reentry_pending")
    if number is None:
        return None
    trial = next((t for t in trials if t.number == number), None)
    return trial if trial is not None and trial.state == TrialState.RUNNING else None


def _run_record(meta: StudyMetadata) -> dict:
    if meta.run is None:
        raise StudyStateError("the study has no optgui run record to plan a segment from")
    return meta.run
