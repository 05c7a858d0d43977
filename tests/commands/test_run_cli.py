"""`optgui run` from the command line: bad input gets one clear line and exit 3 with the database unchanged;
Ctrl-C pauses cleanly; a second Ctrl-C abandons the trial in flight (exit 130) and the next run recovers it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from tests.support.determinism import STUDY, first_difference, recorded, reference, run_cli
from tests.support.waiting import wait_until


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "optgui", "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def study_db(tmp_path):
    path = str(tmp_path / "s.db")
    assert run_cli(path, "TPESampler(seed=3)", "builtin:quadratic", 4).returncode == 0
    return path


def _objective_file(tmp_path, body="def objective(trial):\n    return trial.suggest_float('x', 0, 1)\n"):
    path = tmp_path / "obj.py"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    "args,message",
    [
        (["--sampler", "superfast"], "unknown sampler 'superfast'"),
        (["--sampler", "TPESampler(gamma=lambda n: 1)"], "callables cannot be recorded"),
        (["--sampler", "TPESampler(seed=-4)"], "seed must be between"),
        (["--sampler", "TPESampler(seed=3)", "--seed", "4"], "--seed 4 disagrees with seed=3"),
        (["--sampler", "TPESampler(seed=9)"], "differs from the study's recorded sampler TPESampler(seed=3)"),
        (["--seed", "4"], "--seed 4 differs from the study's recorded seed 3"),
        (["--objective", "builtin:nope"], "unknown built-in objective 'nope'"),
        (["--objective", "/nonexistent/obj.py:objective"], "objective file /nonexistent/obj.py does not exist"),
        (["--direction", "maximize"], "differs from the study's directions"),
        (["--n-trials", "-2"], "--n-trials must be >= 0"),
    ],
)
def test_bad_input_on_an_existing_study_is_one_line_exit_3_and_changes_nothing(study_db, args, message):
    before = _sha(study_db)
    out = _run(study_db, "--study", STUDY, *args)
    assert out.returncode == 3, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert _sha(study_db) == before


def test_missing_folder_is_refused_and_nothing_is_created(tmp_path):
    target = tmp_path / "no" / "such" / "s.db"
    out = _run(str(target), "--study", "x", "--objective", "builtin:quadratic")
    assert out.returncode == 3 and "folder" in out.stderr and "does not exist" in out.stderr
    assert not (tmp_path / "no").exists()


def test_new_study_without_objective_is_refused_without_creating_the_file(tmp_path):
    target = tmp_path / "s.db"
    out = _run(str(target), "--study", "x")
    assert out.returncode == 3 and "needs --objective" in out.stderr


@pytest.mark.parametrize(
    "body,message",
    [
        ("def objective(trial)\n    return 1\n", "has a syntax error at line 1"),
        ("def other(trial):\n    return 1\n", "no function 'objective'"),
        ("import no_such_module_xyz\n", "ModuleNotFoundError"),
    ],
)
def test_broken_objective_files_get_specific_errors(tmp_path, body, message):
    obj = _objective_file(tmp_path, body)
    out = _run(str(tmp_path / "s.db"), "--study", "x", "--objective", f"{obj}:objective", "--n-trials", "2")
    assert out.returncode == 3 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_changed_objective_file_is_refused_unless_accepted_and_a_moved_one_can_be_repointed(tmp_path):
    obj = _objective_file(tmp_path)
    db = str(tmp_path / "s.db")
    assert _run(db, "--study", "x", "--objective", f"{obj}:objective", "--n-trials", "2").returncode == 0
    moved = tmp_path / "moved.py"
    obj.rename(moved)
    out = _run(db, "--study", "x", "--n-trials", "3")
    assert out.returncode == 3 and "no longer exists" in out.stderr
    assert _run(db, "--study", "x", "--objective", f"{moved}:objective", "--n-trials", "3").returncode == 0
    moved.write_text("def objective(trial):\n    return trial.suggest_float('x', 0, 2)\n")
    before = _sha(db)
    out = _run(db, "--study", "x", "--objective", f"{moved}:objective", "--n-trials", "4")
    assert out.returncode == 3 and "changed since the run started" in out.stderr
    assert _sha(db) == before
    out = _run(db, "--study", "x", "--objective", f"{moved}:objective", "--n-trials", "4", "--accept-objective-change")
    assert out.returncode == 0, out.stderr


def _start(db, sampler="RandomSampler(seed=8)", objective="builtin:slow(sleep=0.3)", n=40):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "optgui",
            "run",
            db,
            "--study",
            STUDY,
            "--objective",
            objective,
            "--sampler",
            sampler,
            "--n-trials",
            str(n),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_trials(proc, count):
    seen = 0
    while seen < count:
        line = proc.stdout.readline()
        assert line, "the run ended early"
        if line.startswith("trial "):
            seen += 1


def _n_params(db, *, trial: int) -> int:
    """How many parameters trial `trial` has suggested so far (read from the live SQLite file)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        ((count,),) = conn.execute(
            "SELECT COUNT(*) FROM trial_params JOIN trials USING (trial_id) WHERE trials.number = ?", (trial,)
        ).fetchall()
    return count


def _wait_for_stderr(proc, text):
    """Read the run's stderr until a line containing `text` (what it prints once it has handled a signal)."""
    for line in proc.stderr:
        if text in line:
            return
    raise AssertionError(f"the run ended without printing {text!r}")


def test_ctrl_c_pauses_cleanly_and_rerunning_resumes_identically(tmp_path):
    db = str(tmp_path / "s.db")
    proc = _start(db)
    _wait_for_trials(proc, 3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "run the same command again to resume" in err
    again = run_cli(db, "RandomSampler(seed=8)", "builtin:slow(sleep=0.3)", 8)
    assert again.returncode == 0, again.stderr
    assert first_difference(reference("RandomSampler(seed=8)", "builtin:quadratic", 8), recorded(db)) is None


def test_second_ctrl_c_abandons_the_trial_exit_130_and_the_next_run_recovers(tmp_path):
    db = str(tmp_path / "s.db")
    proc = _start(db, objective="builtin:slow(sleep=2.0)")
    _wait_for_trials(proc, 2)
    wait_until(
        lambda: _n_params(db, trial=2) == 2, 60, "trial 2's objective to start"
    )  # it sleeps 2 s after its suggests
    proc.send_signal(signal.SIGINT)
    _wait_for_stderr(proc, "pausing after the current trial")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    again = run_cli(db, "RandomSampler(seed=8)", "builtin:slow(sleep=2.0)", 4)
    assert again.returncode == 0, again.stderr
    assert "recovered a run that died" in again.stderr and "NOT equivalent" not in again.stderr
    assert first_difference(reference("RandomSampler(seed=8)", "builtin:quadratic", 4), recorded(db)) is None
