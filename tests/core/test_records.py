"""The typed records optgui stores: each reads what today's writers store (and older, partial records), writes
back exactly the JSON it read (same keys, same order, unknown keys kept), and refuses a malformed record with a
message that names the key and what is wrong."""

from __future__ import annotations

import doctest
import json
import sqlite3
from pathlib import Path

import pytest

from optgui.core import records
from optgui.core.records import (
    Abandoned,
    AskedBy,
    Checkpoint,
    Claim,
    ControlRecord,
    EndReason,
    FleetRecord,
    LeaseRecord,
    MetadataError,
    Recovered,
    RunRecord,
    SavedState,
    Segment,
    SegmentEnd,
    SegmentStart,
    Target,
    TrialError,
    TrialResult,
    WorkerRecord,
)
from optgui.core.records._docs import render
from tests.support.verify import run_in_process

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T10:00:00.000+00:00"

# Records exactly as the previous version's writers stored them (key order included): runner, coordinator,
# fleet recovery, lease, fleet, worker.
STORED = {
    "run": (
        RunRecord,
        {
            "created": NOW,
            "optgui_version": "0.9.0",
            "origin": "new",
            "history_until": 0,
            "sampler": {"sampler": "TPESampler", "kwargs": {"seed": 42}},
            "pruner": {"pruner": "MedianPruner", "kwargs": {}},
            "seed": 42,
            "objective": {"kind": "builtin", "ref": "builtin:quadratic", "path": None, "sha256": None},
            "directions": ["minimize"],
            "metric_names": None,
            "versions": {"optuna": "5.0.0", "numpy": "2.3.0"},
        },
    ),
    "fleet run": (
        RunRecord,
        {
            "created": NOW,
            "optgui_version": "0.9.0",
            "origin": "adopted",
            "history_until": 4,
            "sampler": "tpe",
            "pruner": "MedianPruner()",
            "seed": None,
            "objective": {"kind": "file", "ref": "f.py:g"},
            "directions": ["minimize", "maximize"],
            "metric_names": ["a", "b"],
            "versions": {},
            "fleet": {"mode": "deterministic", "batch": 4, "pipeline": True},
        },
    ),
    "target": (Target, {"n_trials": 20}),
    "no target": (Target, {"n_trials": None}),
    "segment running": (
        Segment,
        {
            "index": 1,
            "start_trial": 5,
            "state_key": "optgui:state:5",
            "started": NOW,
            "host": "h",
            "pid": 123,
            "versions": {"optuna": "5.0.0"},
            "resumed_by": "resume",
            "accepted": None,
            "foreign_before": [],
            "recovery": None,
            "end": None,
            "output_log": "/data/logs/abc/1.log",
            "version_change": {"scipy": [None, "1.17.1"]},
        },
    ),
    "segment paused (pipelined fleet)": (
        Segment,
        {
            "index": 2,
            "start_trial": 8,
            "state_key": "optgui:state:8",
            "started": NOW,
            "host": "h",
            "pid": 123,
            "versions": {},
            "resumed_by": "resume",
            "accepted": {"objective_changed": {"recorded": "a", "now": "b"}},
            "foreign_before": [6, 7],
            "recovery": None,
            "end": {
                "reason": "paused",
                "at": NOW,
                "last_trial": 11,
                "n_finished": 12,
                "states": "3C1F",
                "reentry_pending": 11,
            },
            "output_log": "/data/logs/abc/2.log",
            "pipeline_flush": True,
        },
    ),
    "segment closed by recovery": (
        Segment,
        {
            "index": 0,
            "start_trial": 0,
            "state_key": "optgui:state:0",
            "started": NOW,
            "host": "h",
            "pid": 9,
            "versions": {},
            "resumed_by": "start",
            "accepted": None,
            "foreign_before": [],
            "recovery": None,
            "end": {"reason": "crashed", "at": NOW, "last_trial": 3, "detected_by_recovery": True},
            "output_log": "/data/logs/abc/0.log",
        },
    ),
    "segment interrupted, then closed by recovery": (
        Segment,
        {
            "index": 0,
            "start_trial": 0,
            "end": {
                "reason": "interrupted",
                "at": NOW,
                "last_trial": 3,
                "n_finished": 3,
                "states": "3C1?",
                "detected_by_recovery": True,
            },
        },
    ),
    "segment of fleet-coordinator recovery (no output_log)": (
        Segment,
        {
            "index": 3,
            "start_trial": 12,
            "state_key": "optgui:state:8",
            "started": NOW,
            "host": "h",
            "pid": 5,
            "versions": {},
            "resumed_by": "recovery",
            "accepted": None,
            "foreign_before": [],
            "recovery": {"dead_segment": 2, "coordinator": True, "zombie": None, "handling": "none"},
            "end": None,
        },
    ),
    "state": (SavedState, {"boundary": 0, "sampler_state": {"rng": [1, 2]}, "study_attrs": {}, "saved": NOW}),
    "incremental state": (
        SavedState,
        {
            "boundary": 9,
            "sampler_state": {},
            "study_attrs": {"b": 1},
            "saved": NOW,
            "study_attrs_base": 0,
            "study_attrs_removed": ["gone"],
        },
    ),
    "checkpoint": (
        Checkpoint,
        {"boundary": 40, "sampler_state": {}, "study_attrs": {"q": 1}, "saved": NOW, "segment": 2},
    ),
    "lease": (LeaseRecord, {"host": "h", "pid": 7, "token": "t", "acquired": NOW, "heartbeat": NOW}),
    "released lease": (
        LeaseRecord,
        {"host": "h", "pid": 7, "token": "t", "acquired": NOW, "heartbeat": NOW, "released": True},
    ),
    "lease of a copy": (LeaseRecord, {"released": True, "copied": True}),
    "error": (TrialError, {"type": "ValueError", "message": "boom", "traceback": "Traceback ..."}),
    "abandoned": (Abandoned, {"segment": 1, "reason": "process died during the trial"}),
    "abandoned by a worker": (Abandoned, {"reason": "worker 2 died during the trial", "by_worker": 0}),
    "recovered": (Recovered, {"segment": 2, "dead_segment": 1}),
    "deterministic fleet": (
        FleetRecord,
        {
            "mode": "deterministic",
            "batch": 2,
            "pipeline": False,
            "session": "s",
            "state": "pausing",
            "asked_below": 10,
            "released_below": 8,
            "host": "h",
            "pid": 3,
            "at": NOW,
        },
    ),
    "free fleet": (FleetRecord, {"mode": "free", "session": "s", "state": "running", "host": "h", "pid": 3, "at": NOW}),
    "control": (ControlRecord, {"command": "pause", "seq": 3, "at": NOW, "by": "h:3"}),
    "worker": (
        WorkerRecord,
        {
            "index": 1,
            "host": "h",
            "pid": 4,
            "token": "w",
            "mode": "free",
            "state": "running",
            "trial": 5,
            "n_evaluated": 2,
            "started": NOW,
            "heartbeat": NOW,
            "seed": 43,
        },
    ),
    "claim": (Claim, {"worker": 1, "at": NOW}),
    "result": (
        TrialResult,
        {"state": "FAIL", "values": None, "message": "boom", "worker": 1, "attempt": 0, "duration": 0.5},
    ),
    "result complete": (
        TrialResult,
        {"state": "COMPLETE", "values": [1.5, 2], "worker": 1, "attempt": 1, "duration": 0.25},
    ),
    "asked by": (AskedBy, {"worker": 2}),
}


@pytest.mark.parametrize("name", list(STORED))
def test_a_stored_record_is_written_back_byte_for_byte(name):
    cls, stored = STORED[name]
    record = cls.from_json(json.loads(json.dumps(stored)))
    assert json.dumps(record.to_json()) == json.dumps(stored)
    assert cls.from_json(record.to_json()) == record


@pytest.mark.parametrize("name", list(STORED))
def test_unknown_keys_are_kept_after_the_known_ones(name):
    cls, stored = STORED[name]
    newer = {**stored, "added_by_a_newer_optgui": {"x": [1]}}
    assert json.dumps(cls.from_json(newer).to_json()) == json.dumps(newer)


def test_vocabularies_are_typed_and_compare_equal_to_the_stored_strings():
    segment = Segment.from_json(STORED["segment paused (pipelined fleet)"][1])
    assert segment.resumed_by is SegmentStart.RESUME and segment.resumed_by == "resume"
    assert segment.end is not None and segment.end.reason is EndReason.PAUSED and segment.end.saved_state
    crashed = Segment.from_json(STORED["segment closed by recovery"][1])
    assert crashed.end is not None and not crashed.end.saved_state
    assert FleetRecord.from_json(STORED["deterministic fleet"][1]).state is records.RunState.PAUSING
    assert json.loads(json.dumps(segment.to_json()))["resumed_by"] == "resume"


MALFORMED = [
    (RunRecord, "hello", "optgui:run is a string, not a JSON object"),
    (RunRecord, {"directions": ["minimize"]}, "optgui:run has no 'sampler'"),
    (Segment, {"index": "x", "start_trial": 0}, "optgui:segment:<i> has 'index' = 'x', not a segment index"),
    (Segment, {"index": 0, "start_trial": 2**40}, "has 'start_trial' = 1099511627776, not a trial number"),
    (Segment, {"index": 0, "start_trial": 0, "resumed_by": "magic"}, "has 'resumed_by' = 'magic', not one of"),
    (Segment, {"index": 0, "start_trial": 0, "end": {"reason": "paused"}}, "has 'end' that has no 'last_trial'"),
    (Segment, {"index": 0, "start_trial": 0, "end": {"reason": "later", "last_trial": 1}}, "'reason' = 'later'"),
    (Segment, {"index": 0, "start_trial": 0, "pid": True}, "has 'pid' = True, not a process id"),
    (SavedState, {"boundary": 3}, "has no 'sampler_state'"),
    (Checkpoint, {"boundary": 3, "sampler_state": {}}, "optgui:checkpoint has no 'segment'"),
    (LeaseRecord, {"host": "h", "pid": 1, "heartbeat": "2026-01-01T00:00:00"}, "not an ISO time with a time zone"),
    (LeaseRecord, {"host": "h", "heartbeat": NOW}, "optgui:lease has no 'pid'"),
    (Target, {"n_trials": -1}, "optgui:target has 'n_trials' = -1, not a count or null"),
    (WorkerRecord, {"index": 0, "pid": 1, "heartbeat": NOW, "state": "dancing"}, "'state' = 'dancing'"),
    (ControlRecord, {"command": "explode", "seq": 1}, "'command' = 'explode'"),
    (TrialResult, {"state": "COMPLETE", "values": ["x"]}, "not a list of numbers or null"),
]


@pytest.mark.parametrize(("cls", "value", "message"), MALFORMED, ids=[m[2][:40] for m in MALFORMED])
def test_a_malformed_record_is_one_metadata_error_naming_what_is_wrong(cls, value, message):
    with pytest.raises(MetadataError) as caught:
        cls.from_json(value)
    assert message in str(caught.value)
    problem = cls.problem(value)  # what StudyMetadata lists, after the key
    assert problem is not None and str(caught.value) == f"{cls.KEY} {problem}"


def test_from_json_names_the_key_it_is_told():
    with pytest.raises(MetadataError, match=r"^optgui:segment:4 has no 'start_trial'$"):
        Segment.from_json({"index": 4}, "optgui:segment:4")


def test_study_metadata_keeps_well_formed_records_and_names_the_others():
    attrs = {
        records.KEY_SCHEMA: 1,
        records.KEY_RUN: STORED["run"][1],
        records.segment_key(0): STORED["segment closed by recovery"][1],
        records.segment_key(1): {"index": 1, "start_trial": 4, "end": {"reason": "nope", "last_trial": 5}},
        records.state_key(0): STORED["state"][1],
        records.KEY_LEASE: STORED["lease of a copy"][1],
        "sampler:owned": 3,
    }
    meta = records.StudyMetadata.from_system_attrs(attrs)
    assert len(meta.segments) == 1 and meta.segment_records[0].end.reason is EndReason.CRASHED
    assert meta.problems == (
        "optgui:segment:1 has 'end' that has 'reason' = 'nope', not one of "
        "'paused', 'stopped', 'completed', 'exhausted', 'timeout', 'interrupted', "
        "'failed', 'crashed'",
    )
    assert meta.run_record is not None and meta.run_record.seed == 42
    assert meta.lease_record == records.COPIED_LEASE
    assert meta.foreign_keys == {"sampler:owned": 3}
    with pytest.raises(MetadataError, match="optgui:segment:1 has 'end'"):
        meta.check()


def test_a_new_segment_has_the_keys_the_previous_version_wrote_in_its_order():
    segment = Segment.begin(
        index=1, start_trial=5, resumed_by=SegmentStart.RESUME, versions={}, output_log="/logs/1.log"
    )
    assert list(segment.to_json()) == [k for k in STORED["segment running"][1] if k != "version_change"]
    assert segment.state_key == "optgui:state:5" and segment.foreign_before == [] and segment.end is None
    ended = segment.ended(SegmentEnd(reason=EndReason.STOPPED, at=NOW, last_trial=9, n_finished=5, states="5C"))
    assert list(ended.to_json()["end"]) == ["reason", "at", "last_trial", "n_finished", "states"]
    closed = segment.closed_by_recovery(7)
    assert closed.to_json()["end"] == {
        "reason": "crashed",
        "at": closed.end.at,
        "last_trial": 7,
        "detected_by_recovery": True,
    }
    fleet = Segment.begin(
        index=3,
        start_trial=12,
        state_boundary=8,
        resumed_by=SegmentStart.RECOVERY,
        versions={},
        output_log=None,
        recovery={"coordinator": True},
    )
    assert fleet.state_key == "optgui:state:8" and "output_log" not in fleet.to_json()


def test_every_record_a_real_run_stores_reads_and_writes_back_unchanged(tmp_path):
    """A real optgui run (paused once, so two segments, two states, a released lease): every optgui: study
    attribute is a record that gives back the JSON stored, key order included."""
    path = tmp_path / "study.db"
    run_in_process(path, "TPESampler(seed=5)", "builtin:quadratic", 6, pause_after=2, study_name="s")
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT key, value_json FROM study_system_attributes WHERE key LIKE 'optgui:%'").fetchall()
    finally:
        conn.close()
    kinds = {
        records.KEY_RUN: RunRecord,
        records.KEY_TARGET: Target,
        records.KEY_LEASE: LeaseRecord,
        records.KEY_CHECKPOINT: Checkpoint,
        records.KEY_SEGMENT: Segment,
        records.KEY_STATE: SavedState,
    }
    seen = set()
    for key, text in rows:
        if key == records.KEY_SCHEMA:
            continue
        cls = next(
            c for prefix, c in kinds.items() if key == prefix or (prefix.endswith(":") and key.startswith(prefix))
        )
        seen.add(cls)
        assert json.dumps(cls.from_json(json.loads(text), key).to_json()) == json.dumps(json.loads(text)), key
    assert {RunRecord, Target, LeaseRecord, Segment, SavedState} <= seen
    meta = records.StudyMetadata.from_system_attrs({k: json.loads(v) for k, v in rows})
    assert meta.problems == ()
    first, second = meta.segment_records
    assert first.end is not None and first.end.reason is EndReason.PAUSED and second.resumed_by is SegmentStart.RESUME
    assert all(s.output_log for s in (first, second))


def test_storage_format_doc_is_generated_from_the_records():
    committed = (ROOT / "docs" / "storage-format.md").read_text()
    assert committed == render(), (
        "docs/storage-format.md is stale: python -m optgui.core.records > docs/storage-format.md"
    )
    for cls, _ in STORED.values():
        assert f"({'`'}{cls.KEY}{'`'})" in committed


def test_the_package_docstring_examples_run():
    result = doctest.testmod(records, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_engine_events_carry_the_run_state_vocabulary():
    import pickle

    from optgui.core.engine._events import RunStarted, RunStateChanged

    event = RunStateChanged("paused", "paused after trial 3")
    assert event.state is records.RunState.PAUSED and event.state == "paused" and f"{event.state}" == "paused"
    assert pickle.loads(pickle.dumps(event)) == event  # events cross the engine's pipe pickled
    assert RunStarted("s", 1, 3, None, "recovery").resumed_by is SegmentStart.RECOVERY
    with pytest.raises(ValueError):
        RunStateChanged("dancing")


def test_the_run_records_are_stored_only_by_the_records_writers():
    """One writer per record: no module outside optgui/core/records stores a segment, a state, a checkpoint, the
    run record or the target itself (they go through write_segment, write_state, ...)."""
    import re

    keys = re.compile(r"segment_key\(|state_key\(|KEY_CHECKPOINT|KEY_RUN\b|KEY_TARGET|KEY_SCHEMA")
    offenders = []
    for path in (ROOT / "optgui").rglob("*.py"):
        if "records" in path.relative_to(ROOT / "optgui").parts:
            continue
        text = path.read_text()
        for call in re.finditer(r"set_study_system_attr\((?:[^()]|\([^()]*\))*\)", text):
            if keys.search(call.group(0)):
                offenders.append(f"{path.relative_to(ROOT)}: {call.group(0)[:80]}")
    assert offenders == []


def test_a_worker_record_has_a_seed_key_only_in_free_mode_and_null_when_the_run_has_none():
    deterministic = WorkerRecord.registering(0, "t", "deterministic")
    assert "seed" not in deterministic.changed(state="running").to_json()
    assert list(deterministic.to_json()) == [k for k in STORED["worker"][1] if k != "seed"]
    free = WorkerRecord.registering(1, "t", "free")
    assert free.changed(seed=None).to_json()["seed"] is None  # as the previous version wrote a seedless run's
    assert free.changed(seed=8).changed(state="paused").to_json()["seed"] == 8
