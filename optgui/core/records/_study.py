"""StudyMetadata: everything optgui stored in one study, parsed from its study system attributes.

A study file may come from anyone: every record is checked for the shape the code that uses it relies on (types,
trial numbers in range) when it is parsed. A malformed record is left out of StudyMetadata and described in
`problems`; code that acts on the metadata (running, verifying) refuses such a study with that description
(MetadataError), code that only shows it (the app) shows what is well formed.

Which trials optgui made is told by the segments: trial k is optgui's iff start_trial(i) <= k < start_trial(i+1)
(or k <= end.last_trial for the last one) and k is not listed in a segment's "foreign_before". A per-trial marker
attribute would cost one more storage commit per trial (~+5% on SQLite), above the 2% budget for bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optgui.core.records._base import JsonRecord, MetadataError, is_int
from optgui.core.records._keys import (
    KEY_CHECKPOINT,
    KEY_LEASE,
    KEY_RUN,
    KEY_SCHEMA,
    KEY_SEGMENT,
    KEY_STATE,
    KEY_TARGET,
    PREFIX,
    suffix_number,
)
from optgui.core.records._lease import LeaseRecord
from optgui.core.records._run import RunRecord, Target
from optgui.core.records._segment import Segment
from optgui.core.records._state import Checkpoint, SavedState, resolve_state_chain


@dataclass(frozen=True)
class StudyMetadata:
    """Everything optgui stored in one study. The records are kept as the JSON stored (validated by their record
    classes); `run_record`, `segment_records`, ... give them typed.

    Only well-formed records are kept; `problems` describes each malformed one (key: what is wrong)."""

    schema: int | None
    run: dict[str, Any] | None
    target: dict[str, Any] | None
    segments: tuple[dict[str, Any], ...]
    states: dict[int, dict[str, Any]]
    checkpoint: dict[str, Any] | None
    lease: dict[str, Any] | None
    foreign_keys: dict[str, Any] = field(default_factory=dict)  # non-optgui system attrs (sampler-owned)
    problems: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        """optgui ran this study: it has a run record (a malformed one counts: the study is optgui's, damaged)."""
        return self.run is not None or any(p.startswith(KEY_RUN + " ") for p in self.problems)

    @property
    def last_segment(self) -> dict[str, Any] | None:
        return self.segments[-1] if self.segments else None

    @property
    def run_record(self) -> RunRecord | None:
        return None if self.run is None else RunRecord.from_json(self.run)

    @property
    def target_record(self) -> Target | None:
        return None if self.target is None else Target.from_json(self.target)

    @property
    def segment_records(self) -> tuple[Segment, ...]:
        return tuple(Segment.from_json(s) for s in self.segments)

    @property
    def state_records(self) -> dict[int, SavedState]:
        """The saved states with their study attributes made full (a broken chain's records left out)."""
        return {b: SavedState.from_json(r) for b, r in self.states.items()}

    @property
    def checkpoint_record(self) -> Checkpoint | None:
        return None if self.checkpoint is None else Checkpoint.from_json(self.checkpoint)

    @property
    def lease_record(self) -> LeaseRecord | None:
        return None if self.lease is None else LeaseRecord.from_json(self.lease)

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

        def checked(key: str, record: type[JsonRecord]) -> Any:
            value = attrs.get(key)
            return None if value is None else keep(key, value, record.problem(value))

        segments: dict[int, dict[str, Any]] = {}
        states: dict[int, dict[str, Any]] = {}
        others = {}
        for key, value in attrs.items():
            if key.startswith(KEY_SEGMENT):
                index = suffix_number(key, KEY_SEGMENT)
                problem = Segment.problem(value) if index is not None else "has no index in its key"
                if problem is None and value["index"] != index:
                    problem = f"has 'index' = {value['index']}, not {index} as its key says"
                if keep(key, value, problem) is not None and index is not None:
                    segments[index] = value
            elif key.startswith(KEY_STATE):
                boundary = suffix_number(key, KEY_STATE)
                problem = SavedState.problem(value) if boundary is not None else "has no trial number"
                if problem is None and value["boundary"] != boundary:
                    problem = f"has 'boundary' = {value['boundary']}, not {boundary} as its key says"
                if keep(key, value, problem) is not None and boundary is not None:
                    states[boundary] = value
            elif not key.startswith(PREFIX):
                others[key] = value
        schema = attrs.get(KEY_SCHEMA)
        schema = keep(KEY_SCHEMA, schema, None if schema is None or is_int(schema) else "is not an integer")
        return cls(
            schema=schema,
            run=checked(KEY_RUN, RunRecord),
            target=checked(KEY_TARGET, Target),
            segments=tuple(segments[i] for i in sorted(segments)),
            states=resolve_state_chain(states),
            checkpoint=checked(KEY_CHECKPOINT, Checkpoint),
            lease=checked(KEY_LEASE, LeaseRecord),
            foreign_keys=others,
            problems=tuple(problems),
        )

    def optgui_trial_numbers(self, n_trials_total: int) -> set[int]:
        """Trial numbers made by optgui according to the segments (see the module docstring)."""
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


def read_metadata(storage: Any, study_id: int) -> StudyMetadata:
    """The study's metadata for code that acts on it (runs, recovers): MetadataError when any record is malformed."""
    return StudyMetadata.from_system_attrs(storage.get_study_system_attrs(study_id)).check()


def sampler_owned_study_attrs(storage: Any, study_id: int) -> dict[str, Any]:
    """Study system attributes written by Optuna's samplers (QMC counters, GA parent caches, metric names...)."""
    return {k: v for k, v in storage.get_study_system_attrs(study_id).items() if not k.startswith(PREFIX)}
