"""Parallel runs on one machine through an Optuna journal file, and the fleet pieces that need no server."""

from __future__ import annotations

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from optgui.core.engine._split_objective import SuggestOnlyTrial, SuggestPhaseEnded, run_suggest_phase
from optgui.core.errors import OptguiError, StorageError
from optgui.core.fleet import _store as fl
from tests.support.fleet import (
    batched_reference,
    child_env,
    fleet_difference,
    run_fleet,
    write_objective,
)

pytestmark = pytest.mark.slow

SAMPLER = "TPESampler(seed=3, n_startup_trials=4)"


def test_journal_fleet_with_one_function_objective_equals_batched_reference(tmp_path):
    objective = write_objective(tmp_path)
    journal = tmp_path / "fleet.log"
    # The one-function form: the coordinator runs `objective` until its first non-suggest use (report).
    proc = run_fleet(
        str(journal),
        "j",
        f"{objective}:objective",
        SAMPLER,
        9,
        workers=2,
        batch=3,
        env=child_env(FLEET_JITTER_SEED="j", FLEET_MAX_SLEEP=0.02),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    storage = JournalStorage(JournalFileBackend(str(journal)))
    difference = fleet_difference(batched_reference(SAMPLER, objective, 9, 3, study_name="ref"), storage, "j")
    assert difference is None, f"{difference}\ncoordinator's stderr:\n{proc.stderr[-3000:]}"
    status = fl.read_status(fl.fleet_store(storage, storage.get_study_id_from_name("j"), _journal_ref(journal)))
    assert [w.state for w in status.workers] == ["exited", "exited"] and status.state == "completed"


def _journal_ref(path):
    from optgui.core.storage._naming import parse_storage

    return parse_storage(str(path))


def test_journal_claims_are_insert_once(tmp_path):
    journal = tmp_path / "c.log"
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.create_study(storage=storage, study_name="c")
    trial = study.ask()
    store = fl.fleet_store(storage, study._study_id, _journal_ref(journal))
    assert store.insert_trial_attr_once(trial._trial_id, fl.claim_key(0), {"worker": 0})
    assert not store.insert_trial_attr_once(trial._trial_id, fl.claim_key(0), {"worker": 1})
    assert storage.get_trial(trial._trial_id).system_attrs[fl.claim_key(0)] == {"worker": 0}
    first = fl.WorkerRegistration(store, mode="deterministic")
    second = fl.WorkerRegistration(store, mode="deterministic")
    assert (first.index, second.index) == (0, 1)


def test_sqlite_is_refused_for_parallel_runs(tmp_path):
    proc = run_fleet(str(tmp_path / "s.db"), "s", "builtin:quadratic", SAMPLER, 4, workers=2, batch=2)
    assert proc.returncode == 3 and "SQLite cannot take concurrent writers" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_suggest_only_trial_ends_the_phase_at_the_first_other_use():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    proxy = SuggestOnlyTrial(trial)
    proxy.suggest_float("x", 0, 1)
    with pytest.raises(SuggestPhaseEnded):
        proxy.report(1.0, 0)

    def returns_early(t):
        t.suggest_int("n", 0, 3)
        return 1.0

    assert run_suggest_phase(returns_early, study.ask()) == "returned"

    def space_that_reports(t):
        t.report(0.0, 0)

    space_that_reports.search_space = space_that_reports
    with pytest.raises(OptguiError, match="may only call trial.suggest_"):
        run_suggest_phase(space_that_reports, study.ask())


class _StorageFailsOnParams(optuna.storages.InMemoryStorage):
    def __init__(self, error: Exception):
        super().__init__()
        self.error = error

    def set_trial_param(self, *args, **kwargs):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [optuna.exceptions.StorageInternalError("database is locked"), StorageError("the journal lock is locked")],
)
def test_a_storage_error_in_the_suggest_phase_stops_it_and_an_objectives_own_error_does_not(error):
    """An objective's own error in its suggest phase is the worker's to meet again (the trial fails there, as in
    plain Optuna); a suggest that fails in the storage is raised, not taken for the objective's: the trial would be
    released without parameters and every worker would fail it."""
    study = optuna.create_study(storage=_StorageFailsOnParams(error), sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(t):
        t.suggest_float("x", 0, 1)
        t.report(0.0, 0)

    with pytest.raises(type(error), match="locked"):
        run_suggest_phase(objective, study.ask())

    def raises_itself(t):
        raise ValueError("the objective's own")

    assert run_suggest_phase(raises_itself, optuna.create_study().ask()) == "raised"

    def bad_bounds(t):
        t.suggest_float("x", 1, 0)  # Optuna refuses it before the storage: the worker meets it too

    assert run_suggest_phase(bad_bounds, optuna.create_study().ask()) == "raised"


def test_a_worker_started_for_a_fleet_that_already_finished_exits_at_once(tmp_path):
    """A local worker can start after its fleet finished (the coordinator was quicker than its start-up): told the
    session it was started for, it ends at once; a worker told nothing waits for the study's next fleet, as one
    started by hand for a later rerun should."""
    import threading
    import time

    from optgui.core.fleet import FleetWorker

    objective = write_objective(tmp_path)
    journal = tmp_path / "fleet.log"
    proc = run_fleet(str(journal), "late", f"{objective}:search_space,evaluate", SAMPLER, 2, workers=1, batch=1)
    assert proc.returncode == 0, proc.stderr[-3000:]
    storage = JournalStorage(JournalFileBackend(str(journal)))
    fleet = storage.get_study_system_attrs(storage.get_study_id_from_name("late"))[fl.KEY_FLEET]
    assert fleet["state"] == "completed"

    started = time.monotonic()
    outcome = FleetWorker(str(journal), "late", fleet_session=fleet["session"]).run()
    assert (outcome.reason, outcome.n_evaluated) == ("completed", 0)
    assert time.monotonic() - started < 10

    waiting = FleetWorker(str(journal), "late", fleet_session="another fleet")
    done = threading.Event()
    thread = threading.Thread(target=lambda: (waiting.run(), done.set()), daemon=True)
    thread.start()
    assert not done.wait(2.0)  # still waiting for the next fleet of this study
    waiting.request_stop()
    assert done.wait(10)
