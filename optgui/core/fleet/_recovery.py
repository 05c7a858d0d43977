"""Recovering a deterministic fleet whose coordinator died.

Workers never sample, so everything the dead coordinator did is in the study: trials asked (each with its complete
suggest phase, except perhaps the last one, when the coordinator died in the middle of asking), results posted by
workers, tells made in trial-number order. The coordinator's order of asks and tells is a fixed function of the
segment's start, the batch size and pipelining (`coordinator_schedule`), so the study tells how far it got: every
event of the schedule up to the crash happened, none after it. Recovery

1. re-enacts those events (asks with the recorded suggests, tells with the recorded outcomes) from the segment's
   latest saved state (optgui.core.engine._replay), which rebuilds the sampler state of the moment of the crash;
2. on RDB storages re-enters the last asked trial of a batch that was still being asked (its suggest phase may be
   incomplete): its partial suggestions are deleted and it is asked again under the same number, as
   optgui.core.engine._recovery does for a single process;
3. hands the coordinator the batches in flight: results already posted are told, unevaluated trials are released
   again (a dead worker's claim is taken over), and the schedule continues where it stopped, so the finished
   trials equal the uninterrupted batched loop.

`plan_coordinator_recovery` computes all of this from the study's metadata and trials without writing anything
(the re-enactment runs in memory); the coordinator carries the plan out (`Coordinator._recover_dead_coordinator`).

The new segment records `resumed_by: "recovery"` and, under "recovery", `schedule_from`: the boundary whose saved
state the schedule was re-enacted from (it continues across the crash, it does not restart at the new segment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi
from optgui.core.engine._recovery import RecoveryError, choose_start_state
from optgui.core.engine._replay import Mismatch, Reenactor
from optgui.core.engine._samplers import Spec
from optgui.core.errors import StudyStateError
from optgui.core.records import StudyMetadata


def coordinator_schedule(start: int, last_asked: int, batch: int, pipeline: bool) -> list[tuple[str, int]]:
    """("ask", n) and ("tell", n) in the order a coordinator performs them for trials start..last_asked, batches of
    `batch` from `start`. Asks after last_asked never happened (the crash came first, or the coordinator was
    draining), so they are left out and only the tells of the trials asked remain.

    Without pipelining: ask batch b, tell batch b. With it: ask b0, ask b1, tell b0, ask b2, tell b1, ...
    """
    batches = [list(range(s, min(s + batch, last_asked + 1))) for s in range(start, last_asked + 1, batch)]
    events: list[tuple[str, int]] = []
    for b, numbers in enumerate(batches):
        events += [("ask", n) for n in numbers]
        told = b - 1 if pipeline else b
        if told >= 0:
            events += [("tell", n) for n in batches[told]]
    if pipeline and batches:
        events += [("tell", n) for n in batches[-1]]
    return events


@dataclass(frozen=True)
class CoordinatorRecovery:
    """How a coordinator continues its dead predecessor's segment: planned from the study alone (no writes)."""

    pending: list[list[FrozenTrial]]  # batches asked and not (fully) told, untold trials only; pending[0] released
    partial_batch_size: int  # trials already asked in the last pending batch, if it was still being asked, else 0
    reenter_trial_id: int | None  # the last trial of that batch, asked again under its number (RDB)
    info: dict = field(default_factory=dict)  # the new segment's "recovery" record
    replay_from: int = 0  # the boundary whose saved state the schedule was re-enacted from
    start_state: dict = field(default_factory=dict)  # that saved state record (written there if it is not yet)
    start_state_saved: bool = True  # the study holds it under replay_from already
    sampler_state: dict = field(default_factory=dict)  # the sampler's state at the crash, from the re-enactment
    study_attrs: dict = field(default_factory=dict)  # the sampler-owned study attributes at the crash
    first_untold: int = 0  # the first trial not told: where the new segment starts
    schedule_start: int = 0  # the first trial of the dead coordinator's schedule

    @property
    def dead_segment(self) -> int:
        return int(self.info["dead_segment"])


def plan_coordinator_recovery(
    meta: StudyMetadata,
    trials: Sequence[FrozenTrial],
    dead_fleet: dict,
    *,
    batch: int,
    pipeline: bool,
    sampler_spec: Spec,
    pruner_spec: Spec,
    study_name: str,
    reentry_supported: bool,
) -> CoordinatorRecovery:
    """Plan the continuation of the dead coordinator whose segment is the study's last one. `dead_fleet` is its
    fleet record (optgui:fleet); `reentry_supported`: the storage can roll a trial back (RDB, not journal files)."""
    segment = meta.last_segment
    run = meta.run
    if segment is None or run is None:
        raise StudyStateError("cannot recover the dead coordinator: the study has no run segment")
    start = _schedule_start(segment)
    mine = [t for t in trials if t.number >= start]
    last_asked = mine[-1].number if mine else start - 1
    by_number = {t.number: t for t in trials}
    # The last trial is certainly complete only if the dead coordinator recorded its whole batch as asked.
    asked_below = int(dead_fleet.get("asked_below", 0)) if dead_fleet.get("session") else 0
    zombie = (
        by_number[last_asked]
        if mine and last_asked >= asked_below and by_number[last_asked].state == TrialState.RUNNING
        else None
    )
    if zombie is not None and not reentry_supported:
        raise StudyStateError(
            f"the coordinator died while asking trial {zombie.number}, and a journal file cannot "
            "roll back its partial suggestions; a deterministic fleet on a journal file can "
            "only be recovered from a crash between asks"
        )

    untold = [t for t in mine if not t.state.is_finished()]
    first_untold = untold[0].number if untold else last_asked + 1
    try:
        # A checkpoint is taken only with nothing asked and untold: the schedule starts afresh at its boundary.
        replay_from, record = choose_start_state(meta, {**segment, "start_trial": start}, first_untold)
    except RecoveryError as exc:
        raise StudyStateError(f"cannot recover the dead coordinator: {exc}") from None
    events = coordinator_schedule(replay_from, last_asked, batch, pipeline)
    crash = _crash_index(events, by_number, zombie)

    # The sampler state at the crash: the schedule re-enacted up to it.
    reenactor = Reenactor(
        sampler_spec.build(), study_name=study_name, directions=run["directions"], pruner=pruner_spec.build()
    )
    reenactor.add_history(t for t in trials if t.number < replay_from)
    reenactor.set_study_attrs(record.get("study_attrs", {}))
    reenactor.restore(record["sampler_state"])
    mismatch = _reenact(reenactor, events[:crash], by_number)
    batches, partial = _batches_in_flight(untold, zombie, replay_from, batch)
    info = {
        "dead_segment": segment["index"],
        "dead_owner": meta.lease,
        "coordinator": True,
        "schedule_from": replay_from,
        "replayed_from": replay_from,
        "replayed_trials": sum(1 for kind, _ in events[:crash] if kind == "ask"),
        "in_flight": [t.number for batch in batches for t in batch] + ([zombie.number] if zombie else []),
        "zombie": zombie.number if zombie is not None else None,
        "handling": "reentered" if zombie is not None else "none",
        "equivalent": mismatch is None,
        "reason": ""
        if mismatch is None
        else (
            f"replaying the dead coordinator's schedule diverged at trial {mismatch.number} ({mismatch.param}: "
            f"recorded {mismatch.recorded!r}, replayed {mismatch.replayed!r})"
        ),
        "drained": dead_fleet.get("state") in ("pausing", "stopping"),
    }
    return CoordinatorRecovery(
        pending=batches,
        partial_batch_size=partial,
        reenter_trial_id=oi.trial_id(zombie) if zombie is not None else None,
        info=info,
        replay_from=replay_from,
        start_state={**{k: v for k, v in record.items() if k != "segment"}, "boundary": replay_from},
        start_state_saved=replay_from in meta.states,
        sampler_state=reenactor.capture(),
        study_attrs=reenactor.study_attrs(),
        first_untold=first_untold,
        schedule_start=start,
    )


def _schedule_start(segment: dict) -> int:
    """The first trial of the dead coordinator's schedule. A segment that itself recovered a dead coordinator
    continues that coordinator's schedule: its batches count from where the schedule was re-enacted from, not from
    its own first trial."""
    recovered = segment.get("recovery") or {}
    if segment.get("resumed_by") == "recovery" and recovered.get("coordinator"):
        return int(recovered["schedule_from"])
    return int(segment["start_trial"])


def _reenact(reenactor: Reenactor, events: list[tuple[str, int]], by_number: dict[int, FrozenTrial]) -> Mismatch | None:
    """Re-enact the asks and tells of the schedule that happened; the first mismatch with the record, if any."""
    replay_trials = {}
    mismatch = None
    for kind, number in events:
        if kind == "ask":
            replay_trials[number], m = reenactor.reenact_partial(by_number[number])
            mismatch = mismatch or m
        else:
            reenactor.finish(replay_trials.pop(number), by_number[number])
    return mismatch


def _batches_in_flight(
    untold: list[FrozenTrial], zombie: FrozenTrial | None, replay_from: int, batch: int
) -> tuple[list[list[FrozenTrial]], int]:
    """The batches in flight, in order (untold trials grouped by the batch they belong to; the zombie is asked
    again), and how many trials of the zombie's batch were asked before it."""
    pending: dict[int, list[FrozenTrial]] = {}
    for t in untold:
        if t is zombie:
            continue
        pending.setdefault((t.number - replay_from) // batch, []).append(t)
    partial = 0
    if zombie is not None:
        b = (zombie.number - replay_from) // batch
        pending.setdefault(b, [])
        partial = zombie.number - (replay_from + b * batch)  # asked before the zombie, in its batch
    return [pending[b] for b in sorted(pending)], partial


def _crash_index(events, by_number, zombie) -> int:
    """The first event of the schedule that did not happen; every later one must not have happened either."""
    crash = len(events)
    for i, (kind, number) in enumerate(events):
        trial = by_number[number]
        if (kind == "ask" and trial is zombie) or (kind == "tell" and not trial.state.is_finished()):
            crash = i
            break
    for kind, number in events[crash:]:
        if kind == "tell" and by_number[number].state.is_finished():
            raise StudyStateError(
                f"trial {number} was finished out of the coordinator's order (another process "
                "wrote to the study?); the fleet cannot be recovered deterministically"
            )
    return crash


def describe(info: dict) -> str:
    text = (
        f"recovered the fleet from a coordinator that died: re-enacted its schedule from the state saved at "
        f"trial {info['schedule_from']} ({info['replayed_trials']} asks)"
    )
    if info["in_flight"]:
        text += f"; continuing trials {info['in_flight'][0]}–{info['in_flight'][-1]} that were in flight"
    if info["zombie"] is not None:
        text += f" (trial {info['zombie']} asked again under its number)"
    if not info["equivalent"]:
        text += f"; NOT equivalent to an uninterrupted run: {info['reason']}"
    return text
