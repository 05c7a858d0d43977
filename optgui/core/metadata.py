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
                            "recovery": {...}|null, "end": null | {"reason", "at", "last_trial", "n_finished",
                            "states"}}
                           end.reason: paused | stopped | completed | exhausted | timeout | interrupted | failed |
                           crashed (written by the recovery that found the dead segment).
                           end.states: the states of trials start_trial..last_trial as the segment left them,
                           run-length encoded ("12C1F3P": 12 COMPLETE, 1 FAIL, 3 PRUNED; "?" unfinished), so that
                           the verifier sees a deleted last trial or an edited state at the trial it concerns.
                           Absent when the segment did not end cleanly (a crash) or was written by an older optgui.
  optgui:state:<b>         the sampler state at resume boundary b (= the number of the first trial sampled
                           from it): {"boundary": b, "sampler_state": {...}, "study_attrs": {...}, "saved"}.
                           One key per boundary, never overwritten; the verifier restores it at b.
                           study_attrs may be stored incrementally: with "study_attrs_base": a (an earlier
                           boundary), "study_attrs" holds only the attributes added or changed since the state
                           at a, and "study_attrs_removed" the keys gone since then. GA samplers add one parent
                           cache per generation and never change it, so full copies grew with every generation.
                           StudyMetadata.states always holds the full attributes (a record whose chain is broken
                           is left out, as if missing).
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
import itertools
import re
from collections.abc import Iterable
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


# One letter per trial state in end.states; anything unfinished is "?" (its state may still change).
STATE_LETTERS = {"COMPLETE": "C", "FAIL": "F", "PRUNED": "P"}
_STATE_NAMES = {letter: name for name, letter in STATE_LETTERS.items()}
_RUN = re.compile(r"(\d+)([CFP?])")


def encode_states(state_names: Iterable[str]) -> str:
    """Run-length encode trial state names: ["COMPLETE", "COMPLETE", "FAIL"] -> "2C1F"."""
    out = []
    for letter, group in itertools.groupby(STATE_LETTERS.get(name, "?") for name in state_names):
        out.append(f"{sum(1 for _ in group)}{letter}")
    return "".join(out)


def decode_states(text: str) -> list[str | None]:
    """The inverse of encode_states: state names, None for an unfinished trial. ValueError when malformed."""
    if not isinstance(text, str) or _RUN.sub("", text):
        raise ValueError(f"malformed trial states {text!r}")
    out: list[str | None] = []
    for count, letter in _RUN.findall(text):
        if len(out) + int(count) > 10_000_000:
            raise ValueError("trial states list too long")
        out.extend([_STATE_NAMES.get(letter)] * int(count))
    return out


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
        states = resolve_state_chain(states)
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


def resolve_state_chain(records: dict[int, dict]) -> dict[int, dict]:
    """State records with their study_attrs made full: each incremental record is applied on top of its base's
    (resolved) attributes. Records whose base is missing, later than themselves or malformed are left out."""
    resolved: dict[int, dict] = {}
    for boundary in sorted(records):
        record = records[boundary]
        if not isinstance(record, dict) or "study_attrs_base" not in record:
            resolved[boundary] = record
            continue
        base = record["study_attrs_base"]
        changed, removed = record.get("study_attrs"), record.get("study_attrs_removed", [])
        if (
            not isinstance(base, int)
            or base >= boundary
            or base not in resolved
            or not isinstance(resolved[base], dict)
            or not isinstance(resolved[base].get("study_attrs"), dict)
            or not isinstance(changed, dict)
            or not isinstance(removed, list)
        ):
            continue
        full = {k: v for k, v in resolved[base]["study_attrs"].items() if k not in removed}
        full.update(changed)
        resolved[boundary] = {
            k: v for k, v in record.items() if k not in ("study_attrs_base", "study_attrs_removed")
        } | {"study_attrs": full}
    return resolved


def incremental_study_attrs(study_attrs: dict[str, Any], base_boundary: int, base_attrs: dict[str, Any]) -> dict:
    """The fields of a state record that store `study_attrs` as a change from the (full) attributes saved at
    `base_boundary`."""
    return {
        "study_attrs": {k: v for k, v in study_attrs.items() if k not in base_attrs or base_attrs[k] != v},
        "study_attrs_base": base_boundary,
        "study_attrs_removed": sorted(k for k in base_attrs if k not in study_attrs),
    }


def read_metadata(storage, study_id: int) -> StudyMetadata:
    return StudyMetadata.from_system_attrs(storage.get_study_system_attrs(study_id))


def sampler_owned_study_attrs(storage, study_id: int) -> dict[str, Any]:
    """Study system attributes written by Optuna's samplers (QMC counters, GA parent caches, metric names...)."""
    return {k: v for k, v in storage.get_study_system_attrs(study_id).items() if not k.startswith(PREFIX)}
