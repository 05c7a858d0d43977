"""plan_segment: the next segment of a study, planned from its metadata and trials alone (no storage, no sampler
object, no writes). Studies are made by the real engine (and a real crash of the CLI at a fault point)."""

from __future__ import annotations

import dataclasses
import hashlib
import signal
import warnings

import optuna
import pytest

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine import plan_segment
from optgui.core.engine._runner import RunRequest, StudyRunner
from optgui.core.errors import StudyStateError
from tests.support.determinism import STUDY, run_cli

SAMPLER = "TPESampler(seed=5)"


def _run(path, n_trials: int) -> None:
    request = RunRequest(
        storage=str(path), study_name=STUDY, objective="builtin:quadratic", sampler=SAMPLER, n_trials=n_trials
    )
    StudyRunner(request).run()


def _read(path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    study_id = storage.get_study_id_from_name(STUDY)
    meta = records.read_metadata(storage, study_id)
    trials = storage.get_all_trials(study_id, deepcopy=False)
    storage.engine.dispose()
    return meta, trials


def _plan(path, n_trials=None, reentry_supported=True):
    meta, trials = _read(path)
    return plan_segment(meta, trials, n_trials=n_trials, study_name=STUDY, reentry_supported=reentry_supported)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_study_starts_at_trial_zero_from_a_fresh_sampler(tmp_path):
    path = tmp_path / "s.db"
    request = RunRequest(storage=str(path), study_name=STUDY, objective="builtin:quadratic", sampler=SAMPLER)
    StudyRunner(request).create()
    plan = _plan(path, n_trials=4)
    assert (plan.index, plan.resumed_by, plan.boundary, plan.target) == (0, "start", 0, 4)
    assert not plan.nothing_to_do and plan.saved_state is None and plan.recovery is None and not plan.restores_state


def test_a_finished_run_resumes_from_the_state_saved_at_its_end(tmp_path):
    path = tmp_path / "s.db"
    _run(path, 6)
    before = _digest(path)
    met = _plan(path)
    assert (met.resumed_by, met.index, met.boundary, met.n_finished, met.target) == ("resume", 1, 6, 6, 6)
    assert met.nothing_to_do
    more = _plan(path, n_trials=9)
    meta, _ = _read(path)
    assert not more.nothing_to_do and more.target == 9
    assert more.saved_state == meta.states[6] and more.reenter is None and more.abandon == ()
    assert _digest(path) == before  # planning wrote nothing


def test_trials_added_by_another_process_are_foreign_and_move_the_boundary(tmp_path):
    path = tmp_path / "s.db"
    _run(path, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}")
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    plan = _plan(path, n_trials=8)
    assert plan.foreign_before == (4, 5) and plan.boundary == 6
    assert plan.notes and "2 trials (4–5) were added by another process" in plan.notes[0]


def test_a_missing_saved_state_is_one_clear_error(tmp_path):
    path = tmp_path / "s.db"
    _run(path, 3)
    meta, trials = _read(path)
    broken = dataclasses.replace(meta, states={})
    with pytest.raises(StudyStateError, match="saved at trial 3 is missing"):
        plan_segment(broken, trials, n_trials=5, study_name=STUDY, reentry_supported=True)


@pytest.mark.parametrize("reentry_supported", [True, False], ids=["rdb", "journal-like"])
def test_a_dead_segment_is_recovered_by_reentering_or_abandoning_its_zombie(tmp_path, reentry_supported):
    path = tmp_path / "s.db"
    proc = run_cli(f"sqlite:///{path}", SAMPLER, "builtin:quadratic", 8, fault="before_tell:5")
    assert proc.returncode == -signal.SIGKILL
    before = _digest(path)
    plan = _plan(path, reentry_supported=reentry_supported)
    _, trials = _read(path)
    zombie = trials[5]
    assert zombie.state == optuna.trial.TrialState.RUNNING
    assert plan.resumed_by == "recovery" and plan.index == 1 and not plan.nothing_to_do
    assert plan.recovery is not None and plan.recovery.info["zombie"] == 5 and plan.restores_state
    if reentry_supported:
        assert plan.reenter == (oi.trial_id(zombie), 5) and plan.boundary == 5 and plan.abandon == ()
    else:
        assert plan.reenter is None and plan.boundary == 6
        assert [(a.number, a.segment, a.reason) for a in plan.abandon] == [(5, 0, "process died during the trial")]
    assert _digest(path) == before
