"""Crash recovery: rebuild the sampler state of a dead run and deal with its zombie trial, so that the finished
trials equal an uninterrupted run.

The dead process saved its sampler state only at its segment start and at checkpoints (saving after every trial
would cost +6-15% per trial on SQLite). Recovery replays the sampler from the latest saved state over the trials
finished since (optgui.core.engine._replay), which reconstructs the exact state the dead process had when it asked its
last trial z. Then the zombie z (RUNNING, maybe with some parameters already suggested):

* on RDB storages it is *re-entered*: its partial suggestions, attributes and intermediate values are deleted,
  the sampler-owned study attributes it changed (e.g. QMCSampler's sample counter) are rolled back to their values
  before z, and the next run continues trial z under the same number with the reconstructed state. The study is
  then exactly as if z had just been asked, which keeps samplers that depend on trial numbers or storage counters
  (CMA-ES, QMC, Grid, BruteForce) equivalent to an uninterrupted run.
* on journal files (append-only) it is told FAIL and tagged `optgui:abandoned`, and the run continues from the
  state before z. Samplers that ignore FAIL trials and trial numbers stay equivalent; for the others the new
  segment records that it is not, and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from optuna.trial import TrialState

from optgui.core import _optuna_internals as oi
from optgui.core.engine._replay import Reenactor
from optgui.core.records import PREFIX, TRIAL_ABANDONED, TRIAL_ERROR, StudyMetadata

# Samplers whose suggestions ignore FAIL trials and trial numbers: abandoning a zombie keeps them equivalent.
FAIL_BLIND_SAMPLERS = {"RandomSampler", "TPESampler", "NSGAIISampler", "NSGAIIISampler", "GPSampler"}


@dataclass
class RecoveryPlan:
    boundary: int  # number of the first trial the new segment samples
    sampler_state: dict
    study_attrs: dict
    reenter_trial_id: int | None
    info: dict = field(default_factory=dict)


def choose_start_state(meta: StudyMetadata, segment: dict, last_finished_plus_one: int) -> tuple[int, dict]:
    """The latest saved state of the dead segment that lies within its finished trials."""
    candidates: dict[int, dict] = {}
    for boundary, record in meta.states.items():
        if segment["start_trial"] <= boundary <= last_finished_plus_one:
            candidates[boundary] = record
    cp = meta.checkpoint
    if (
        cp
        and cp.get("segment") == segment["index"]
        and segment["start_trial"] <= cp["boundary"] <= last_finished_plus_one
    ):
        if cp["boundary"] not in candidates:
            candidates[cp["boundary"]] = cp
    if not candidates:
        raise RecoveryError(f"no saved sampler state found for segment {segment['index']}")
    boundary = max(candidates)
    return boundary, candidates[boundary]


def plan_recovery(
    *,
    trials,
    meta: StudyMetadata,
    build_sampler,
    build_pruner,
    study_name: str,
    directions,
    sampler_name: str,
    reentry_supported: bool,
) -> RecoveryPlan:
    """Work out (without writing anything) how to continue after a dead run.

    trials: every FrozenTrial of the study in number order.
    """
    segment = meta.last_segment
    if segment is None:
        raise RecoveryError("the study has no run segment to recover")
    running = [t for t in trials if t.state == TrialState.RUNNING and t.number >= segment["start_trial"]]
    finished_numbers = [t.number for t in trials if t.state.is_finished()]
    zombie = None
    notes = []
    equivalent = True
    if len(running) == 1 and running[0].number == trials[-1].number:
        zombie = running[0]
    elif not running and trials and _abandoned_by_recovery_of(trials[-1], segment):
        # An earlier recovery of this segment abandoned the zombie and was interrupted before it recorded the new
        # segment: recover exactly as it did (from the state before the zombie), not as if the zombie had run.
        zombie = trials[-1]
    elif running:
        equivalent = False
        notes.append(
            f"{len(running)} unfinished trials ({', '.join(str(t.number) for t in running)}): another "
            "process wrote to the study during the run"
        )
    limit = zombie.number if zombie is not None else (max(finished_numbers) + 1 if finished_numbers else 0)
    if running and zombie is None:
        limit = min(t.number for t in running)
    start, record = choose_start_state(meta, segment, limit)

    reenactor = Reenactor(build_sampler(), study_name=study_name, directions=directions, pruner=build_pruner())
    reenactor.add_history(t for t in trials if t.number < start)
    reenactor.set_study_attrs(record.get("study_attrs", {}))
    reenactor.restore(record["sampler_state"])
    mismatch = None
    replayed = 0
    for trial in trials:
        if trial.number < start or trial.number >= limit:
            continue
        m = reenactor.reenact(trial)
        replayed += 1
        if m is not None and mismatch is None:
            mismatch = m
    if mismatch is not None:
        equivalent = False
        notes.append(
            f"replaying the dead run from its saved state diverged at trial {mismatch.number} "
            f"({mismatch.param}: recorded {mismatch.recorded!r}, replayed {mismatch.replayed!r})"
        )
    state = reenactor.capture()
    attrs = reenactor.study_attrs()

    handling = "none"
    reenter_id = None
    boundary = limit
    if zombie is not None:
        if reentry_supported:
            handling = "reentered"
            reenter_id = oi.trial_id(zombie)
        else:
            handling = "abandoned"
            boundary = zombie.number + 1
            if sampler_name not in FAIL_BLIND_SAMPLERS:
                equivalent = False
                notes.append(
                    f"trial {zombie.number} was abandoned (the journal file cannot be rolled back) and "
                    f"{sampler_name} depends on trial numbers or on what the abandoned trial consumed"
                )
    info = {
        "dead_segment": segment["index"],
        "dead_owner": meta.lease,
        "replayed_from": start,
        "replayed_trials": replayed,
        "zombie": zombie.number if zombie is not None else None,
        "handling": handling,
        "equivalent": equivalent,
        "reason": "; ".join(notes),
    }
    return RecoveryPlan(boundary, state, attrs, reenter_id, info)


def _abandoned_by_recovery_of(trial, segment: dict) -> bool:
    tag = trial.system_attrs.get(TRIAL_ABANDONED)
    return (
        isinstance(tag, dict)
        and tag.get("segment") == segment["index"]
        and trial.number >= segment["start_trial"]
        and trial.state == TrialState.FAIL
    )


def reset_zombie_rdb(engine, *, study_id: int, trial_id: int, study_attrs: dict[str, Any]) -> None:
    """Make the zombie look just asked, and roll sampler-owned study attributes back, in one transaction.

    "Just asked" includes its start time: kept, the re-entered trial's duration would count the dead attempt and
    the downtime (a 0.1 s objective showed 64 s). Optuna's storage API sets `datetime_start` only when a WAITING
    trial starts, and going through WAITING would let another process's ask() take the trial; so the reset, already
    one transaction on Optuna's schema, sets it the way Optuna does (a naive local `datetime.now()`)."""
    from datetime import datetime

    from sqlalchemy import DateTime, bindparam, text

    with engine.begin() as conn:
        restart = text("UPDATE trials SET datetime_start = :now WHERE trial_id = :t").bindparams(
            bindparam("now", type_=DateTime())
        )
        conn.execute(restart, {"now": datetime.now(), "t": trial_id})
        for table in (
            "trial_params",
            "trial_intermediate_values",
            "trial_user_attributes",
            "trial_values",
            "trial_heartbeats",
        ):
            conn.execute(text(f"DELETE FROM {table} WHERE trial_id = :t"), {"t": trial_id})
        # optgui's own trial attributes stay (e.g. optgui:recovered), except the error text of the dead attempt
        # (written before its tell): the re-entered trial records its own.
        conn.execute(
            text("DELETE FROM trial_system_attributes WHERE trial_id = :t AND (key NOT LIKE 'optgui:%' OR key = :e)"),
            {"t": trial_id, "e": TRIAL_ERROR},
        )
        rows = conn.execute(
            text("SELECT key, value_json FROM study_system_attributes WHERE study_id = :s"), {"s": study_id}
        ).fetchall()
        current = {k: v for k, v in rows if not k.startswith(PREFIX)}
        for key in current.keys() - study_attrs.keys():
            conn.execute(
                text("DELETE FROM study_system_attributes WHERE study_id = :s AND key = :k"), {"s": study_id, "k": key}
            )
        for key, value in study_attrs.items():
            encoded = json.dumps(value)
            if key not in current:
                conn.execute(
                    text("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (:s, :k, :v)"),
                    {"s": study_id, "k": key, "v": encoded},
                )
            elif json.loads(current[key]) != value:
                conn.execute(
                    text("UPDATE study_system_attributes SET value_json = :v WHERE study_id = :s AND key = :k"),
                    {"s": study_id, "k": key, "v": encoded},
                )


class RecoveryError(Exception):
    pass
