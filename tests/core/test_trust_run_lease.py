"""A run stopped (SIGSTOP) longer than its lease lasts, whose study another run took over meanwhile: when it
continues it must write nothing more to the other run's trials and end with one clear line (exit 3), not a raw
UpdateFinishedTrialError traceback; the study keeps what the other run made (equal to plain Optuna uninterrupted)
and holds no RUNNING trial. The lease's staleness is shortened for the test with OPTGUI_LEASE_STALE_SECONDS (60 s
otherwise); the run stops itself at an exact moment through the engine's fault points (OPTGUI_FAULT=...:STOP)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.determinism import STUDY, first_difference, recorded, reference
from tests.support.verify import cli_env

SAMPLER = "RandomSampler(seed=8)"
STALE = 12.0  # heartbeats every 2 s: a stop is unlikely to land inside one (it would hold SQLite's write lock)


def _cmd(db: str, n: int) -> list[str]:
    return [sys.executable, "-m", "optgui", "run", db, "--study", STUDY, "--objective", "builtin:slow(sleep=0.3)",
            "--sampler", SAMPLER, "--n-trials", str(n), "--quiet"]  # fmt: skip


def _wait_until_stopped(pid: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] == "T":
            return
        time.sleep(0.1)
    raise AssertionError("the run never stopped itself")


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("point", ["in_objective:1", "before_tell:1"])
def test_a_run_stopped_past_its_lease_writes_nothing_more_and_says_why(tmp_path, point):
    db = str(tmp_path / "s.db")
    env = {**os.environ, **cli_env(), "OPTGUI_LEASE_STALE_SECONDS": str(STALE)}
    first = subprocess.Popen(
        _cmd(db, 5),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "OPTGUI_FAULT": point + ":STOP"},
    )
    try:
        _wait_until_stopped(first.pid)
        time.sleep(STALE + 1)
        second = subprocess.run(_cmd(db, 5), capture_output=True, text=True, timeout=300, env=env)
        assert second.returncode == 0, second.stderr
        assert "recovered a run that died" in second.stderr, second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 3, err
    assert "Traceback" not in err and "UpdateFinishedTrialError" not in err, err
    assert "lost the study's lease" in err, err
    conn = sqlite3.connect(db)
    states = [s for (s,) in conn.execute("SELECT state FROM trials ORDER BY number")]
    conn.close()
    assert states == ["COMPLETE"] * 5, states
    expected = reference(SAMPLER, "builtin:quadratic", 5)
    assert first_difference(expected, recorded(db)) is None
