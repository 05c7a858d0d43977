"""Run segments (`optgui:segment:<i>`): one uninterrupted stretch of a run, written when it starts and rewritten
when it ends. `Segment.begin` builds every new segment and `write_segment` stores it (the only writer)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from optgui.core.records._base import (
    BOOL,
    COUNT,
    INDEX,
    MAX_TRIAL_NUMBER,
    OBJECT,
    PID,
    TEXT,
    TIME,
    TRIAL_NUMBER,
    TRIAL_NUMBERS,
    Check,
    JsonRecord,
    entry,
    is_int,
    now_iso,
    one_of,
    optional,
)
from optgui.core.records._keys import KEY_SEGMENT, segment_key, state_key
from optgui.core.records._vocabulary import EndReason, SegmentStart

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


LAST_TRIAL: Check = (lambda v: is_int(v) and -1 <= v <= MAX_TRIAL_NUMBER, "a trial number")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SegmentEnd(JsonRecord):
    """How a segment ended. Absent (null) while it runs, and after a crash until a recovery finds it."""

    KEY: ClassVar[str] = "end"
    TITLE: ClassVar[str] = "Segment end"

    reason: EndReason = entry(
        "why it ended; `exhausted`: the sampler had nothing left (a finished grid); `interrupted`: the trial in "
        "flight was abandoned (no state saved); `crashed`: written by the recovery that found the dead segment",
        one_of(EndReason),
        required=True,
        vocabulary=EndReason,
    )
    at: str | None = entry("when", TIME)
    last_trial: int = entry("the segment's last trial (start_trial - 1 when it made none)", LAST_TRIAL, required=True)
    n_finished: int | None = entry(
        "finished trials of the run at that point (absent when a recovery closed it)", optional(COUNT), omit=True
    )
    states: str | None = entry(
        "the states of trials start_trial..last_trial as the segment left them, run-length encoded (`12C1F3P`: "
        "12 COMPLETE, 1 FAIL, 3 PRUNED; `?` unfinished), so the verifier sees a deleted last trial or an edited "
        "state at the trial it concerns. Absent after a crash and in segments written before it existed",
        TEXT,
    )
    reentry_pending: int | None = entry(
        "the run stopped after a recovery re-entered zombie trial N but before running it; the next run re-enters "
        "it (it stays RUNNING meanwhile)",
        TRIAL_NUMBER,
    )
    detected_by_recovery: bool | None = entry("true when a recovery wrote this end (`crashed`)", BOOL)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def saved_state(self) -> bool:
        """The segment saved the sampler state at its end: the next segment resumes from it."""
        return self.reason.saved_state

    def closed_by_recovery(self, last_trial: int, at: str | None = None) -> SegmentEnd:
        """This end (of a segment whose process died) as the recovery that found it closes it."""
        return dataclasses.replace(self, at=at or now_iso(), last_trial=last_trial, detected_by_recovery=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Segment(JsonRecord):
    """One uninterrupted stretch of a run. A segment that ends without an `end` (the process died, or a storage
    error ended the run) looks crashed; the next run recovers it from the saved states."""

    KEY: ClassVar[str] = KEY_SEGMENT + "<i>"
    TITLE: ClassVar[str] = "Segment"

    index: int = entry("`i`, as in its key", INDEX, required=True)
    start_trial: int = entry("the first trial of the segment (its boundary *b*)", TRIAL_NUMBER, required=True)
    state_key: str | None = entry("the `optgui:state:<b>` key it started from", optional(TEXT))
    started: str | None = entry("when it started", optional(TIME))
    host: str | None = entry("the host it ran on", optional(TEXT))
    pid: int | None = entry("the process id it ran in", optional(PID))
    versions: dict[str, Any] | None = entry(
        "the package versions of this segment (as in the run record)", optional(OBJECT)
    )
    resumed_by: SegmentStart | None = entry(
        "how it started: `start` (the first), `resume` (from the state its predecessor saved), `recovery` (after "
        "a crash)",
        optional(one_of(SegmentStart)),
        vocabulary=SegmentStart,
    )
    accepted: dict[str, Any] | None = entry(
        'null, or the changes the user accepted to resume: `objective_changed` (`{"recorded", "now"}` sha256), '
        '`environment_changed` (`{"recorded", "now"}` run-record environments, null: optgui\'s own interpreter), '
        "`foreign_pickles` (trial numbers); older runs may also hold `versions` (`{package: [recorded, now]}`), "
        "read like `version_change`",
        optional(OBJECT),
    )
    foreign_before: list[int] | None = entry(
        "numbers of trials other processes added since the previous segment (history, not optgui's)",
        optional(TRIAL_NUMBERS),
    )
    recovery: dict[str, Any] | None = entry(
        "null, or what crash recovery did: `dead_segment`, `dead_owner` (the dead lease), `replayed_from`, "
        "`replayed_trials`, `zombie` (the trial in flight, or null), `handling` (`reentered`, `abandoned`, `none`), "
        "`equivalent`, `reason`; for a fleet coordinator also `coordinator: true`, `schedule_from` (the boundary "
        "whose state the dead coordinator's schedule was re-enacted from), `in_flight` (trials that were in flight) "
        "and `drained`",
        optional(OBJECT),
    )
    end: SegmentEnd | None = entry(
        "null while it runs (or after a crash), then how it ended: [below](#segment-end-end)",
        optional(OBJECT),
        nested=SegmentEnd,
    )
    output_log: str | None = entry(
        "the file on the segment's host that holds its trials' captured output: "
        "`<data folder>/logs/<digest of storage and study name>/<i>.log`. Segments that fleet-coordinator recovery "
        "wrote before this version have none",
        TEXT,
    )
    version_change: dict[str, Any] | None = entry(
        "only when the segment started under other versions of a package its sampler uses than the segment "
        "before: `{package: [recorded, now]}`; the verifier checks it by replay",
        OBJECT,
    )
    pipeline_flush: bool | None = entry(
        "`true` on a segment of a pipelined deterministic fleet (`--pipeline`) that follows a drained pipeline "
        "(after a pause, or a stop and a rerun; not after a recovery): the pipeline restarts at its boundary",
        BOOL,
    )
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def begin(
        cls,
        *,
        index: int,
        start_trial: int,
        resumed_by: SegmentStart,
        versions: dict[str, Any],
        output_log: str | None,
        state_boundary: int | None = None,
        accepted: dict[str, Any] | None = None,
        foreign_before: list[int] | None = None,
        recovery: dict[str, Any] | None = None,
        version_change: dict[str, Any] | None = None,
    ) -> Segment:
        """A segment starting now in this process. state_boundary: the boundary of the state it starts from
        (start_trial unless a recovery re-enacts a schedule from an earlier one)."""
        return cls(
            index=index,
            start_trial=start_trial,
            state_key=state_key(start_trial if state_boundary is None else state_boundary),
            started=now_iso(),
            host=os.uname().nodename,
            pid=os.getpid(),
            versions=versions,
            resumed_by=resumed_by,
            accepted=accepted or None,
            foreign_before=list(foreign_before or []),
            recovery=recovery,
            end=None,
            output_log=output_log,
            version_change=version_change or None,
        )

    @property
    def key(self) -> str:
        return segment_key(self.index)

    def ended(self, end: SegmentEnd) -> Segment:
        return dataclasses.replace(self, end=end)

    def closed_by_recovery(self, last_trial: int) -> Segment:
        """This segment (whose process died) as the recovery that found it closes it: `crashed` unless it had
        ended otherwise already (an interrupted segment keeps its reason)."""
        end = self.end or SegmentEnd(reason=EndReason.CRASHED, last_trial=last_trial)
        return self.ended(end.closed_by_recovery(last_trial))


def write_segment(storage: Any, study_id: int, segment: Segment) -> None:
    """Store a segment (at its start, at its end, and when a recovery closes it): the one writer of segments."""
    storage.set_study_system_attr(study_id, segment.key, segment.to_json())
