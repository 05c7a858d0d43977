"""A deterministic fleet whose coordinator is SIGKILLed, on a real PostgreSQL server: rerunning the same command
rebuilds the sampler state from the study, finishes the batches in flight and continues, and the finished trials
equal the uninterrupted plain-Optuna batched loop. Restarting as plain Optuna would (stale trials failed, sampler
from its seed) gives different trials.

The coordinator dies at named fault points (OPTGUI_FAULT): after asking a trial in the middle of a batch, and
after telling part of a batch while the next one is already asked (pipelined).
"""

from __future__ import annotations

import os
import signal

import optuna
import pytest

from optgui.core import records
from optgui.core.engine._lease import _pid_alive
from optgui.core.fleet import _store as fl
from optgui.core.verify._verifier import verify_study
from tests.support.determinism import first_difference
from tests.support.fleet import (
    batched_reference,
    child_env,
    naive_restart_reference,
    recorded_signatures,
    run_fleet,
    write_objective,
)

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.xdist_group("postgres-fleet")]

SAMPLER = "TPESampler(seed=7, n_startup_trials=4)"
N_TRIALS = 16


@pytest.fixture
def study_name(pg_url):
    import uuid

    name = f"fleet-recover-{uuid.uuid4().hex[:10]}"
    yield name
    storage = optuna.storages.RDBStorage(pg_url)
    try:
        _kill_workers(storage, name)
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:
        pass
    storage.engine.dispose()


def _kill_workers(storage, name: str) -> list[int]:
    """SIGKILL the worker processes this test started that still live (those of the dead coordinator)."""
    import socket

    store = fl.RdbFleetStore(storage, storage.get_study_id_from_name(name))
    killed = []
    for record in fl.iter_worker_records(store.fleet_attrs()):
        if (
            record.get("host") == socket.gethostname()
            and record.get("state") not in ("exited", "failed")
            and _pid_alive(int(record["pid"]))
        ):
            os.kill(int(record["pid"]), signal.SIGKILL)
            killed.append(int(record["pid"]))
    return killed


@pytest.mark.timeout(240)  # took 75 s on a busy 2-core machine
@pytest.mark.parametrize(
    "faults,pipeline,kill_workers",
    [
        # died while asking batch 4-7 (its workers live on); the recovering run dies too, telling batch 8-11
        (("coordinator_after_ask:5", "coordinator_after_tell:9"), False, False),
        (("coordinator_after_tell:5",), True, True),  # pipelined: 4-5 told, 6-7 evaluated or not, 8-11 asked; all die
        (("coordinator_after_tell:9",), False, True),  # died in the middle of telling batch 8-11
    ],
)
def test_rerun_after_coordinator_sigkill_equals_uninterrupted_batched_loop(
    pg_url, study_name, tmp_path, faults, pipeline, kill_workers
):
    objective = write_objective(tmp_path)
    spec = f"{objective}:search_space,evaluate"
    storage = optuna.storages.RDBStorage(pg_url)
    for i, fault in enumerate(faults):
        # The dying run's workers outlive it and keep its output pipes open: its output goes to a file.
        log = tmp_path / f"died{i}.log"
        with open(log, "w") as out:
            died = run_fleet(
                pg_url,
                study_name,
                spec,
                SAMPLER,
                N_TRIALS,
                workers=3,
                batch=4,
                pipeline=pipeline,
                env=child_env(FLEET_JITTER_SEED=f"r{i}", OPTGUI_FAULT=fault),
                output=out,
            )
        assert died.returncode == -signal.SIGKILL, log.read_text()[-2000:]
        study_id = storage.get_study_id_from_name(study_name)
        assert any(t.state == optuna.trial.TrialState.RUNNING for t in storage.get_all_trials(study_id)), (
            "the coordinator died with nothing in flight: the fault point tests nothing"
        )
        if kill_workers:
            assert _kill_workers(storage, study_name)
    fault = faults[0]

    rerun = run_fleet(
        pg_url,
        study_name,
        spec,
        SAMPLER,
        N_TRIALS,
        workers=3,
        batch=4,
        pipeline=pipeline,
        env=child_env(FLEET_JITTER_SEED="s"),
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "recovered the fleet from a coordinator that died" in rerun.stderr

    got = recorded_signatures(pg_url, study_name)
    expected = batched_reference(SAMPLER, objective, N_TRIALS, 4, study_name="ref", pipeline=pipeline)
    assert len(got) == N_TRIALS
    assert first_difference(expected, got) is None, f"first difference at trial {first_difference(expected, got)}"
    meta = records.read_metadata(storage, study_id)
    assert [s["end"]["reason"] for s in meta.segments] == ["crashed"] * len(faults) + ["completed"]
    recovery = meta.segments[1]["recovery"]
    assert recovery["equivalent"] and recovery["in_flight"]
    # One writer of segments: the one fleet recovery starts names its output log like every other.
    assert all(segment.output_log for segment in meta.segment_records), meta.segments
    if fault.startswith("coordinator_after_ask"):
        assert recovery["zombie"] == 5  # re-entered under its number
    # The verifier replays the recovered run as the coordinators made it, across the crash(es).
    verdict = verify_study(pg_url, study_name, use_cache=False)
    assert verdict.verified, verdict.headline()
    assert verdict.equivalent, verdict.headline()
    # Teeth: restarting the way plain Optuna would (stale trials failed, sampler from its seed) differs.
    told = int(fault.split(":")[1]) if "tell" in fault else 3
    naive = naive_restart_reference(
        SAMPLER, objective, N_TRIALS, 4, study_name="ref", pipeline=pipeline, restart_after_tell=told
    )
    assert first_difference(naive, got) is not None
    storage.engine.dispose()
