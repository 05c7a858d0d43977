"""Resuming a CMA-ES study loads only the optimizer pickles this user's optgui signed; anything else (plain Optuna's,
another account's, tampered) is refused with one clear line until the user passes --trust-pickles."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import stat
import subprocess
import sys

import pytest

from optgui.core.engine import _pickle_trust as pickle_trust
from optgui.core.errors import EXIT_ERROR
from tests.support.determinism import STUDY, first_difference, recorded, reference
from tests.support.verify import cli_env, plain_study

SAMPLER = "CmaEsSampler(seed=7, popsize=4)"
OBJECTIVE = "builtin:quadratic"
# popsize 4: trial 0 is the startup trial, 1-4 generation 0, so trial 5 stores the first optimizer, 9 the next.


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _run(path, n_trials: int, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "optgui", "run", str(path), "--study", STUDY, "--objective", OBJECTIVE]
    cmd += ["--sampler", SAMPLER, "--n-trials", str(n_trials), "--quiet", *extra]
    return subprocess.run(
        cmd, env={**os.environ, **cli_env(), **(env or {})}, capture_output=True, text=True, timeout=300
    )


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _trial_attrs(path, number: int) -> dict:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT key, value_json FROM trial_system_attributes JOIN trials USING (trial_id) WHERE number = ?",
            (number,),
        ).fetchall()
    finally:
        conn.close()
    return {k: json.loads(v) for k, v in rows}


def _plant(path, number: int, marker) -> None:
    conn = sqlite3.connect(path)
    try:
        ((trial_id,),) = conn.execute("SELECT trial_id FROM trials WHERE number = ?", (number,)).fetchall()
        conn.execute(
            "UPDATE trial_system_attributes SET value_json = ? WHERE trial_id = ? AND key = 'cma:optimizer:0'",
            (json.dumps(pickle.dumps(_Payload(marker)).hex()), trial_id),
        )
        conn.execute("DELETE FROM trial_system_attributes WHERE trial_id = ? AND key = 'cma:optimizer:1'", (trial_id,))
        conn.commit()
    finally:
        conn.close()


@pytest.mark.slow
def test_an_honest_optgui_cmaes_study_resumes_without_asking_and_equals_plain_optuna(tmp_path):
    path = tmp_path / "honest.db"
    first = _run(path, 7)
    assert first.returncode == 0, first.stderr
    signed = _trial_attrs(path, 5)
    assert "cma:optimizer:0" in signed and pickle_trust.TRIAL_PICKLE_SIGNATURE in signed
    second = _run(path, 14)  # a fresh process restores the optimizer stored on trial 5 from the file
    assert second.returncode == 0, second.stderr
    assert "pickle" not in second.stderr
    assert first_difference(recorded(str(path)), reference(SAMPLER, OBJECTIVE, 14)) is None
    assert pickle_trust.TRIAL_PICKLE_SIGNATURE in _trial_attrs(path, 9)


@pytest.mark.slow
def test_plain_optuna_pickles_are_refused_until_the_user_trusts_them(tmp_path):
    path = tmp_path / "plain.db"
    plain_study(path, SAMPLER, OBJECTIVE, 8)
    before = _sha(path)
    refused = _run(path, 4)
    assert refused.returncode == EXIT_ERROR
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "trial 5" in lines[0] and "--trust-pickles" in lines[0], lines[0]
    assert _sha(path) == before, "a refused run wrote to the study"
    trusted = _run(path, 4, "--trust-pickles")
    assert trusted.returncode == 0, trusted.stderr
    # The consent is remembered for these bytes and recorded in the segment.
    again = _run(path, 8)
    assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(path)
    try:
        (segment,) = conn.execute(
            "SELECT value_json FROM study_system_attributes WHERE key = 'optgui:segment:0'"
        ).fetchone()
    finally:
        conn.close()
    assert json.loads(segment)["accepted"] == {"foreign_pickles": [5]}


@pytest.mark.slow
def test_a_tampered_pickle_is_refused_and_never_runs(tmp_path):
    path = tmp_path / "tampered.db"
    assert _run(path, 7).returncode == 0
    marker = tmp_path / "payload-ran"
    _plant(path, 5, marker)
    refused = _run(path, 10)
    assert refused.returncode == EXIT_ERROR and "trial 5" in refused.stderr, refused.stderr
    assert not marker.exists()
    verified = subprocess.run(
        [sys.executable, "-m", "optgui", "verify", str(path), "--no-cache"],
        env={**os.environ, **cli_env()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not marker.exists() and verified.returncode == 0, verified.stdout + verified.stderr


def test_pickles_signed_under_another_account_are_foreign(tmp_path):
    path = tmp_path / "elsewhere.db"
    assert _run(path, 7, env={"OPTGUI_DATA_DIR": str(tmp_path / "other-user")}).returncode == 0
    refused = _run(path, 10)
    assert refused.returncode == EXIT_ERROR and "--trust-pickles" in refused.stderr, refused.stderr


def test_the_signing_key_is_private_and_a_shared_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTGUI_DATA_DIR", str(tmp_path / "data"))
    key = pickle_trust.signing_key()
    path = pickle_trust.key_path()
    assert len(key) == pickle_trust.KEY_LENGTH and pickle_trust.signing_key() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    with pytest.raises(pickle_trust.SigningKeyError, match="readable or writable by others"):
        pickle_trust.signing_key()


def test_a_free_running_fleet_refuses_foreign_pickles_and_its_workers_sign_theirs(tmp_path):
    """Free-mode workers sample, so their CmaEsSampler would load the study's pickles."""
    import warnings

    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    from optgui.core.engine._objectives import load_objective, parse_objective
    from optgui.core.engine._samplers import parse_spec

    path = tmp_path / "fleet.log"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.create_study(
            storage=JournalStorage(JournalFileBackend(str(path))), study_name=STUDY, sampler=parse_spec(SAMPLER).build()
        ).optimize(load_objective(parse_objective(OBJECTIVE)), n_trials=8)
    fleet = ("--workers", "1", "--mode", "free")
    refused = _run(path, 8, *fleet)
    assert refused.returncode == EXIT_ERROR and "trial 5" in refused.stderr, refused.stderr
    trusted = _run(path, 8, *fleet, "--trust-pickles")
    assert trusted.returncode == 0, trusted.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = optuna.load_study(study_name=STUDY, storage=JournalStorage(JournalFileBackend(str(path)))).trials
    stored_by_worker = [t for t in trials[8:] if "cma:optimizer:0" in t.system_attrs]
    assert stored_by_worker and all(pickle_trust.TRIAL_PICKLE_SIGNATURE in t.system_attrs for t in stored_by_worker)


def test_a_symlinked_signing_key_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTGUI_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere.key").write_bytes(b"k" * pickle_trust.KEY_LENGTH)
    pickle_trust.key_path().symlink_to(tmp_path / "elsewhere.key")
    with pytest.raises(pickle_trust.SigningKeyError, match="cannot read the pickle signing key"):
        pickle_trust.signing_key()
