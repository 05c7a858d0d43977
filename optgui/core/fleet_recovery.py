"""Recovering a deterministic fleet whose coordinator died.

Workers never sample, so everything the dead coordinator did is in the study: trials asked (each with its complete
suggest phase, except perhaps the last one, when the coordinator died in the middle of asking), results posted by
workers, tells made in trial-number order. The coordinator's order of asks and tells is a fixed function of the
segment's start, the batch size and pipelining (`coordinator_schedule`), so the study tells how far it got: every
event of the schedule up to the crash happened, none after it. Recovery

1. re-enacts those events (asks with the recorded suggests, tells with the recorded outcomes) from the segment's
   latest saved state (optgui.core.replay), which rebuilds the sampler state of the moment of the crash;
2. on RDB storages re-enters the last asked trial of a batch that was still being asked (its suggest phase may be
   incomplete): its partial suggestions are deleted and it is asked again under the same number, as
   optgui.core.recovery does for a single process;
3. hands the coordinator the batches in flight: results already posted are told, unevaluated trials are released
   again (a dead worker's claim is taken over), and the schedule continues where it stopped, so the finished
   trials equal the uninterrupted batched loop.

The new segment records `resumed_by: "recovery"` and, under "recovery", `schedule_from`: the boundary whose saved
state the schedule was re-enacted from (it continues across the crash, it does not restart at the new segment).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field

import optuna
from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi
from optgui.core import metadata as md
from optgui.core import rng_state
from optgui.core.errors import StudyStateError
from optgui.core.events import RecoveryPerformed
from optgui.core.recovery import RecoveryError, choose_start_state, reset_zombie_rdb
from optgui.core.replay import Reenactor
from optgui.core.storage import open_for_run
from optgui.core.versions import versions_for


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


@dataclass
class CoordinatorRecovery:
    """What the recovered coordinator continues with."""

    pending: list[list[FrozenTrial]]  # batches asked and not (fully) told, untold trials only; pending[0] released
    partial_batch_size: int  # trials already asked in the last pending batch, if it was still being asked, else 0
    reenter_trial_id: int | None  # the last trial of that batch, asked again under its number (RDB)
    info: dict = field(default_factory=dict)


def recover_dead_coordinator(coordinator, meta) -> CoordinatorRecovery:
    """Set up `coordinator` (a prepared Coordinator holding the lease) to continue its dead predecessor's segment."""
    storage, study_id = coordinator._storage, coordinator._study_id
    segment = meta.last_segment
    options = coordinator.options
    coordinator._run_record = meta.run
    coordinator._sampler_spec, coordinator._pruner_spec = coordinator._specs_from_record(meta)
    coordinator._target = (meta.target or {}).get("n_trials")
    if coordinator.request.n_trials is not None:
        coordinator._target = coordinator.request.n_trials
    coordinator._directions = meta.run["directions"]
    dead_fleet = coordinator._store.fleet_attrs().get("optgui:fleet") or {}

    trials = storage.get_all_trials(study_id, deepcopy=False)
    # A segment that itself recovered a dead coordinator continues that coordinator's schedule: its batches count
    # from where the schedule was re-enacted from, not from its own first trial.
    recovered = segment.get("recovery") or {}
    start = (
        recovered["schedule_from"]
        if segment.get("resumed_by") == "recovery" and recovered.get("coordinator")
        else segment["start_trial"]
    )
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
    if zombie is not None and coordinator._ref.kind == "journal":
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
    events = coordinator_schedule(replay_from, last_asked, options.batch, options.pipeline)
    crash = _crash_index(events, by_number, zombie)

    # 1. Rebuild the sampler state at the crash.
    reenactor = Reenactor(
        coordinator._sampler_spec.build(),
        study_name=coordinator.request.study_name,
        directions=coordinator._directions,
        pruner=coordinator._pruner_spec.build(),
    )
    reenactor.add_history(t for t in trials if t.number < replay_from)
    reenactor.set_study_attrs(record.get("study_attrs", {}))
    reenactor.restore(record["sampler_state"])
    replay_trials = {}
    mismatch = None
    for kind, number in events[:crash]:
        if kind == "ask":
            replay_trials[number], m = reenactor.reenact_partial(by_number[number])
            mismatch = mismatch or m
        else:
            reenactor.finish(replay_trials.pop(number), by_number[number])
    sampler = coordinator._sampler_spec.build()
    rng_state.restore(sampler, reenactor.capture())
    if replay_from not in meta.states:  # persist the state the schedule is re-enacted from (write-once)
        coordinator._storage.set_study_system_attr(
            study_id,
            md.state_key(replay_from),
            {**{k: v for k, v in record.items() if k != "segment"}, "boundary": replay_from},
        )

    # 2. The zombie: ask it again under the same number (its partial suggestions and the sampler-owned study
    #    attributes it changed are rolled back to the moment before its ask).
    reenter_id = None
    if zombie is not None:
        reenter_id = oi.trial_id(zombie)
        reset_zombie_rdb(
            oi.sql_engine(storage), study_id=study_id, trial_id=reenter_id, study_attrs=reenactor.study_attrs()
        )
        storage, _ = open_for_run(coordinator._ref, create=False)  # nothing cached from before the reset
        coordinator._storage = storage
        coordinator._lease.rebind(storage)
        coordinator._store.storage = storage
        storage.set_trial_system_attr(
            reenter_id, md.TRIAL_RECOVERED, {"segment": segment["index"] + 1, "dead_segment": segment["index"]}
        )

    # 3. The batches in flight, in order: untold trials grouped by the batch they belong to.
    pending: dict[int, list[FrozenTrial]] = {}
    for t in untold:
        if t is zombie:
            continue
        pending.setdefault((t.number - replay_from) // options.batch, []).append(t)
    partial = 0
    if zombie is not None:
        b = (zombie.number - replay_from) // options.batch
        pending.setdefault(b, [])
        partial = zombie.number - (replay_from + b * options.batch)  # asked before the zombie, in its batch
    batches = [pending[b] for b in sorted(pending)]
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

    # Segments: the dead one ends "crashed"; the new one continues its schedule.
    end = dict(segment.get("end") or {})
    end.update(
        {
            "reason": end.get("reason", "crashed"),
            "at": md.now_iso(),
            "last_trial": first_untold - 1,
            "detected_by_recovery": True,
        }
    )
    storage.set_study_system_attr(study_id, md.segment_key(segment["index"]), {**segment, "end": end})
    index = segment["index"] + 1
    coordinator._segment = {
        "index": index,
        "start_trial": first_untold,
        "state_key": md.state_key(replay_from),
        "started": md.now_iso(),
        "host": os.uname().nodename,
        "pid": os.getpid(),
        "versions": versions_for(coordinator._sampler_spec, coordinator._pruner_spec),
        "resumed_by": "recovery",
        "accepted": getattr(coordinator, "_accepted", None) or None,
        "foreign_before": [],
        "recovery": info,
        "end": None,
    }
    storage.set_study_system_attr(study_id, md.segment_key(index), coordinator._segment)
    coordinator._sampler = sampler
    coordinator._reenter_trial_id = None  # the coordinator re-enters it itself, inside its batch
    coordinator._nothing_to_do = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coordinator.study = optuna.load_study(
            study_name=coordinator.request.study_name,
            storage=storage,
            sampler=sampler,
            pruner=coordinator._pruner_spec.build(),
        )
    if getattr(coordinator, "_pickle_key", None) is not None:  # sign what this study's sampler stores
        from optgui.core.pickle_trust import PickleRecorder

        coordinator._pickle_recorder = PickleRecorder(oi.study_storage(coordinator.study))
    from optgui.core.runner import _count_finished

    coordinator._n_finished = _count_finished(
        md.read_metadata(storage, study_id), storage.get_all_trials(study_id, deepcopy=False)
    )
    coordinator._last_checkpoint = time.monotonic()
    coordinator._last_trial = first_untold - 1 if first_untold > start else None
    coordinator._emit(
        RecoveryPerformed(
            segment["index"],
            info["zombie"],
            info["handling"],
            info["replayed_trials"],
            info["equivalent"],
            info["reason"],
        )
    )
    coordinator.notes.append(describe(info))
    return CoordinatorRecovery(batches, partial, reenter_id, info)


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
