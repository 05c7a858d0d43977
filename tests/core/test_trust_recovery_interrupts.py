"""Interrupts that land while `optgui run` recovers a killed run (issue: trust, critical 2).

A run is SIGKILLed inside trial 3 (the engine's `in_objective` fault point), so trial 3 is a zombie the next run
must re-enter under the same number (SQLite) or abandon (journal files). That next run is then interrupted at
each phase of its recovery — by a stop request (the first Ctrl-C) or by two Ctrl-Cs (the second abandons what
is in flight, exit 130) — through test-only fault points that send the signal to the process itself, so the
moments are exact. After a final run to completion the study must hold no RUNNING trial, consecutive trial
numbers, and exactly the trials plain Optuna produces uninterrupted with the same sampler and seed; `optgui
verify` must agree (equivalent, with no "another process" cause).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import warnings

import optuna
import pytest

from optgui.core.engine._builtin_objectives import DISCRETE_GRID
from optgui.core.engine._runner import RunRequest, StudyRunner
from optgui.core.engine._samplers import parse_spec
from tests.support.determinism import STUDY, first_difference, recorded, reference, run_cli, trial_signature
from tests.support.verify import cli_env

N_TRIALS = 10
ZOMBIE = 3

SAMPLERS = {
    "cmaes": ("CmaEsSampler(seed=7, popsize=4)", "builtin:quadratic"),
    "grid": (f"GridSampler(search_space={DISCRETE_GRID!r}, seed=7)", "builtin:discrete"),
    "qmc": ("QMCSampler(seed=7)", "builtin:quadratic"),
    "tpe": ("TPESampler(seed=7)", "builtin:quadratic"),
}


def _run(db: str, sampler: str, objective: str, fault: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(db, sampler, objective, N_TRIALS, fault=fault, extra_env=cli_env())


def _kill_inside_the_zombie(db: str, sampler: str, objective: str) -> None:
    killed = _run(db, sampler, objective, fault=f"in_objective:{ZOMBIE}")
    assert killed.returncode == -9, killed.stderr


def _trial_rows(db: str) -> list[tuple[int, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT number, state FROM trials ORDER BY number").fetchall()
    finally:
        conn.close()


def _verify_json(db: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "optgui", "verify", db, "--study", STUDY, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **cli_env()},
    )
    assert out.returncode in (0, 4), out.stderr
    return json.loads(out.stdout)


def _assert_identical_to_plain_optuna(db: str, sampler: str, objective: str) -> None:
    rows = _trial_rows(db)
    assert [state for _, state in rows if state == "RUNNING"] == [], rows
    assert [number for number, _ in rows] == list(range(len(rows))), rows
    expected = reference(sampler, objective, N_TRIALS)
    got = recorded(db)
    assert first_difference(expected, got) is None, (
        f"differs from plain Optuna at trial {first_difference(expected, got)}"
    )


def _assert_verified_equivalent(db: str) -> None:
    verdict = _verify_json(db)
    text = json.dumps(verdict)
    assert "another process" not in text, text
    assert verdict["equivalent"] is True, text


# --- the stop request (first Ctrl-C) that arrives while recovery runs ----------------------------------------------
@pytest.mark.parametrize("case", sorted(SAMPLERS))
def test_a_stop_requested_during_recovery_keeps_the_reentered_trial_for_the_next_run(tmp_path, case):
    """The first Ctrl-C calls request_stop(); arriving during prepare(), it used to end the run before the
    re-entered zombie ran, leaving it RUNNING forever: the next run counted it as another process's trial and
    asked a new one, renumbering everything after it."""
    sampler, objective = SAMPLERS[case]
    db = str(tmp_path / "s.db")
    _kill_inside_the_zombie(db, sampler, objective)
    runner = StudyRunner(RunRequest(storage=db, study_name=STUDY, n_trials=N_TRIALS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner.prepare()
        runner.request_stop("paused")
        outcome = runner.run()
    assert outcome.reason == "paused"
    finished = _run(db, sampler, objective)
    assert finished.returncode == 0, finished.stderr
    assert "another process" not in finished.stderr, finished.stderr
    _assert_identical_to_plain_optuna(db, sampler, objective)
    _assert_verified_equivalent(db)


def _plain_optuna_leaving_a_trial_running(sampler: str, objective: str) -> list[tuple]:
    """What the old behaviour amounts to: trial 3 asked and left RUNNING, the run going on with new trials."""
    from tests.support.determinism import directions_for, objective_for

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            sampler=parse_spec(sampler).build(), directions=directions_for(objective), study_name=STUDY
        )
        study.optimize(objective_for(objective), n_trials=ZOMBIE, catch=(Exception,))
        study.ask()
        study.optimize(objective_for(objective), n_trials=N_TRIALS - ZOMBIE, catch=(Exception,))
    return [trial_signature(t) for t in study.trials if t.state.is_finished()]


@pytest.mark.parametrize("case", ["cmaes", "grid"])
def test_leaving_the_reentered_trial_running_diverges_from_plain_optuna(case):
    """The comparisons above have teeth: for samplers that count trials (CMA-ES generations, Grid's numbering) a
    trial left RUNNING after its reset changes what comes after it. (QMC's counter lives in the study's
    attributes, which the reset rolls back, so only the numbering shows it there.)"""
    sampler, objective = SAMPLERS[case]
    expected = reference(sampler, objective, N_TRIALS)
    assert first_difference(expected, _plain_optuna_leaving_a_trial_running(sampler, objective)) == ZOMBIE


# --- Ctrl-C / SIGTERM at each phase of recovery, in new processes ---------------------------------------------------
def _twice(point: str, signal_name: str = "INT") -> str:
    return f"{point}:{signal_name},{point}:{signal_name}"


# (fault points, expected exit code): one signal is a stop request (exit 0, the run pauses); two abandon what is in
# flight (exit 130). Trial 3 is the zombie throughout.
INTERRUPTED_RECOVERIES = [
    (_twice("recovery_planned:3", "TERM"), 130),  # nothing written yet
    (_twice("zombie_handled:3"), 130),  # new state saved, zombie reset, dead segment still open
    (_twice("dead_segment_closed:3"), 130),  # dead segment closed, no new segment yet
    (_twice("segment_started:3"), 130),  # new segment recorded, the zombie not run yet
    ("recovery_planned:3:INT", 0),  # a stop request during recovery: paused with the zombie pending
    ("segment_started:3:INT", 0),  # the resume that re-enters the pending zombie is stopped again
    (_twice("in_objective:3"), 130),  # the re-entered trial abandoned inside its objective
    (_twice("after_tell:3"), 130),  # between the re-entered trial and the first new one
]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", sorted(SAMPLERS))
def test_interrupts_at_every_phase_of_recovery_leave_no_running_trial_and_equal_plain_optuna(tmp_path, case):
    sampler, objective = SAMPLERS[case]
    db = str(tmp_path / "s.db")
    _kill_inside_the_zombie(db, sampler, objective)
    for fault, exit_code in INTERRUPTED_RECOVERIES:
        out = _run(db, sampler, objective, fault=fault)
        assert out.returncode == exit_code, f"{fault}: exit {out.returncode}: {out.stderr}"
        assert "Traceback" not in out.stderr, out.stderr
        if exit_code == 130:
            assert "run the same command again" in out.stderr or "run again" in out.stderr, out.stderr
        assert "another process" not in out.stderr and "NOT equivalent" not in out.stderr, out.stderr
    finished = _run(db, sampler, objective)
    assert finished.returncode == 0, finished.stderr
    _assert_identical_to_plain_optuna(db, sampler, objective)
    _assert_verified_equivalent(db)


def _segments(path: str) -> list[dict]:
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    from optgui.core.records import read_metadata

    storage = JournalStorage(JournalFileBackend(path))
    study_id = storage.get_study_id_from_name(STUDY)
    return list(read_metadata(storage, study_id).segments)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_an_interrupted_recovery_of_a_journal_file_abandons_the_zombie_once_and_says_the_same(tmp_path):
    """Journal files cannot be rolled back, so recovery abandons the zombie (FAIL + optgui:abandoned). Cut after
    the zombie was abandoned and before the new segment was recorded, the next recovery must go on from the state
    before the zombie (not replay the abandoned trial's partial suggestions as if it had run) and record the same
    handling: abandoned, equivalent for TPE (which ignores failed trials)."""
    sampler, objective = SAMPLERS["tpe"]
    log = str(tmp_path / "s.log")
    _kill_inside_the_zombie(log, sampler, objective)
    out = _run(log, sampler, objective, fault=_twice("zombie_handled:3"))
    assert out.returncode == 130, out.stderr
    out = _run(log, sampler, objective, fault="dead_segment_closed:3:INT")
    assert out.returncode == 0 and "NOT equivalent" not in out.stderr, out.stderr
    finished = _run(log, sampler, objective)
    assert finished.returncode == 0, finished.stderr
    recoveries = [s["recovery"] for s in _segments(log) if s.get("resumed_by") == "recovery"]
    assert [(r["zombie"], r["handling"], r["equivalent"]) for r in recoveries] == [(ZOMBIE, "abandoned", True)]
    expected = reference(sampler, objective, N_TRIALS)
    got = recorded(log)
    assert first_difference(expected, got) is None and len(got) == N_TRIALS


def test_a_reentered_trial_does_not_keep_the_error_text_of_its_dead_attempt(tmp_path):
    """The dead attempt failed and wrote optgui:error, then died before its tell; the re-entered attempt succeeds
    (the objective depends on something outside the study): its COMPLETE trial must not carry the old error."""
    marker = tmp_path / "failed-once"
    objective_file = tmp_path / "objective.py"
    objective_file.write_text(
        "from pathlib import Path\n"
        f"MARKER = Path({str(marker)!r})\n"
        "def objective(trial):\n"
        "    x = trial.suggest_float('x', -1, 1)\n"
        "    if trial.number == 1 and not MARKER.exists():\n"
        "        MARKER.touch()\n"
        "        raise RuntimeError('first attempt fails')\n"
        "    return x * x\n"
    )
    db = str(tmp_path / "s.db")
    objective = f"{objective_file}:objective"
    killed = run_cli(db, "RandomSampler(seed=3)", objective, 3, fault="before_tell:1", extra_env=cli_env())
    assert killed.returncode == -9, killed.stderr
    finished = run_cli(db, "RandomSampler(seed=3)", objective, 3, extra_env=cli_env())
    assert finished.returncode == 0, finished.stderr
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT t.state, a.key FROM trials t LEFT JOIN trial_system_attributes a "
            "ON a.trial_id = t.trial_id AND a.key LIKE 'optgui:%' WHERE t.number = 1"
        ).fetchall()
    finally:
        conn.close()
    assert rows == [("COMPLETE", "optgui:recovered")], rows
