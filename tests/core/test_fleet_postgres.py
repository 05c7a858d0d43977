"""Parallel runs on a real PostgreSQL server: deterministic mode equals the plain-Optuna batched loop for 1, 2 and
4 worker processes and any timing; fleet pause leaves nothing RUNNING and resumes identically; a SIGKILLed worker's
trial is evaluated again; free-running mode is honest about not being reproducible.

The server comes from .ci/services.sh (OPTGUI_TEST_POSTGRES_URL). Without it these tests skip, unless
OPTGUI_REQUIRE_SERVERS=1, when they fail. Study names are unique per test, so runs can share the database.
"""

from __future__ import annotations

import time
import uuid
import warnings

import optuna
import pytest

from optgui.core import records
from optgui.core.fleet import _store as fl
from tests.support.determinism import first_difference
from tests.support.fleet import (
    batched_reference,
    child_env,
    optgui_cmd,
    recorded_signatures,
    run_fleet,
    write_objective,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.xdist_group("postgres-fleet")]

SAMPLER = "TPESampler(seed=7, n_startup_trials=4)"
N_TRIALS = 12


@pytest.fixture
def study_names(pg_url):
    created: list[str] = []

    def make(prefix: str) -> str:
        name = f"fleet-{prefix}-{uuid.uuid4().hex[:10]}"
        created.append(name)
        return name

    yield make
    storage = optuna.storages.RDBStorage(pg_url)
    for name in created:
        try:
            optuna.delete_study(study_name=name, storage=storage)
        except KeyError:
            pass
    storage.engine.dispose()


def _store(url: str, study: str):
    storage = optuna.storages.RDBStorage(url)
    return storage, fl.fleet_store(storage, storage.get_study_id_from_name(study), _rdb_ref(url))


def _rdb_ref(url: str):
    from optgui.core.storage._naming import parse_storage

    return parse_storage(url)


def _check_ok(proc) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("workers,jitter_seeds", [(4, ("a", "b")), (2, ("c",)), (1, ("d",))])
def test_deterministic_fleet_equals_batched_reference(pg_url, study_names, tmp_path, workers, jitter_seeds):
    objective = write_objective(tmp_path)
    expected = batched_reference(SAMPLER, objective, N_TRIALS, 4, study_name="ref")
    for seed in jitter_seeds:
        name = study_names(f"det{workers}")
        proc = run_fleet(
            pg_url,
            name,
            f"{objective}:search_space,evaluate",
            SAMPLER,
            N_TRIALS,
            workers=workers,
            batch=4,
            env=child_env(FLEET_JITTER_SEED=seed, FLEET_MAX_SLEEP=0.05),
        )
        _check_ok(proc)
        got = recorded_signatures(pg_url, name)
        assert first_difference(expected, got) is None, (
            f"{workers} workers, jitter {seed}: first difference at trial {first_difference(expected, got)}"
        )
        storage, store = _store(pg_url, name)
        trials = optuna.load_study(study_name=name, storage=storage).trials
        evaluators = {t.system_attrs[fl.TRIAL_RESULT]["worker"] for t in trials}
        if workers > 1:
            assert len(evaluators) > 1, "the evaluations were not spread over the workers"
        assert all(fl.claim_key(0) in t.system_attrs for t in trials)
        storage.engine.dispose()
    # Teeth: the same comparison catches suggests made out of trial-number order (what define-by-run objectives
    # running on the workers would do), and batching itself matters (a sequential run differs).
    assert (
        first_difference(batched_reference(SAMPLER, objective, N_TRIALS, 4, study_name="ref", naive=True), got)
        is not None
    )
    assert first_difference(batched_reference(SAMPLER, objective, N_TRIALS, 1, study_name="ref"), got) is not None


def test_pipelined_fleet_equals_pipelined_reference(pg_url, study_names, tmp_path):
    objective = write_objective(tmp_path)
    name = study_names("pipe")
    proc = run_fleet(
        pg_url,
        name,
        f"{objective}:search_space,evaluate",
        SAMPLER,
        N_TRIALS,
        workers=4,
        batch=4,
        pipeline=True,
        env=child_env(FLEET_JITTER_SEED="p"),
    )
    _check_ok(proc)
    got = recorded_signatures(pg_url, name)
    assert (
        first_difference(batched_reference(SAMPLER, objective, N_TRIALS, 4, study_name="ref", pipeline=True), got)
        is None
    )
    # Pipelining is a different (equally deterministic) sequence: the sampler sees the previous batch running.
    assert first_difference(batched_reference(SAMPLER, objective, N_TRIALS, 4, study_name="ref"), got) is not None


@pytest.mark.timeout(150)  # took 43 s on a busy 2-core machine
def test_fleet_pause_leaves_nothing_running_and_resumes_identically(pg_url, study_names, tmp_path):
    import subprocess

    objective = write_objective(tmp_path)
    name = study_names("pause")
    n_trials = 20
    gate = tmp_path / "gate-open"  # trials from 8 on wait for it: the pause lands mid-run on any machine
    proc = run_fleet(
        pg_url,
        name,
        f"{objective}:search_space,evaluate",
        SAMPLER,
        n_trials,
        workers=4,
        batch=4,
        env=child_env(FLEET_JITTER_SEED="q", FLEET_MAX_SLEEP=0.05, FLEET_GATE=gate, FLEET_GATE_FROM=8),
        background=True,
    )
    try:
        storage = optuna.storages.RDBStorage(pg_url)
        study_id = wait_until(lambda: _study_id(storage, name), 60, "the study")
        store = fl.fleet_store(storage, study_id, _rdb_ref(pg_url))
        wait_until(lambda: _n_finished(storage, study_id) >= 1, 120, "a finished trial")
        fl.send_command(store, "pause")  # what `optgui control ... pause` writes (the CLI resumes, below)
        gate.touch()
        wait_until(lambda: (store.fleet_attrs().get(fl.KEY_FLEET) or {}).get("state") == "paused", 60, "paused")
        status = wait_until(lambda: _all_paused(store), 30, "every worker paused")
        assert len(status.workers) == 4
        assert status.running_trials == ()
        finished_at_pause = _n_finished(storage, study_id)
        assert finished_at_pause % 4 == 0 and finished_at_pause < n_trials  # drained to a batch boundary
        time.sleep(1.5)
        assert _n_finished(storage, study_id) == finished_at_pause and not store.running_trials()
        out = subprocess.run(
            optgui_cmd("control", pg_url, "--study", name, "resume"),
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    got = recorded_signatures(pg_url, name)
    assert first_difference(batched_reference(SAMPLER, objective, n_trials, 4, study_name="ref"), got) is None
    meta = records.read_metadata(storage, study_id)
    assert [s["end"]["reason"] for s in meta.segments] == ["paused", "completed"]
    assert all(w.state == "exited" for w in fl.read_status(store).workers)
    storage.engine.dispose()


def _study_id(storage, name):
    try:
        return storage.get_study_id_from_name(name)
    except KeyError:
        return None


def _n_finished(storage, study_id) -> int:
    return sum(1 for t in storage.get_all_trials(study_id, deepcopy=False) if t.state.is_finished())


def _all_paused(store):
    status = fl.read_status(store)
    if len(status.workers) == 4 and all(w.state == "paused" for w in status.workers):
        return status
    return None


@pytest.mark.timeout(250)  # took 83 s on a busy 2-core machine
def test_sigkilled_worker_trial_is_evaluated_again(pg_url, study_names, tmp_path):
    objective = write_objective(tmp_path)
    name = study_names("kill")
    env = child_env(FLEET_JITTER_SEED="k", OPTGUI_FAULT="worker_before_result:6")
    proc = run_fleet(pg_url, name, f"{objective}:search_space,evaluate", SAMPLER, N_TRIALS, workers=3, batch=4, env=env)
    _check_ok(proc)
    got = recorded_signatures(pg_url, name)
    assert first_difference(batched_reference(SAMPLER, objective, N_TRIALS, 4, study_name="ref"), got) is None
    storage, store = _store(pg_url, name)
    trial6 = optuna.load_study(study_name=name, storage=storage).trials[6]
    first, second = trial6.system_attrs[fl.claim_key(0)], trial6.system_attrs[fl.claim_key(1)]
    assert first["worker"] != second["worker"]
    assert trial6.system_attrs[fl.TRIAL_RESULT]["attempt"] == 1
    states = {w.index: w.state for w in fl.read_status(store).workers}
    assert states[first["worker"]] == "dead" and list(states.values()).count("exited") == 2
    storage.engine.dispose()


def test_free_running_fleet_is_not_the_reference_and_records_who_asked(pg_url, study_names, tmp_path):
    objective = write_objective(tmp_path)
    name = study_names("free")
    proc = run_fleet(
        pg_url,
        name,
        f"{objective}:objective",
        SAMPLER,
        12,
        workers=2,
        batch=1,
        mode="free",
        env=child_env(FLEET_JITTER_SEED="f"),
    )
    _check_ok(proc)
    storage, store = _store(pg_url, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = optuna.load_study(study_name=name, storage=storage).trials
    assert len(trials) >= 12 and all(t.state.is_finished() for t in trials)
    askers = {t.system_attrs[fl.TRIAL_ASKED_BY]["worker"] for t in trials}
    assert askers == {0, 1}
    seeds = sorted(w.seed for w in fl.read_status(store).workers)
    assert seeds == [7, 8]  # seed + worker index: two different streams, never the same suggestions twice
    got = recorded_signatures(pg_url, name)
    assert first_difference(batched_reference(SAMPLER, objective, 12, 2, study_name="ref"), got) is not None
    storage.engine.dispose()
