"""The records read every optgui: attribute of the studies the previous version wrote (tests/fixtures/compat:
single runs, paused, crashed, CMA-ES, journal files, fleets) and write each back as exactly the JSON stored, key
order included: what optgui writes now for a record is what it wrote then."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from optgui.core import records
from optgui.core.storage._reader import open_reader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compat"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())["fixtures"]

STUDY_RECORDS: dict[str, type[records.JsonRecord]] = {
    records.KEY_RUN: records.RunRecord,
    records.KEY_TARGET: records.Target,
    records.KEY_SEGMENT: records.Segment,
    records.KEY_STATE: records.SavedState,
    records.KEY_CHECKPOINT: records.Checkpoint,
    records.KEY_LEASE: records.LeaseRecord,
    records.KEY_FLEET: records.FleetRecord,
    records.KEY_CONTROL: records.ControlRecord,
    records.KEY_WORKER: records.WorkerRecord,
}
TRIAL_RECORDS: dict[str, type[records.JsonRecord]] = {
    records.TRIAL_ERROR: records.TrialError,
    records.TRIAL_ABANDONED: records.Abandoned,
    records.TRIAL_RECOVERED: records.Recovered,
    records.TRIAL_CLAIM: records.Claim,
    records.TRIAL_RESULT: records.TrialResult,
    records.TRIAL_ASKED_BY: records.AskedBy,
}
# Not records: the schema number, and the pickle signatures (optgui.core.engine._pickle_trust owns their format).
NOT_RECORDS = {records.KEY_SCHEMA, records.KEY_TRUSTED_PICKLES, records.TRIAL_PICKLE_SIGNATURE}


def record_class(key: str, kinds: dict[str, type[records.JsonRecord]]) -> type[records.JsonRecord] | None:
    for prefix, cls in kinds.items():
        if key == prefix or (prefix.endswith(":") and key.startswith(prefix)):
            return cls
    return None


def stored_attrs(name: str, folder: Path) -> tuple[dict, dict[int, dict]]:
    path = folder / EXPECTED[name]["file"].removesuffix(".gz")
    with gzip.open(FIXTURES / EXPECTED[name]["file"], "rb") as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    with open_reader(str(path)) as reader:
        (summary,) = reader.studies()
        return dict(summary.optgui_metadata), reader.trial_system_attrs(name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_record_of_a_previous_version_study_is_written_back_unchanged(tmp_path, name):
    study_attrs, trial_attrs = stored_attrs(name, tmp_path)
    attrs = [(key, value, STUDY_RECORDS) for key, value in study_attrs.items()]
    attrs += [(key, value, TRIAL_RECORDS) for by_key in trial_attrs.values() for key, value in by_key.items()]
    kinds = set()
    for key, value, table in attrs:
        if key in NOT_RECORDS:
            continue
        cls = record_class(key, table)
        assert cls is not None, f"{key} is stored but no record describes it"
        record = cls.from_json(value, key)
        assert json.dumps(record.to_json()) == json.dumps(value), key
        assert record.extra == {}, f"{key} holds keys its record does not describe: {sorted(record.extra)}"
        kinds.add(cls)
    assert {records.RunRecord, records.Target, records.Segment, records.SavedState} <= kinds
    meta = records.StudyMetadata.from_system_attrs(study_attrs)
    assert meta.problems == ()
    assert all(isinstance(s.resumed_by, records.SegmentStart) for s in meta.segment_records)


def test_the_fixtures_hold_every_kind_of_record_a_run_or_fleet_stores(tmp_path):
    """The test above has teeth only for the kinds the files hold: all of them but a re-entered trial's tag (a
    zombie re-entered on a server), a free-running fleet's tags and a checkpoint (the runs took less than its 60 s);
    tests/core/test_records.py covers those with records as the previous version wrote them."""
    kinds = set()
    for name in EXPECTED:
        study_attrs, trial_attrs = stored_attrs(name, tmp_path)
        kinds |= {record_class(k, STUDY_RECORDS) for k in study_attrs}
        kinds |= {record_class(k, TRIAL_RECORDS) for by_key in trial_attrs.values() for k in by_key}
    missing = set(STUDY_RECORDS.values()) | set(TRIAL_RECORDS.values())
    missing -= kinds
    assert missing <= {records.Recovered, records.Abandoned, records.AskedBy, records.Checkpoint}, missing
