"""The verifier on parallel runs made by real fleets: a deterministic fleet's batches (with and without pipelining)
replay and verify, an edited parameter is caught at its trial, incremental verification keeps working with a
pipelined batch in flight, and a free-running run is reported as not reproducible instead of as a divergence.

Journal-file fleets run anywhere; the PostgreSQL ones need the server from .ci/services.sh
(OPTGUI_TEST_POSTGRES_URL) and skip without it unless OPTGUI_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import json
import math
import subprocess
import uuid
import warnings

import optuna
import pytest

from optgui.core.fleet import _store as fl
from optgui.core.storage._study_read import read_study
from optgui.core.verify._verifier import Verifier, verify_study
from tests.support.fleet import child_env, optgui_cmd, run_fleet, write_objective
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

SAMPLER = "TPESampler(seed=5, n_startup_trials=4)"


def _verify(storage: str, study: str, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return verify_study(storage, study, **kw)


def _check_ok(proc) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


# --- journal file fleets (one machine, no server) ----------------------------------------------------------
def _nudge_journal_param(src, dst, number: int, name: str) -> None:
    """Copy a single-study journal with one parameter moved by one ulp (trial ids equal numbers there)."""
    lines = src.read_text().splitlines(keepends=True)
    done = False
    with open(dst, "w") as out:
        for line in lines:
            op = json.loads(line)
            if op.get("op_code") == 5 and op["trial_id"] == number and op["param_name"] == name and not done:
                op["param_value_internal"] = math.nextafter(op["param_value_internal"], math.inf)
                line = json.dumps(op) + "\n"
                done = True
            out.write(line)
    assert done


@pytest.mark.parametrize("pipeline", [False, True])
def test_journal_fleet_verifies_and_an_edited_param_diverges(tmp_path, pipeline):
    objective = write_objective(tmp_path)
    journal = tmp_path / "fleet.log"
    proc = run_fleet(
        str(journal),
        "j",
        f"{objective}:search_space,evaluate",
        SAMPLER,
        11,
        workers=2,
        batch=3,
        pipeline=pipeline,
        env=child_env(FLEET_JITTER_SEED="v", FLEET_MAX_SLEEP=0.02),
    )
    _check_ok(proc)
    verdict = _verify(str(journal), "j", use_cache=False)
    assert verdict.kind == "verified", verdict.summary()
    assert (verdict.n_checked, verdict.n_total) == (11, 11) and verdict.equivalent
    assert verdict.headline() == "Sampler replay verified 11/11 · equivalent to an uninterrupted run"

    tampered = tmp_path / "tampered.log"
    _nudge_journal_param(journal, tampered, 7, "x")
    edited = _verify(str(tampered), "j", use_cache=False)
    assert edited.kind == "diverged" and edited.divergence.trial == 7 and edited.divergence.param == "x"
    assert "1 ulp" in edited.cause and "ran at the same time" not in edited.cause


def test_incremental_verification_of_a_pipelined_fleet(tmp_path):
    """Every prefix of the record, then the rest: in one session (extend) and in a later one (checkpoint)."""
    objective = write_objective(tmp_path)
    journal = tmp_path / "pipe.log"
    _check_ok(
        run_fleet(
            str(journal),
            "p",
            f"{objective}:search_space,evaluate",
            SAMPLER,
            10,
            workers=2,
            batch=3,
            pipeline=True,
            env=child_env(FLEET_JITTER_SEED="i", FLEET_MAX_SLEEP=0.01),
        )
    )
    snap = read_study(str(journal), "p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cut in range(len(snap.trials) + 1):
            verifier = Verifier(study_name=snap.name, directions=snap.directions, system_attrs=snap.system_attrs)
            first = verifier.extend(snap.trials[:cut])
            checkpoint = json.loads(json.dumps(verifier.checkpoint()))
            assert verifier.extend(snap.trials).checked == 10 and verifier.verdict().verified, cut
            later = Verifier(study_name=snap.name, directions=snap.directions, system_attrs=snap.system_attrs)
            later.resume(checkpoint, snap.trials[: checkpoint["asked_below"]])
            later.extend(snap.trials[checkpoint["next"] :])
            assert later.verdict().n_checked == 10 and later.verdict().verified, cut
            if 6 <= cut < 9:  # batches 0-2 and 3-5 told, 6-8 asked (in flight in the pipeline), none of 9 yet
                assert first.checked == 6 and (checkpoint["next"], checkpoint["asked_below"]) == (3, 6)
    # The content-keyed cache resumes a grown pipelined study from a checkpoint with a batch in flight.
    grown = _verify(str(journal), "p")
    assert grown.verified and not grown.cached and _verify(str(journal), "p").cached


# --- PostgreSQL fleets --------------------------------------------------------------------------------------
@pytest.fixture
def study_names(pg_url):
    created: list[str] = []

    def make(prefix: str) -> str:
        name = f"verify-{prefix}-{uuid.uuid4().hex[:10]}"
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


def _nudge_pg_param(url: str, study: str, number: int, name: str) -> None:
    storage = optuna.storages.RDBStorage(url)
    try:
        with storage.engine.begin() as conn:
            from sqlalchemy import text

            ((param_id, value),) = conn.execute(
                text(
                    "SELECT p.param_id, p.param_value FROM trial_params p JOIN trials t ON p.trial_id = t.trial_id "
                    "JOIN studies s ON t.study_id = s.study_id "
                    "WHERE s.study_name = :study AND t.number = :number AND p.param_name = :name"
                ),
                {"study": study, "number": number, "name": name},
            ).fetchall()
            conn.execute(
                text("UPDATE trial_params SET param_value = :v WHERE param_id = :id"),
                {"v": math.nextafter(value, math.inf), "id": param_id},
            )
    finally:
        storage.engine.dispose()


@pytest.mark.timeout(300)  # took 101 s on a busy 2-core machine
@pytest.mark.server
@pytest.mark.xdist_group("postgres-fleet")
def test_postgres_fleet_of_4_verifies_and_the_cli_catches_an_edit(pg_url, study_names, tmp_path):
    objective = write_objective(tmp_path)
    name = study_names("det")
    _check_ok(
        run_fleet(
            pg_url,
            name,
            f"{objective}:search_space,evaluate",
            SAMPLER,
            12,
            workers=4,
            batch=4,
            env=child_env(FLEET_JITTER_SEED="pv", FLEET_MAX_SLEEP=0.05),
        )
    )
    out = subprocess.run(
        optgui_cmd("verify", pg_url, "--study", name, "--require-equivalent"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Sampler replay verified 12/12 · equivalent to an uninterrupted run")

    _nudge_pg_param(pg_url, name, 9, "x")
    out = subprocess.run(
        optgui_cmd("verify", pg_url, "--study", name, "--json"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    verdict = json.loads(out.stdout)
    assert verdict["kind"] == "diverged" and verdict["divergence"]["trial"] == 9
    assert verdict["divergence"]["param"] == "x"


@pytest.mark.timeout(180)  # took 57 s on a busy 2-core machine
@pytest.mark.server
@pytest.mark.xdist_group("postgres-fleet")
def test_postgres_pipelined_fleet_paused_and_resumed_is_replayable_only(pg_url, study_names, tmp_path):
    """A pause flushes the pipeline: the replay re-enacts the flush (verified), and says an uninterrupted
    pipelined run would have differed."""
    objective = write_objective(tmp_path)
    name = study_names("pipe")
    proc = run_fleet(
        pg_url,
        name,
        f"{objective}:search_space,evaluate",
        SAMPLER,
        16,
        workers=2,
        batch=3,
        pipeline=True,
        env=child_env(FLEET_JITTER_SEED="pp", FLEET_MAX_SLEEP=0.05),
        background=True,
    )
    storage = optuna.storages.RDBStorage(pg_url)

    def study_with_a_finished_trial():
        try:
            study_id = storage.get_study_id_from_name(name)
        except KeyError:
            return None
        finished = any(t.state.is_finished() for t in storage.get_all_trials(study_id, deepcopy=False))
        return (study_id,) if finished else None

    try:
        (study_id,) = wait_until(study_with_a_finished_trial, 120, "a finished trial")
        store = fl.fleet_store(storage, study_id, _ref(pg_url))
        fl.send_command(store, "pause")
        wait_until(lambda: (store.fleet_attrs().get(fl.KEY_FLEET) or {}).get("state") == "paused", 120, "paused")
        fl.send_command(store, "resume")
        _, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        storage.engine.dispose()
    verdict = _verify(pg_url, name, use_cache=False)
    assert verdict.kind == "verified" and (verdict.n_checked, verdict.n_total) == (16, 16), verdict.summary()
    assert len(verdict.segments) == 2 and verdict.segments[1].boundary == "seamless"
    assert not verdict.equivalent and any("pipeline was flushed" in r for r in verdict.reasons)

    last = verdict.segments[1].start_trial + 1  # a trial asked after the flush
    _nudge_pg_param(pg_url, name, last, "x")
    edited = _verify(pg_url, name, use_cache=False)
    assert edited.kind == "diverged" and edited.divergence.trial == last


def _ref(url: str):
    from optgui.core.storage._naming import parse_storage

    return parse_storage(url)


@pytest.mark.timeout(200)  # took 67 s on a busy 2-core machine
@pytest.mark.server
@pytest.mark.xdist_group("postgres-fleet")
def test_postgres_free_running_fleet_is_reported_not_reproducible(pg_url, study_names, tmp_path):
    objective = write_objective(tmp_path)
    name = study_names("free")
    _check_ok(
        run_fleet(
            pg_url,
            name,
            f"{objective}:objective",
            SAMPLER,
            8,
            workers=2,
            batch=1,
            mode="free",
            env=child_env(FLEET_JITTER_SEED="fv"),
        )
    )
    verdict = _verify(pg_url, name, use_cache=False)
    assert verdict.kind == "not-reproducible" and not verdict.verified
    assert verdict.headline() == (
        "Not verifiable: free-running parallel run: replayable only in its recorded order, not reproducible"
    )
    out = subprocess.run(
        optgui_cmd("verify", pg_url, "--study", name), env=child_env(), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2 and "optgui:asked_by" in out.stdout, out.stdout + out.stderr
