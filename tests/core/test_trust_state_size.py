"""Saved sampler states store the study attributes incrementally: GA samplers add one parent cache per generation
and never change it, so a full copy per boundary grew with the generation count. Each boundary now stores what
changed since the previous one; resume and verification read the full attributes as before, bit-exact with an
uninterrupted plain-Optuna run."""

from __future__ import annotations

import json
import sqlite3

import pytest

from optgui.core import records as stored
from optgui.core.verify._verifier import verify_study
from tests.support.determinism import recorded, reference
from tests.support.verify import run_in_process

SPEC, OBJECTIVE = "NSGAIISampler(seed=5, population_size=4)", "builtin:multi"


def _raw_states(path) -> dict[int, dict]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT key, value_json FROM study_system_attributes WHERE key LIKE 'optgui:state:%'")
        return {int(key.rsplit(":", 1)[1]): json.loads(value) for key, value in rows}
    finally:
        conn.close()


def test_chain_round_trip_adds_changes_and_removes_keys():
    first = {"a": [1, 2], "qmc": 3, "gone": 1}
    second = {"a": [1, 2], "qmc": 4, "b": [5]}
    records = {
        0: {"boundary": 0, "sampler_state": {}, "study_attrs": first},
        9: {"boundary": 9, "sampler_state": {}, **stored.incremental_study_attrs(second, 0, first)},
    }
    assert records[9]["study_attrs"] == {"qmc": 4, "b": [5]} and records[9]["study_attrs_removed"] == ["gone"]
    resolved = stored.resolve_state_chain(records)
    assert resolved[9]["study_attrs"] == second and "study_attrs_base" not in resolved[9]
    assert resolved[0] == records[0]


@pytest.mark.parametrize("base", [7, 12, "0", None])
def test_a_broken_chain_leaves_the_record_out(base):
    records = {
        0: {"boundary": 0, "study_attrs": {"a": 1}},
        9: {"boundary": 9, "study_attrs": {"b": 2}, "study_attrs_base": base, "study_attrs_removed": []},
    }
    assert list(stored.resolve_state_chain(records)) == [0]


@pytest.fixture(scope="module")
def nsga_study(tmp_path_factory):
    """NSGA-II over 40 trials (10 generations of 4) with boundaries at 12, 20, 28 and 40."""
    path = tmp_path_factory.mktemp("state-size") / "s.db"
    run_in_process(path, SPEC, OBJECTIVE, 12)
    run_in_process(path, SPEC, OBJECTIVE, 28, pause_after=19)
    run_in_process(path, SPEC, OBJECTIVE, 40)
    return path


def test_each_boundary_stores_only_the_new_parent_caches(nsga_study):
    raw = _raw_states(nsga_study)
    full = stored.StudyMetadata.from_system_attrs({stored.state_key(b): r for b, r in raw.items()}).states
    assert sorted(raw) == [0, 12, 20, 28, 40]
    for previous, boundary in zip([0, 12, 20, 28], [12, 20, 28, 40], strict=True):
        record = raw[boundary]
        assert record["study_attrs_base"] == previous
        new_keys = set(full[boundary]["study_attrs"]) - set(full[previous]["study_attrs"])
        assert set(record["study_attrs"]) == new_keys  # parent caches never change once written
    assert len(full[40]["study_attrs"]) > len(raw[40]["study_attrs"]) > 0


def test_resume_from_incremental_states_matches_plain_optuna(nsga_study):
    assert recorded(str(nsga_study)) == reference(SPEC, OBJECTIVE, 40)
    verdict = verify_study(str(nsga_study), use_cache=False)
    assert verdict.kind == "verified" and verdict.equivalent and verdict.n_checked == 40, verdict.summary()


def test_a_broken_chain_is_a_missing_state_for_verify_and_resume(nsga_study, tmp_path):
    from tests.support.verify import tampered_copy

    def break_chain(conn):
        key = stored.state_key(20)
        ((value,),) = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = ?", (key,)).fetchall()
        conn.execute(
            "UPDATE study_system_attributes SET value_json = ? WHERE key = ?",
            (json.dumps({**json.loads(value), "study_attrs_base": 13}), key),
        )

    path = tampered_copy(nsga_study, tmp_path / "t.db", break_chain)
    verdict = verify_study(str(path), use_cache=False)
    assert verdict.kind == "verified" and not verdict.equivalent, verdict.summary()
    assert any("no sampler state was saved at trial 20" in r for r in verdict.reasons)
