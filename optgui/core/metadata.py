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
                            "states"},
                            "output_log": the file on the segment's host holding its trials' captured output,
                            "version_change": {package: [before, now]} (only when a package the sampler uses
                            changed since the segment before; optgui.core.versions),
                            "pipeline_flush": true (pipelined fleets only: the pipeline restarts here)}
                           end.reason: paused | stopped | completed | exhausted | timeout | interrupted | failed |
                           crashed (written by the recovery that found the dead segment, which also sets
                           end.detected_by_recovery: true). Full description: docs/storage-format.md.
                           end.reentry_pending: N when the run stopped after a recovery re-entered zombie trial N
                           but before running it; the next run re-enters it (it stays RUNNING meanwhile).
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
  optgui:trusted_pickles   {"<trial number>": {"hmac", "key"}}: foreign CMA-ES optimizer pickles the user agreed to
                           load (run --trust-pickles / the app's question), signed as they were then
                           (optgui.core.pickle_trust).

Trial system attributes
  optgui:error             {"type", "message", "traceback"} of an objective exception (written before tell).
  optgui:abandoned         {"segment", "reason"} on a trial that was told FAIL by crash recovery instead of
                           being re-entered; comparisons with an uninterrupted run skip it.
  optgui:recovered         {"segment", "dead_segment"} on a zombie trial that crash recovery re-entered, keeping
                           its number (its partial suggestions were rolled back and sampled again).
  optgui:pickle_sig        {"hmac", "key"}: HMAC-SHA256 (a per-user key in the app data directory) over the CMA-ES
                           optimizer pickle optgui's sampler stored on the trial, written before tell.

Which trials optgui made is told by the segments: trial k is optgui's iff start_trial(i) <= k < start_trial(i+1)
(or k <= end.last_trial for the last one) and k is not listed in a segment's "foreign_before". A per-trial marker
attribute would cost one more storage commit per trial (~+5% on SQLite), above the 2% budget for bookkeeping.

A study file may come from anyone: every record is checked for the shape the code that uses it relies on (types,
trial numbers in range) when it is parsed. A malformed record is left out of StudyMetadata and described in
`problems`; code that acts on the metadata (running, verifying) refuses such a study with that description
(MetadataError), code that only shows it (the app) shows what is well formed.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from optgui.core.errors import StudyStateError

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


MAX_TRIAL_NUMBER = 2**31 - 1  # Optuna's trial numbers are SQL INTEGER columns; a larger one is crafted


class MetadataError(StudyStateError):
    """The study's optgui metadata is malformed (crafted or damaged): nothing may act on it."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) and 0 <= value <= MAX_TRIAL_NUMBER


def _check_fields(record: Any, fields: dict[str, tuple[Callable[[Any], bool], str, bool]]) -> str | None:
    """None when `record` is an object whose fields pass their checks; otherwise what is wrong.
    fields: name -> (check, what it must be, required)."""
    if not isinstance(record, dict):
        return f"is {_kind(record)}, not a JSON object"
    for name, (check, expected, required) in fields.items():
        if name not in record:
            if required:
                return f"has no {name!r}"
            continue
        if not check(record[name]):
            return f"has {name!r} = {_short(record[name])}, not {expected}"
    return None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _short(value: Any) -> str:
    if isinstance(value, dict | list):  # no repr: it may be huge or nested too deeply to print
        return f"{_kind(value)} of {len(value)} items"
    text = repr(value[:41] if isinstance(value, str) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_aware_time(v: Any) -> bool:
    try:
        return isinstance(v, str) and _dt.datetime.fromisoformat(v).tzinfo is not None
    except ValueError:
        return False


# Required: what the runner always writes and the code indexes directly (run["pruner"], run["versions"], ...).
_RUN_FIELDS = {
    "sampler": (lambda v: isinstance(v, str | dict), "a sampler spec", True),
    "pruner": (lambda v: isinstance(v, str | dict), "a pruner spec", True),
    "seed": (_optional(_is_int), "an integer or null", True),
    "objective": (_is_dict, "an object", True),
    "directions": (
        lambda v: isinstance(v, list) and bool(v) and all(d in ("minimize", "maximize") for d in v),
        "a list of 'minimize'/'maximize'",
        True,
    ),
    "metric_names": (_optional(lambda v: isinstance(v, list) and all(map(_is_str, v))), "a list of names", False),
    "versions": (_is_dict, "an object", True),
    "history_until": (_is_number, "a trial number", False),
    "origin": (_is_str, "a string", False),
    "fleet": (_optional(_is_dict), "an object", False),
}
_TARGET_FIELDS = {"n_trials": (_optional(lambda v: _is_int(v) and v >= 0), "a count or null", False)}
_END_FIELDS = {
    "reason": (_is_str, "a string", True),
    "last_trial": (lambda v: _is_int(v) and -1 <= v <= MAX_TRIAL_NUMBER, "a trial number", True),
    "n_finished": (_optional(lambda v: _is_int(v) and v >= 0), "a count", False),
}
_SEGMENT_FIELDS = {
    "index": (lambda v: _is_int(v) and v >= 0, "a segment index", True),
    "start_trial": (_is_number, "a trial number", True),
    "state_key": (_optional(_is_str), "a string", False),
    "resumed_by": (_optional(_is_str), "a string", False),
    "accepted": (_optional(_is_dict), "an object", False),
    "recovery": (_optional(_is_dict), "an object", False),
    "versions": (_optional(_is_dict), "an object", False),
    "foreign_before": (_optional(lambda v: isinstance(v, list) and all(map(_is_number, v))), "trial numbers", False),
    "end": (_optional(lambda v: _check_fields(v, _END_FIELDS) is None), "null or a valid end record", False),
}
_STATE_FIELDS = {
    "boundary": (_is_number, "a trial number", True),
    "sampler_state": (_is_dict, "an object", True),
    "study_attrs": (_optional(_is_dict), "an object", False),
}
_CHECKPOINT_FIELDS = {**_STATE_FIELDS, "segment": (lambda v: _is_int(v) and v >= 0, "a segment index", True)}
_LIVE_LEASE_FIELDS = {
    "host": (_is_str, "a host name", True),
    "pid": (lambda v: _is_int(v) and 0 < v < 2**31, "a process id", True),
    "heartbeat": (_is_aware_time, "an ISO time with a time zone", True),
    "token": (_optional(_is_str), "a string", False),
}


def _lease_problem(lease: Any) -> str | None:
    if isinstance(lease, dict) and lease.get("released") is True:
        return None
    return _check_fields(lease, _LIVE_LEASE_FIELDS)


def _suffix_number(key: str, prefix: str) -> int | None:
    suffix = key[len(prefix) :]
    return int(suffix) if suffix.isascii() and suffix.isdigit() and len(suffix) <= 10 else None


@dataclass(frozen=True)
class StudyMetadata:
    """Everything optgui stored in one study, parsed from its study system attributes.

    Only well-formed records are kept; `problems` describes each malformed one (key: what is wrong)."""

    schema: int | None
    run: dict | None
    target: dict | None
    segments: tuple[dict, ...]
    states: dict[int, dict]
    checkpoint: dict | None
    lease: dict | None
    foreign_keys: dict[str, Any] = field(default_factory=dict)  # non-optgui system attrs (sampler-owned)
    problems: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        """optgui ran this study: it has a run record (a malformed one counts: the study is optgui's, damaged)."""
        return self.run is not None or any(p.startswith(KEY_RUN + " ") for p in self.problems)

    @property
    def last_segment(self) -> dict | None:
        return self.segments[-1] if self.segments else None

    def check(self) -> StudyMetadata:
        """self, or MetadataError naming what is malformed (before anything acts on the metadata)."""
        if self.problems:
            more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
            raise MetadataError(
                f"the study's optgui metadata is malformed (crafted or damaged): {self.problems[0]}{more}"
            )
        return self

    @classmethod
    def from_system_attrs(cls, attrs: dict[str, Any]) -> StudyMetadata:
        problems: list[str] = []

        def keep(key: str, value: Any, problem: str | None) -> Any:
            if problem is None:
                return value
            problems.append(f"{key} {problem}")
            return None

        segments: dict[int, dict] = {}
        states: dict[int, dict] = {}
        others = {}
        for key, value in attrs.items():
            if key.startswith(KEY_SEGMENT):
                index = _suffix_number(key, KEY_SEGMENT)
                problem = _check_fields(value, _SEGMENT_FIELDS) if index is not None else "has no index in its key"
                if problem is None and value["index"] != index:
                    problem = f"has 'index' = {value['index']}, not {index} as its key says"
                if keep(key, value, problem) is not None and index is not None:
                    segments[index] = value
            elif key.startswith(KEY_STATE):
                boundary = _suffix_number(key, KEY_STATE)
                problem = _check_fields(value, _STATE_FIELDS) if boundary is not None else "has no trial number"
                if problem is None and value["boundary"] != boundary:
                    problem = f"has 'boundary' = {value['boundary']}, not {boundary} as its key says"
                if keep(key, value, problem) is not None and boundary is not None:
                    states[boundary] = value
            elif not key.startswith(PREFIX):
                others[key] = value
        schema = attrs.get(KEY_SCHEMA)
        schema = keep(KEY_SCHEMA, schema, None if schema is None or _is_int(schema) else "is not an integer")
        states = resolve_state_chain(states)
        run = attrs.get(KEY_RUN)
        target = attrs.get(KEY_TARGET)
        checkpoint = attrs.get(KEY_CHECKPOINT)
        lease = attrs.get(KEY_LEASE)
        return cls(
            schema=schema,
            run=None if run is None else keep(KEY_RUN, run, _check_fields(run, _RUN_FIELDS)),
            target=None if target is None else keep(KEY_TARGET, target, _check_fields(target, _TARGET_FIELDS)),
            segments=tuple(segments[i] for i in sorted(segments)),
            states=states,
            checkpoint=None
            if checkpoint is None
            else keep(KEY_CHECKPOINT, checkpoint, _check_fields(checkpoint, _CHECKPOINT_FIELDS)),
            lease=None if lease is None else keep(KEY_LEASE, lease, _lease_problem(lease)),
            foreign_keys=others,
            problems=tuple(problems),
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
    """The study's metadata for code that acts on it (runs, recovers): MetadataError when any record is malformed."""
    return StudyMetadata.from_system_attrs(storage.get_study_system_attrs(study_id)).check()


def sampler_owned_study_attrs(storage, study_id: int) -> dict[str, Any]:
    """Study system attributes written by Optuna's samplers (QMC counters, GA parent caches, metric names...)."""
    return {k: v for k, v in storage.get_study_system_attrs(study_id).items() if not k.startswith(PREFIX)}
