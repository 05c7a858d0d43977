"""`optgui inspect … | head` and friends: when the reader of stdout goes away the command stops printing quietly
(no BrokenPipeError traceback), keeps its exit code, and a run pauses cleanly instead of dying mid-trial."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import optuna
import pytest

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + (os.pathsep + out["PYTHONPATH"] if out.get("PYTHONPATH") else "")
    return out


def optgui(*args: str, cwd: Path, read_lines: int) -> tuple[int, str, list[str]]:
    """Run the CLI with stdout on a pipe that is closed after `read_lines` lines (0: closed before any output)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "optgui", *args],
        cwd=cwd,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = [proc.stdout.readline() for _ in range(read_lines)]
    proc.stdout.close()  # as `head` does once it has its lines
    stderr = proc.stderr.read()
    return proc.wait(120), stderr, lines


@pytest.fixture(scope="module")
def big_study(tmp_path_factory) -> Path:
    """More output than a pipe buffers (64 KiB), so that the writer meets the closed pipe. A journal file: the
    quickest real Optuna storage to fill with 1500 trials."""
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = tmp_path_factory.mktemp("pipe") / "big.log"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            storage=JournalStorage(JournalFileBackend(str(path))),
            study_name="s",
            sampler=optuna.samplers.RandomSampler(seed=0),
        )
        study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), n_trials=1500)
    (path.parent / "big.log.lock").unlink(missing_ok=True)
    return path


def assert_quiet(stderr: str) -> None:
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "Exception ignored" not in stderr, stderr


@pytest.mark.parametrize("json_output", [False, True], ids=["table", "json"])
def test_inspect_trials_into_a_closed_pipe(big_study, json_output):
    args = ["inspect", str(big_study), "--study", "s"] + (["--json"] if json_output else [])
    code, stderr, lines = optgui(*args, cwd=big_study.parent, read_lines=1)
    assert lines[0].strip()
    assert_quiet(stderr)
    assert code == 0


def test_inspect_into_a_pipe_closed_before_any_output(big_study):
    code, stderr, _ = optgui("inspect", str(big_study), cwd=big_study.parent, read_lines=0)
    assert_quiet(stderr)
    assert code == 0


def test_run_pauses_cleanly_when_its_output_is_closed_and_verify_keeps_its_exit_code(tmp_path):
    storage = tmp_path / "run.db"
    code, stderr, _ = optgui(
        "run",
        str(storage),
        "--study",
        "s",
        "--sampler",
        "TPESampler(seed=3)",
        "--objective",
        "builtin:quadratic",
        "--n-trials",
        "30",
        cwd=tmp_path,
        read_lines=0,
    )
    assert_quiet(stderr)
    assert code == 0
    assert "output closed; pausing after the current trial" in stderr
    with sqlite3.connect(storage) as conn:
        states = [s for (s,) in conn.execute("SELECT state FROM trials ORDER BY number")]
    assert 1 <= len(states) < 30 and set(states) == {"COMPLETE"}  # paused early, nothing left RUNNING

    code, stderr, _ = optgui("verify", str(storage), "--no-cache", cwd=tmp_path, read_lines=0)
    assert_quiet(stderr)
    assert code == 0  # the verdict (verified, equivalent), not the closed pipe
