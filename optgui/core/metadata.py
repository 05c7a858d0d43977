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
                            "recovery": {...}|null, "end": null | {"reason", "at", "last_trial", "n_finished"}}
                           end.reason: paused | stopped | completed | exhausted | timeout | interrupted | failed |
                           crashed (written by the recovery that found the dead segment).
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


# --------------------------------------------------------------------------------------- shape checks
# What the verifier and the objective check read from the metadata, by shape. A study file may come from anyone: a
# value of the wrong shape must be one clear error naming the key, not a TypeError deep inside a replay.
_SPEC = (dict, str)
_OPTIONAL_DICT = (dict, type(None))
_OPTIONAL_INT = (int, type(None))
_RUN_FIELDS = {
    "sampler": _SPEC,
    "pruner": (dict, str, type(None)),
    "seed": _OPTIONAL_INT,
    "objective": dict,
    "directions": list,
    "versions": dict,
    "history_until": _OPTIONAL_INT,
    "fleet": _OPTIONAL_DICT,
}
_REQUIRED_RUN_FIELDS = ("sampler", "objective", "directions", "versions")
_SEGMENT_FIELDS = {
    "index": int,
    "start_trial": int,
    "foreign_before": (list, type(None)),
    "end": _OPTIONAL_DICT,
    "recovery": _OPTIONAL_DICT,
    "accepted": _OPTIONAL_DICT,
    "versions": _OPTIONAL_DICT,
    "resumed_by": (str, type(None)),
}
_STATE_FIELDS = {"sampler_state": dict, "study_attrs": _OPTIONAL_DICT}


def _type_names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {dict: "an object", str: "a string", int: "an integer", list: "a list", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_fields(key: str, value: Any, fields: dict, required: tuple = ()) -> str | None:
    if not isinstance(value, dict):
        return f"{key} must be an object, not {_shown(value)}"
    for name in required:
        if name not in value:
            return f"{key} lacks {name!r}"
    for name, types in fields.items():
        if name in value and (not isinstance(value[name], types) or isinstance(value[name], bool)):
            return f"{key} field {name!r} must be {_type_names(types)}, not {_shown(value[name])}"
    return None


def _check_number_list(key: str, name: str, values) -> str | None:
    if values and not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return f"{key} field {name!r} must list trial numbers, not {_shown(values)}"
    return None


def _segment_problem(key: str, value: Any) -> str | None:
    problem = _check_fields(key, value, _SEGMENT_FIELDS, ("index", "start_trial"))
    if problem:
        return problem
    end = value.get("end")
    if end is not None and not isinstance(end.get("last_trial", 0), _OPTIONAL_INT):
        return f"{key} field 'end.last_trial' must be an integer, not {_shown(end.get('last_trial'))}"
    return _check_number_list(key, "foreign_before", value.get("foreign_before"))


def metadata_problem(attrs: dict[str, Any]) -> str | None:
    """What is malformed in a study's optgui metadata (one phrase naming the key), or None."""
    for key, value in attrs.items():
        if not key.startswith(PREFIX):
            continue
        problem = None
        if key == KEY_SCHEMA and (not isinstance(value, int) or isinstance(value, bool)):
            problem = f"{key} must be an integer, not {_shown(value)}"
        elif key == KEY_RUN:
            problem = _check_fields(key, value, _RUN_FIELDS, _REQUIRED_RUN_FIELDS)
            if problem is None and not all(isinstance(d, str) for d in value["directions"]):
                problem = f"{key} field 'directions' must list strings, not {_shown(value['directions'])}"
            if problem is None:
                fields = {"kind": str, "ref": str, "path": (str, type(None)), "import_root": (str, type(None))}
                problem = _check_fields(f"{key} field 'objective'", value["objective"], fields, ("kind", "ref"))
        elif key in (KEY_TARGET, KEY_CHECKPOINT, KEY_LEASE):
            problem = None if isinstance(value, _OPTIONAL_DICT) else f"{key} must be an object, not {_shown(value)}"
        elif key.startswith((KEY_SEGMENT, KEY_STATE)):
            prefix = KEY_SEGMENT if key.startswith(KEY_SEGMENT) else KEY_STATE
            if not key[len(prefix) :].isdigit():
                problem = f"{key!r} does not end in a number"
            elif prefix == KEY_SEGMENT:
                problem = _segment_problem(key, value)
            else:
                problem = _check_fields(key, value, _STATE_FIELDS, ("sampler_state",))
        if problem:
            return problem
    return None
