"""optgui's run metadata, stored in the study itself as study/trial system attributes prefixed `optgui:`.

The database stays a valid Optuna database that `optuna` and optuna-dashboard read unchanged, and copying the file
carries everything. Schema version 1 (key `optgui:schema`):

Study system attributes
  optgui:schema            1
  optgui:run               immutable run record, written once when optgui first runs the study:
                           {"created", "optgui_version", "origin": "new"|"adopted", "history_until": N,
                            "sampler": SPEC-json, "pruner": SPEC-json, "seed", "objective": {"ref", "kind",
                            "path", "sha256"}, "directions": [...], "metric_names": [...]|null, "versions": {...}}
                           origin "adopted": the study already had N trials made elsewhere; claims start at N.
  optgui:target            {"n_trials": N|null}  the run's total target of finished trials (a rerun may raise it)
  optgui:segment:<i>       one per run segment (i = 0, 1, ...), written at its start and rewritten at its end:
                           {"index", "start_trial": b, "state_key", "started", "host", "pid", "versions",
                            "resumed_by": "start"|"resume"|"recovery", "accepted": {...}|null,
                            "foreign_before": [trial numbers made by others since the previous segment],
                            "recovery": {...}|null, "end": null | {"reason", "at", "last_trial", "n_finished"},
                            "output_log": the file on the segment's host holding its trials' captured output,
                            "version_change": {package: [before, now]} (only when a package the sampler uses
                            changed since the segment before; optgui.core.versions),
                            "pipeline_flush": true (pipelined fleets only: the pipeline restarts here)}
                           end.reason: paused | stopped | completed | exhausted | timeout | interrupted | failed |
                           crashed (written by the recovery that found the dead segment, which also sets
                           end.detected_by_recovery: true). Full description: docs/storage-format.md.
  optgui:state:<b>         the sampler state at resume boundary b (= the number of the first trial sampled
                           from it): {"boundary": b, "sampler_state": {...}, "study_attrs": {...}, "saved"}.
                           One key per boundary, never overwritten; the verifier restores it at b.
  optgui:checkpoint        the latest crash-recovery checkpoint, overwritten (at most every CHECKPOINT_SECONDS):
                           same shape as a state plus "segment". Only shortens the replay a recovery needs.
  optgui:lease             {"host", "pid", "token", "acquired", "heartbeat"} while a process runs the study;
                           {"released": true, ...} afterwards. Heartbeat at most every 10 s.

Trial system attributes
  optgui:error             {"type", "message", "traceback"} of an objective exception (written before tell).
  optgui:abandoned         {"segment", "reason"} on a trial that was told FAIL by crash recovery instead of
                           being re-entered; comparisons with an uninterrupted run skip it.
  optgui:recovered         {"segment", "dead_segment"} on a zombie trial that crash recovery re-entered, keeping
                           its number (its partial suggestions were rolled back and sampled again).

Which trials optgui made is told by the segments: trial k is optgui's iff start_trial(i) <= k < start_trial(i+1)
(or k <= end.last_trial for the last one) and k is not listed in a segment's "foreign_before". A per-trial marker
attribute would cost one more storage commit per trial (~+5% on SQLite), above the 2% budget for bookkeeping.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
PREFIX = "optgui:"
KEY_SCHEMA = "optgui:schema"
KEY_RUN = "optgui:run"
KEY_TARGET = "optgui:target"
KEY_SEGMENT = "optgui:segment:"
KEY_STATE = "optgui:state:"
KEY_CHECKPOINT = "optgui:checkpoint"
KEY_LEASE = "optgui:lease"
TRIAL_ERROR = "optgui:error"
TRIAL_ABANDONED = "optgui:abandoned"
TRIAL_RECOVERED = "optgui:recovered"

CHECKPOINT_SECONDS = 60.0


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def state_key(boundary: int) -> str:
    return f"{KEY_STATE}{boundary}"


def segment_key(index: int) -> str:
    return f"{KEY_SEGMENT}{index}"


@dataclass(frozen=True)
class StudyMetadata:
    """Everything optgui stored in one study, parsed from its study system attributes."""

    schema: int | None
    run: dict | None
    target: dict | None
    segments: tuple[dict, ...]
    states: dict[int, dict]
    checkpoint: dict | None
    lease: dict | None
    foreign_keys: dict[str, Any] = field(default_factory=dict)  # non-optgui system attrs (sampler-owned)

    @property
    def present(self) -> bool:
        return self.run is not None

    @property
    def last_segment(self) -> dict | None:
        return self.segments[-1] if self.segments else None

    @classmethod
    def from_system_attrs(cls, attrs: dict[str, Any]) -> StudyMetadata:
        segments = []
        states = {}
        others = {}
        for key, value in attrs.items():
            if key.startswith(KEY_SEGMENT):
                segments.append(value)
            elif key.startswith(KEY_STATE):
                states[int(key[len(KEY_STATE) :])] = value
            elif not key.startswith(PREFIX):
                others[key] = value
        segments.sort(key=lambda s: s["index"])
        return cls(
            schema=attrs.get(KEY_SCHEMA),
            run=attrs.get(KEY_RUN),
            target=attrs.get(KEY_TARGET),
            segments=tuple(segments),
            states=states,
            checkpoint=attrs.get(KEY_CHECKPOINT),
            lease=attrs.get(KEY_LEASE),
            foreign_keys=others,
        )

    def optgui_trial_numbers(self, n_trials_total: int) -> set[int]:
        """Trial numbers made by optgui according to the segments (see module docstring)."""
        numbers: set[int] = set()
        for i, seg in enumerate(self.segments):
            start = seg["start_trial"]
            if i + 1 < len(self.segments):
                stop = self.segments[i + 1]["start_trial"]
            elif seg.get("end"):
                stop = seg["end"]["last_trial"] + 1
            else:
                stop = n_trials_total
            numbers.update(range(start, stop))
            numbers.difference_update(seg.get("foreign_before") or [])
        for seg in self.segments:
            numbers.difference_update(seg.get("foreign_before") or [])
        return numbers


def read_metadata(storage, study_id: int) -> StudyMetadata:
    return StudyMetadata.from_system_attrs(storage.get_study_system_attrs(study_id))


def sampler_owned_study_attrs(storage, study_id: int) -> dict[str, Any]:
    """Study system attributes written by Optuna's samplers (QMC counters, GA parent caches, metric names...)."""
    return {k: v for k, v in storage.get_study_system_attrs(study_id).items() if not k.startswith(PREFIX)}
