"""Tampered copies of a real optgui study (direct SQL on SQLite) are caught at the exact trial, with a reason."""

from __future__ import annotations

import pytest

from optgui.core.verify._verifier import verify_study
from tests.support.verify import (
    SAMPLERS,
    append_plain_trials,
    change_recorded_seed,
    delete_trial,
    nudge_param,
    plain_study,
    run_in_process,
    swap_trials,
    tampered_copy,
)

pytestmark = pytest.mark.xdist_group("tamper")
SPEC, OBJECTIVE = SAMPLERS["tpe"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("tamper") / "base.db"
    run_in_process(path, SPEC, OBJECTIVE, 8)
    run_in_process(path, SPEC, OBJECTIVE, 16, pause_after=11)
    verdict = verify_study(str(path), use_cache=False)
    assert verdict.kind == "verified" and verdict.equivalent, verdict.summary()
    return path


def _verify(path, **kw):
    return verify_study(str(path), use_cache=False, **kw)


def test_one_param_nudged_by_one_ulp(base, tmp_path):
    verdict = _verify(tampered_copy(base, tmp_path / "t.db", nudge_param(9, "lr")))
    assert verdict.kind == "diverged"
    assert (verdict.divergence.trial, verdict.divergence.param) == (9, "lr")
    assert verdict.n_checked == 9
    assert "1 ulp" in verdict.cause


def test_one_trial_deleted(base, tmp_path):
    verdict = _verify(tampered_copy(base, tmp_path / "t.db", delete_trial(5)))
    assert verdict.kind == "diverged" and verdict.divergence.trial == 5
    assert "trial 5 is missing" in verdict.cause


def test_two_trials_swapped(base, tmp_path):
    verdict = _verify(tampered_copy(base, tmp_path / "t.db", swap_trials(12, 13)))
    assert verdict.kind == "diverged" and verdict.divergence.trial == 12
    assert "reordered" in verdict.cause


def test_recorded_seed_changed(base, tmp_path):
    verdict = _verify(tampered_copy(base, tmp_path / "t.db", change_recorded_seed(12345)))
    assert verdict.kind == "diverged" and verdict.divergence.trial == 0
    assert "seed or spec changed" in verdict.cause


def test_trials_appended_by_plain_optuna(base, tmp_path):
    path = tampered_copy(base, tmp_path / "t.db")
    append_plain_trials(path, "TPESampler(seed=777)", OBJECTIVE, 3)
    verdict = _verify(path)
    assert verdict.kind == "diverged" and verdict.divergence.trial == 16
    assert verdict.n_checked == 16
    assert "written by another process" in verdict.cause


def test_study_run_with_two_jobs(tmp_path):
    path = tmp_path / "nj.db"
    plain_study(path, "TPESampler(seed=5)", "builtin:slow(sleep=0.05)", 8, n_jobs=2)
    verdict = _verify(path, spec="TPESampler(seed=5)")
    assert verdict.kind == "diverged" and verdict.divergence.trial == 0  # reseeded from OS entropy at once
    assert "n_jobs>1" in verdict.cause and "ran at the same time" in verdict.cause


def test_untampered_copy_still_verifies(base, tmp_path):
    verdict = _verify(tampered_copy(base, tmp_path / "t.db"))
    assert verdict.kind == "verified" and verdict.equivalent and verdict.n_checked == 16
