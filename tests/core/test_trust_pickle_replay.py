"""A pickle planted in a study file never runs on verify (CLI or the app's verifier child) or in any replay: the
replay rebuilds CMA-ES's optimizer itself instead of loading the optimizer attributes stored on copied trials."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
import warnings

import optuna
import pytest

from optgui.core.engine._pickled_attrs import is_pickled_attr
from optgui.core.engine._replay import Reenactor
from optgui.core.engine._samplers import parse_spec
from optgui.core.verify._process import VerifyJob
from tests.support.determinism import STUDY, first_difference, recorded, reference
from tests.support.verify import cli_env, plain_study, run_in_process

CMAES = "CmaEsSampler(seed=7)"
OBJECTIVE = "builtin:quadratic"
# With 2 parameters CMA-ES's population is 6: trial 0 is the startup trial, trials 1-6 are generation 0, and
# trial 7 tells that generation and stores the optimizer (cma:optimizer:0, :1).
TELLING_TRIAL = 7


class _Payload:
    """What an attacker puts in the file: unpickling it creates `marker` (a stand-in for os.system)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _run_cli(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, **cli_env()}
    return subprocess.run([sys.executable, "-m", "optgui", *args], env=env, capture_output=True, text=True, timeout=300)


def _adopted_cmaes_study(path):
    """Plain Optuna makes 8 CMA-ES trials; optgui adopts the study (trusting its pickles) and adds 4."""
    plain_study(path, CMAES, OBJECTIVE, 8)
    result = _run_cli(
        "run", str(path), "--study", STUDY, "--objective", OBJECTIVE, "--sampler", CMAES, "--n-trials", "4",
        "--quiet", "--trust-pickles",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _plant_payload(path, number: int, marker) -> None:
    """Replace trial `number`'s pickled CMA-ES optimizer with the payload, as an attacker editing the file would."""
    conn = sqlite3.connect(path)
    try:
        ((trial_id,),) = conn.execute("SELECT trial_id FROM trials WHERE number = ?", (number,)).fetchall()
        keys = [k for (k,) in conn.execute("SELECT key FROM trial_system_attributes WHERE trial_id = ?", (trial_id,))]
        assert "cma:optimizer:0" in keys, keys
        conn.execute(
            "DELETE FROM trial_system_attributes WHERE trial_id = ? AND key LIKE 'cma:optimizer:%'", (trial_id,)
        )
        conn.execute(
            "INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, 'cma:optimizer:0', ?)",
            (trial_id, json.dumps(pickle.dumps(_Payload(marker)).hex())),
        )
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def planted(tmp_path):
    path = tmp_path / "attack.db"
    _adopted_cmaes_study(path)
    marker = tmp_path / "payload-ran"
    _plant_payload(path, TELLING_TRIAL, marker)
    return path, marker


@pytest.mark.slow
def test_verify_cli_never_runs_a_pickle_planted_in_a_history_trial(planted):
    path, marker = planted
    result = _run_cli("verify", str(path), "--no-cache")
    assert not marker.exists(), "the planted pickle ran"
    # The replay rebuilt the optimizer from the trials, so optgui's 4 trials still reproduce.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified 4/4" in result.stdout


def test_the_apps_verifier_child_never_runs_a_planted_pickle(planted):
    path, marker = planted
    job = VerifyJob(str(path), env=cli_env(), use_cache=False).start()
    job.wait(timeout=300)
    assert not marker.exists(), "the planted pickle ran"
    assert job.verdict is not None and job.verdict.kind == "verified", job.error


def test_a_replay_loads_no_pickle_from_copied_trials(tmp_path):
    """Crash recovery and verify share the Reenactor: copied trials reach the sampler without their pickles, and
    what the sampler later loads is the optimizer the replay built itself."""
    path = tmp_path / "plain.db"
    plain_study(path, CMAES, OBJECTIVE, 9)
    marker = tmp_path / "payload-ran"
    _plant_payload(path, TELLING_TRIAL, marker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}").trials
        # The sampler state after trial 7, as a saved resume state or a verifier checkpoint holds it.
        first = Reenactor(parse_spec(CMAES).build(), study_name=STUDY, directions=["minimize"])
        for trial in trials[: TELLING_TRIAL + 1]:
            assert first.reenact(trial) is None
        reenactor = Reenactor(parse_spec(CMAES).build(), study_name=STUDY, directions=["minimize"])
        reenactor.add_history(trials[: TELLING_TRIAL + 1])
        reenactor.restore(first.capture())
        mismatch = reenactor.reenact(trials[TELLING_TRIAL + 1])  # CmaEsSampler restores the optimizer here
    assert not marker.exists(), "the planted pickle ran"
    assert mismatch is None, "the rebuilt optimizer suggested differently from the honest original"
    copied = reenactor.study.trials[TELLING_TRIAL].system_attrs
    rebuilt_hex = "".join(v for k, v in sorted(copied.items()) if is_pickled_attr(k))
    assert rebuilt_hex and rebuilt_hex != pickle.dumps(_Payload(marker)).hex()


@pytest.mark.parametrize("popsize", [None, 4])
def test_honest_optgui_cmaes_runs_still_verify_and_equal_plain_optuna(tmp_path, popsize):
    """Dropping the recorded pickles does not change what a replay produces: a paused optgui CMA-ES run over several
    generations (each resume boundary restores the optimizer from storage) verifies and equals plain Optuna."""
    sampler = CMAES if popsize is None else f"CmaEsSampler(seed=7, popsize={popsize})"
    path = tmp_path / "honest.db"
    run_in_process(path, sampler, OBJECTIVE, 20, pause_after=9)
    assert first_difference(recorded(str(path)), reference(sampler, OBJECTIVE, 20)) is None
    result = _run_cli("verify", str(path), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified 20/20" in result.stdout and "pickle" not in result.stdout


def test_a_pickle_where_the_sampler_stores_none_is_dropped_and_noted(tmp_path):
    path = tmp_path / "crafted.db"
    plain_study(path, CMAES, OBJECTIVE, 9)
    marker = tmp_path / "payload-ran"
    conn = sqlite3.connect(path)
    ((trial_id,),) = conn.execute("SELECT trial_id FROM trials WHERE number = 3").fetchall()
    conn.execute(
        "INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, 'cma:optimizer:0', ?)",
        (trial_id, json.dumps(pickle.dumps(_Payload(marker)).hex())),
    )
    conn.commit()
    conn.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}").trials
        reenactor = Reenactor(parse_spec(CMAES).build(), study_name=STUDY, directions=["minimize"])
        reenactor.add_history(trials)
    assert not marker.exists()
    assert reenactor.pickle_mismatches == [3]
    assert not any(is_pickled_attr(k) for k in reenactor.study.trials[3].system_attrs)
