"""StudyRunner in one process: pause/resume from another thread, events, n_trials semantics, failures, leases,
adopted studies, version changes, journal storages."""

from __future__ import annotations

import threading
import warnings

import optuna
import pytest

from optgui.core import records
from optgui.core.engine._events import RunStateChanged, TrialFinished, TrialStarted
from optgui.core.engine._runner import RunRequest, StudyRunner
from optgui.core.errors import LeaseHeldError, StudyStateError
from tests.support.determinism import STUDY, first_difference, recorded, reference


def _request(path, **kw):
    base = dict(
        storage=str(path), study_name=STUDY, objective="builtin:quadratic", sampler="TPESampler(seed=11)", n_trials=24
    )
    base.update(kw)
    return RunRequest(**base)


def _attrs(path, name=STUDY):
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    return storage.get_study_system_attrs(storage.get_study_id_from_name(name))


def test_pause_and_resume_in_one_process_equals_uninterrupted_run(tmp_path):
    path = tmp_path / "s.db"
    events = []
    paused = threading.Event()

    def listener(event):
        events.append(event)
        if isinstance(event, TrialFinished) and event.number in (5, 13):
            runner.request_pause()
        if isinstance(event, RunStateChanged) and event.state == "paused":
            paused.set()

    runner = StudyRunner(_request(path), listener)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("o", runner.run()))
    worker.start()
    for _ in range(2):
        assert paused.wait(60), "the run never paused"
        paused.clear()
        runner.request_resume()
    worker.join(120)
    assert not worker.is_alive()
    assert outcome["o"].reason == "completed" and outcome["o"].n_finished == 24
    assert first_difference(reference("TPESampler(seed=11)", "builtin:quadratic", 24), recorded(str(path))) is None
    meta = records.StudyMetadata.from_system_attrs(_attrs(path))
    assert [s["end"]["reason"] for s in meta.segments] == ["paused", "paused", "completed"]
    assert [s["start_trial"] for s in meta.segments] == [0, 6, 14]
    assert set(meta.states) == {0, 6, 14, 24}  # one saved state per boundary, none overwritten
    states = [e.state for e in events if isinstance(e, RunStateChanged)]
    assert states.count("pausing") == 2 and states.count("paused") == 2 and states[-1] == "completed"


def test_rerun_does_the_remainder_then_nothing_then_extends(tmp_path):
    path = tmp_path / "s.db"
    assert StudyRunner(_request(path, n_trials=5)).run().n_finished == 5
    outcome = StudyRunner(_request(path, n_trials=5)).run()
    assert outcome.reason == "nothing-to-do"
    outcome = StudyRunner(_request(path, n_trials=9, objective=None, sampler=None)).run()
    assert outcome.reason == "completed" and outcome.n_finished == 9
    assert len(recorded(str(path))) == 9


def test_objective_errors_become_fail_trials_with_error_text_and_count(tmp_path):
    path = tmp_path / "s.db"
    outcome = StudyRunner(_request(path, objective="builtin:flaky", sampler="RandomSampler(seed=2)", n_trials=20)).run()
    assert outcome.n_finished == 20
    expected = reference("RandomSampler(seed=2)", "builtin:flaky", 20)
    got = recorded(str(path))
    assert first_difference(expected, got) is None
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}")
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert failed, "the flaky objective should have failed at least once in 20 trials"
    assert all(records.TRIAL_ERROR in t.system_attrs for t in failed)  # a NaN return records Optuna's reason too
    raised = [t for t in failed if t.system_attrs[records.TRIAL_ERROR]["type"] != "InvalidValue"]
    assert raised and all("simulated failure" in t.system_attrs[records.TRIAL_ERROR]["message"] for t in raised)
    assert all("Traceback" in t.system_attrs[records.TRIAL_ERROR]["traceback"] for t in raised)


def test_metadata_keeps_the_database_a_plain_optuna_study(tmp_path):
    path = tmp_path / "s.db"
    StudyRunner(_request(path, n_trials=6)).run()
    study = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}")
    assert len(study.trials) == 6 and study.best_value >= 0
    attrs = _attrs(path)
    assert attrs[records.KEY_SCHEMA] == 1
    run = attrs[records.KEY_RUN]
    assert run["seed"] == 11 and run["sampler"] == {"sampler": "TPESampler", "kwargs": {"seed": 11}}
    assert run["versions"]["optuna"] == optuna.__version__
    assert attrs[records.KEY_LEASE]["released"] is True


def test_a_live_lease_refuses_a_second_runner(tmp_path):
    path = tmp_path / "s.db"
    started = threading.Event()
    first = StudyRunner(
        _request(path, objective="builtin:slow(sleep=0.2)", n_trials=50),
        lambda e: started.set() if isinstance(e, TrialFinished) else None,
    )
    worker = threading.Thread(target=first.run)
    worker.start()
    try:
        assert started.wait(60)
        with pytest.raises(LeaseHeldError, match="is being run by process"):
            StudyRunner(_request(path, objective="builtin:slow(sleep=0.2)", n_trials=50)).prepare()
    finally:
        first.request_stop()
        worker.join(60)
    # Once released, a resume is allowed and continues.
    assert StudyRunner(_request(path, objective="builtin:slow(sleep=0.2)", n_trials=3)).run().reason in (
        "completed",
        "nothing-to-do",
    )


def test_adopting_a_plain_optuna_study_starts_claims_at_the_boundary(tmp_path):
    path = tmp_path / "s.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            study_name=STUDY, storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2 + t.suggest_float("y", -10, 10) ** 2, n_trials=7)
    with pytest.raises(StudyStateError, match="not made by optgui"):
        StudyRunner(_request(path, objective=None)).prepare()
    runner = StudyRunner(_request(path, n_trials=4))
    outcome = runner.run()
    assert outcome.n_finished == 4
    assert any("7 trials made without optgui" in n for n in outcome.notes)
    run = _attrs(path)[records.KEY_RUN]
    assert run["origin"] == "adopted" and run["history_until"] == 7
    assert len(recorded(str(path))) == 11


def test_recorded_options_that_differ_are_errors_naming_both(tmp_path):
    path = tmp_path / "s.db"
    StudyRunner(_request(path, n_trials=3)).run()
    with pytest.raises(Exception, match=r"TPESampler\(seed=12\).*TPESampler\(seed=11\)"):
        StudyRunner(_request(path, sampler="TPESampler(seed=12)")).prepare()
    with pytest.raises(Exception, match="--seed 3 differs from the study's recorded seed 11"):
        StudyRunner(_request(path, sampler=None, seed=3)).prepare()
    with pytest.raises(StudyStateError, match="--direction maximize differs"):
        StudyRunner(_request(path, directions=["maximize"])).prepare()


def test_version_change_is_recorded_without_consent(tmp_path):
    """A changed version of a package the sampler uses no longer blocks the run (the verifier checks it:
    tests/core/test_version_policy.py); the new segment records the change."""
    path = tmp_path / "s.db"
    StudyRunner(_request(path, n_trials=3)).run()
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    sid = storage.get_study_id_from_name(STUDY)
    segment = storage.get_study_system_attrs(sid)[records.segment_key(0)]
    segment["versions"] = {**segment["versions"], "numpy": "1.0.0"}
    storage.set_study_system_attr(sid, records.segment_key(0), segment)
    del storage
    StudyRunner(_request(path, n_trials=5)).run()
    seg1 = _attrs(path)[records.segment_key(1)]
    assert seg1["version_change"]["numpy"][0] == "1.0.0"


@pytest.mark.parametrize("sampler,equivalent", [("TPESampler(seed=4)", True), ("CmaEsSampler(seed=4)", False)])
def test_journal_storage_abandons_the_zombie_and_says_when_that_breaks_equivalence(tmp_path, sampler, equivalent):
    """Journal files are append-only: the zombie cannot be rolled back, so it is told FAIL and tagged abandoned.
    TPE ignores FAIL trials and numbers (still equal to the reference); CMA-ES reseeds with trial numbers (not)."""
    path = tmp_path / "s.log"
    abandon_at = 9
    runner = StudyRunner(_request(path, sampler=sampler, objective="builtin:quadratic", n_trials=20))

    def listener(event):
        if isinstance(event, TrialStarted) and event.number == abandon_at:
            runner.abandon_trial()  # interrupts the trial at its first suggest, as a crash would

    runner._listener = listener
    with pytest.raises(Exception, match="abandoned"):
        runner.run()
    resumed = StudyRunner(_request(path, sampler=sampler, objective="builtin:quadratic", n_trials=20))
    outcome = resumed.run()
    assert outcome.n_finished == 20
    got = recorded(str(path))
    assert len(got) == 20
    same = first_difference(reference(sampler, "builtin:quadratic", 20), got) is None
    assert same is equivalent
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(str(path)))
    sid = storage.get_study_id_from_name(STUDY)
    recovery = storage.get_study_system_attrs(sid)[records.segment_key(1)]["recovery"]
    assert recovery["handling"] == "abandoned" and recovery["zombie"] == abandon_at
    assert recovery["equivalent"] is equivalent
    zombie = storage.get_all_trials(sid)[abandon_at]
    assert zombie.state.name == "FAIL" and records.TRIAL_ABANDONED in zombie.system_attrs
