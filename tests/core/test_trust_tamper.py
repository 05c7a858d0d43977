"""Tampering that used to verify as "equivalent" (issue: trust, item 6): a deleted last trial, a re-stated trial, a
run record whose seed field disagrees with its spec, an edited value (which the replay cannot see and must say so),
and edits that were reported at the wrong trial or with the wrong cause."""

from __future__ import annotations

import json
import sqlite3

import pytest

from optgui.core.verify._verdict import VALUES_NOT_CHECKED
from optgui.core.verify._verifier import verify_study
from tests.support.verify import (
    SAMPLERS,
    delete_trial,
    edit_distribution,
    edit_run_record,
    edit_segment_end,
    next_choice,
    run_in_process,
    set_trial_state,
    set_trial_value,
    tampered_copy,
)

pytestmark = pytest.mark.xdist_group("tamper")
SPEC, OBJECTIVE = SAMPLERS["tpe"]  # builtin:mixed: float, int, log-float, stepped float, categorical


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """20 TPE trials in three segments: 0–7, 8–11 (paused), 12–19."""
    path = tmp_path_factory.mktemp("trust-tamper") / "base.db"
    run_in_process(path, SPEC, OBJECTIVE, 8)
    run_in_process(path, SPEC, OBJECTIVE, 20, pause_after=11)
    verdict = verify_study(str(path), use_cache=False)
    assert verdict.kind == "verified" and verdict.equivalent and verdict.n_checked == 20, verdict.summary()
    return path


def _verify(base, tmp_path, *edits):
    return verify_study(str(tampered_copy(base, tmp_path / "t.db", *edits)), use_cache=False)


def test_segment_ends_record_the_states_of_their_trials(base):
    conn = sqlite3.connect(base)
    try:
        rows = conn.execute("SELECT value_json FROM study_system_attributes WHERE key LIKE 'optgui:segment:%'")
        ends = sorted((json.loads(v)["end"]["last_trial"], json.loads(v)["end"]["states"]) for (v,) in rows)
    finally:
        conn.close()
    assert ends == [(7, "8C"), (11, "4C"), (19, "8C")]


def test_deleted_last_trial_is_missing_where_the_segment_ended(base, tmp_path):
    verdict = _verify(base, tmp_path, delete_trial(19))
    assert verdict.kind == "diverged" and verdict.divergence.trial == 19, verdict.summary()
    assert "trial 19 is missing" in verdict.cause and "segment 2 ended at trial 19" in verdict.cause


def test_last_trial_turned_from_complete_to_fail(base, tmp_path):
    verdict = _verify(base, tmp_path, set_trial_state(19, "FAIL"))
    assert verdict.kind == "diverged" and verdict.divergence.trial == 19, verdict.summary()
    assert "trial 19 is FAIL in the record, but segment 2 recorded it COMPLETE" in verdict.cause
    assert verdict.n_checked == 19


def test_state_edit_is_named_at_the_edited_trial_not_the_next(base, tmp_path):
    verdict = _verify(base, tmp_path, set_trial_state(15, "FAIL"))
    assert verdict.kind == "diverged" and verdict.divergence.trial == 15, verdict.summary()
    assert "state was edited" in verdict.cause


def test_seed_field_alone_edited_contradicts_the_spec(base, tmp_path):
    verdict = _verify(base, tmp_path, edit_run_record(seed=12345))
    assert verdict.kind == "unverifiable", verdict.summary()
    assert "run record was edited" in verdict.reason and "12345" in verdict.reason and "seed=11" in verdict.reason


def test_edited_value_verifies_but_says_values_were_not_checked(base, tmp_path):
    verdict = _verify(base, tmp_path, set_trial_value(19, 123.0))
    assert verdict.kind == "verified", verdict.summary()  # the last value changes no suggestion
    assert f"  {VALUES_NOT_CHECKED}" in verdict.summary()
    assert verdict.to_json_obj()["values_checked"] == 0


def test_distribution_edit_is_named_at_the_edited_trial(base, tmp_path):
    verdict = _verify(base, tmp_path, edit_distribution(13, "x", high=6.0))
    assert verdict.kind == "diverged", verdict.summary()
    assert (verdict.divergence.trial, verdict.divergence.param) == (13, "x")
    assert "the distribution of 'x' recorded at trial 13" in verdict.cause and "edited" in verdict.cause
    assert verdict.n_checked == 13
    assert "first difference: trial 13, parameter 'x'" in "\n".join(verdict.summary())


def test_categorical_edit_is_an_edit_not_a_reordering(base, tmp_path):
    verdict = _verify(base, tmp_path, next_choice(14, "optimizer"))
    assert verdict.kind == "diverged", verdict.summary()
    assert (verdict.divergence.trial, verdict.divergence.param) == (14, "optimizer")
    assert "reordered" not in verdict.cause
    assert "recorded value of 'optimizer' was edited" in verdict.cause


def test_deleting_every_trial_of_a_one_trial_run_is_seen(tmp_path):
    path = tmp_path / "one.db"
    run_in_process(path, *SAMPLERS["random"], 1)
    verdict = verify_study(str(tampered_copy(path, tmp_path / "t.db", delete_trial(0))), use_cache=False)
    assert verdict.kind == "diverged" and verdict.divergence.trial == 0, verdict.summary()
    assert "segment 0 ended at trial 0" in verdict.cause


@pytest.mark.parametrize("states", ["garbage", 7, "99999999999C"])
def test_malformed_segment_states_are_unverifiable(base, tmp_path, states):
    verdict = _verify(base, tmp_path, edit_segment_end(1, states=states))
    assert verdict.kind == "unverifiable", verdict.summary()
    if isinstance(states, str):
        assert "segment 1's recorded trial states are malformed" in verdict.reason
    else:  # not even a string: the segment record itself is malformed
        assert "optgui:segment:1 has 'end' that has 'states' = 7, not a string" in verdict.reason
