"""`optgui run` on bad input and bad study content (issue: trust, run-side minors): one clear line on stderr, the
right exit code, and nothing left behind or changed — no new empty file after a refused new study, the study
byte-identical after a corrupted saved state or an already-met --n-trials."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from optgui.core.errors import StorageError
from tests.support.determinism import STUDY, run_cli
from tests.support.verify import cli_env


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optgui", "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **cli_env()},
    )


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _one_clear_line(out: subprocess.CompletedProcess, exit_code: int, *words: str) -> None:
    assert out.returncode == exit_code, out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    for word in words:
        assert word in out.stderr, out.stderr


# --- a refused new study leaves no file -----------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".db", ".log"])
@pytest.mark.parametrize(
    "args,message",
    [
        (["--objective", "builtin:quadratic", "--sampler", "superfast"], "unknown sampler 'superfast'"),
        ([], "needs --objective"),
        (["--objective", "builtin:quadratic", "--pruner", "NoSuchPruner()"], "NoSuchPruner"),
        (["--objective", "builtin:quadratic", "--direction", "sideways"], "direction must be minimize or maximize"),
        (["--objective", "builtin:quadratic", "--metric-name", "a", "--metric-name", "b"], "2 metric names"),
    ],
)
def test_a_refused_new_study_leaves_no_file_behind(tmp_path, suffix, args, message):
    target = tmp_path / f"s{suffix}"
    out = _run(str(target), "--study", "x", *args)
    _one_clear_line(out, 3, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- a corrupted saved state is one line, exit 3, the study unchanged ---------------------------------------------
def _corrupt_state(db: str, boundary: int, transform) -> None:
    conn = sqlite3.connect(db)
    try:
        key = f"optgui:state:{boundary}"
        ((value,),) = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = ?", (key,)).fetchall()
        new = transform(json.loads(value))
        conn.execute("UPDATE study_system_attributes SET value_json = ? WHERE key = ?", (json.dumps(new), key))
        conn.commit()
    finally:
        conn.close()


CORRUPTIONS = {
    "not-a-record": lambda record: "garbage",
    "a-list": lambda record: [1, 2],
    "no-sampler-state": lambda record: {"boundary": record["boundary"]},
    "state-null": lambda record: {**record, "sampler_state": None},
    "unknown-format": lambda record: {**record, "sampler_state": {**record["sampler_state"], "format": 99}},
    "short-key": lambda record: {
        **record,
        "sampler_state": {
            **record["sampler_state"],
            "rngs": {k: {**v, "key": "AAAA"} for k, v in record["sampler_state"]["rngs"].items()},
        },
    },
    "key-not-base64": lambda record: {
        **record,
        "sampler_state": {
            **record["sampler_state"],
            "rngs": {k: {**v, "key": "%%%"} for k, v in record["sampler_state"]["rngs"].items()},
        },
    },
    "attrs-not-a-mapping": lambda record: {**record, "study_attrs": [1]},
}


@pytest.fixture(scope="module")
def paused_study(tmp_path_factory):
    path = tmp_path_factory.mktemp("paused") / "s.db"
    out = run_cli(str(path), "CmaEsSampler(seed=1)", "builtin:quadratic", 3, extra_env=cli_env())
    assert out.returncode == 0, out.stderr
    return path


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupted_saved_state_is_refused_in_one_line_and_the_study_is_unchanged(tmp_path, paused_study, corruption):
    db = tmp_path / "s.db"
    db.write_bytes(paused_study.read_bytes())
    _corrupt_state(str(db), 3, CORRUPTIONS[corruption])
    before = _sha(db)
    out = _run(str(db), "--study", STUDY, "--n-trials", "5")
    _one_clear_line(out, 3)
    # A record of the wrong shape is refused when the metadata is read (naming its key); one of the right shape
    # that does not restore, when the run checks the states it will restore.
    assert "optgui:state:3" in out.stderr or "sampler state saved at trial 3 is corrupted" in out.stderr, out.stderr
    assert _sha(db) == before


def test_a_corrupted_state_needed_by_crash_recovery_is_refused_and_the_study_is_unchanged(tmp_path):
    db = str(tmp_path / "s.db")
    killed = run_cli(db, "CmaEsSampler(seed=1)", "builtin:quadratic", 6, fault="in_objective:2", extra_env=cli_env())
    assert killed.returncode == -9, killed.stderr
    _corrupt_state(db, 0, CORRUPTIONS["no-sampler-state"])
    before = _sha(db)
    out = _run(db, "--study", STUDY, "--n-trials", "6")
    _one_clear_line(out, 3)
    assert "optgui:state:0" in out.stderr or "sampler state saved at trial 0 is corrupted" in out.stderr, out.stderr
    assert _sha(db) == before


def test_a_malformed_state_key_is_refused_in_one_line(tmp_path, paused_study):
    db = tmp_path / "s.db"
    db.write_bytes(paused_study.read_bytes())
    conn = sqlite3.connect(db)
    conn.execute("UPDATE study_system_attributes SET key = 'optgui:state:x' WHERE key = 'optgui:state:3'")
    conn.commit()
    conn.close()
    before = _sha(db)
    _one_clear_line(_run(str(db), "--study", STUDY, "--n-trials", "5"), 3, "optgui metadata is malformed")
    assert _sha(db) == before


# --- an already-met --n-trials changes nothing ----------------------------------------------------------------------
def _recorded_target(db) -> dict:
    conn = sqlite3.connect(db)
    try:
        ((value,),) = conn.execute(
            "SELECT value_json FROM study_system_attributes WHERE key = 'optgui:target'"
        ).fetchall()
    finally:
        conn.close()
    return json.loads(value)


@pytest.mark.parametrize("n_trials", ["1", "3"])
def test_an_already_met_n_trials_says_nothing_to_do_and_leaves_the_study_byte_identical(
    tmp_path, paused_study, n_trials
):
    db = tmp_path / "s.db"
    db.write_bytes(paused_study.read_bytes())
    before = _sha(db)
    out = _run(str(db), "--study", STUDY, "--n-trials", n_trials)
    assert out.returncode == 0, out.stderr
    assert "nothing to do: 3 trials already finished" in out.stderr, out.stderr
    assert _sha(db) == before
    assert _recorded_target(db) == {"n_trials": 3}
    # A larger value still extends the recorded target.
    out = _run(str(db), "--study", STUDY, "--n-trials", "4")
    assert out.returncode == 0 and "done: 4 of 4" in out.stderr, out.stderr
    assert _recorded_target(db) == {"n_trials": 4}


# --- a dangling journal lock --------------------------------------------------------------------------------------
def test_a_dangling_journal_lock_is_refused_at_once_in_one_line(tmp_path):
    """Optuna's symlink lock spins at 100% CPU on a dangling lock link (its stat fails, it retries at once,
    forever), and the run never gets to act on the first Ctrl-C. Before the fix this command never returned."""
    log = tmp_path / "s.log"
    made = run_cli(str(log), "RandomSampler(seed=1)", "builtin:quadratic", 2, extra_env=cli_env())
    assert made.returncode == 0, made.stderr
    (tmp_path / "s.log.lock").symlink_to(tmp_path / "gone" / "s.log")
    before = _sha(log)
    out = subprocess.run(
        [sys.executable, "-m", "optgui", "run", str(log), "--study", STUDY, "--n-trials", "4"],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **cli_env()},
    )
    _one_clear_line(out, 3, "dangling symbolic link", "s.log.lock")
    assert _sha(log) == before


def test_a_journal_lock_released_while_it_is_checked_is_not_taken_for_a_dangling_one(tmp_path, monkeypatch):
    """Another writer's lock link seen, then released before the check that it resolves: that is a free lock, not
    debris. (Two separate checks made a parallel run's write fail now and then under load: "dangling symbolic
    link" for a lock that was being released.)"""
    from optgui.core.storage import _naming

    log = tmp_path / "s.log"
    log.write_text("")
    lock = _naming._journal_lock(str(log))
    real_islink = os.path.islink
    # The moment of the race: the link is seen (another writer holds the lock) and is gone right after.
    monkeypatch.setattr(os.path, "islink", lambda path: True if str(path).endswith(".lock") else real_islink(path))
    assert lock.acquire()
    lock.release()
    monkeypatch.undo()
    (tmp_path / "s.log.lock").symlink_to(tmp_path / "gone" / "s.log")  # a real dangling link is still refused
    with pytest.raises(StorageError, match="dangling symbolic link"):
        lock.acquire()
