"""Run health on real studies: plain-Optuna ones written through Optuna (idle, stalled, possibly orphaned), and
optgui runs in real subprocesses (finished, failing, a writer killed with SIGKILL leaving a RUNNING trial), on
SQLite and on a journal file."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest

from optgui.core.health import HealthState, HealthThresholds, study_health
from optgui.core.storage import open_reader

KINDS = ["sqlite", "journal"]


def _storage_path(tmp_path: Path, kind: str) -> Path:
    return tmp_path / ("study.db" if kind == "sqlite" else "study.log")


def _optuna_storage(path: Path):
    if path.suffix == ".db":
        return f"sqlite:///{path}"
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def _health(path: Path, name: str = "s", **kwargs):
    with open_reader(str(path)) as reader:
        summary = next(s for s in reader.studies() if s.name == name)
        return study_health(reader, summary, **kwargs)


def _add_finished(study: optuna.Study, count: int, *, ended_ago: float, duration: float = 10.0) -> None:
    """`count` COMPLETE trials of `duration` seconds each, the last one finished `ended_ago` seconds ago."""
    now = dt.datetime.now()
    for i in range(count):
        complete = now - dt.timedelta(seconds=ended_ago + (count - 1 - i) * duration)
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=0,
                trial_id=0,
                state=optuna.trial.TrialState.COMPLETE,
                value=float(i),
                params={"x": float(i)},
                distributions={"x": optuna.distributions.FloatDistribution(-10, 10)},
                datetime_start=complete - dt.timedelta(seconds=duration),
                datetime_complete=complete,
                user_attrs={},
                system_attrs={},
                intermediate_values={},
            )
        )


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_study_without_running_trials_is_idle(tmp_path, kind):
    path = _storage_path(tmp_path, kind)
    study = optuna.create_study(study_name="s", storage=_optuna_storage(path))
    _add_finished(study, 5, ended_ago=3600)
    health = _health(path)
    assert health.state is HealthState.IDLE
    assert health.median_duration == pytest.approx(10.0)
    assert health.pruning_rate == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_running_trials_after_a_long_silence_are_a_stalled_run(tmp_path, kind):
    path = _storage_path(tmp_path, kind)
    study = optuna.create_study(study_name="s", storage=_optuna_storage(path))
    _add_finished(study, 5, ended_ago=12 * 60)  # median 10 s: k=5 → stalled after max(50 s, 60 s)
    study.ask()  # a RUNNING trial that started just now (a worker is busy, but nothing finishes)
    health = _health(path)
    assert health.state is HealthState.STALLED
    assert health.running == 1 and health.orphaned == 0
    assert health.summary.startswith("stalled: no trial finished for 12 min, 72× the median 10 s")
    # a larger k or a longer floor: not stalled yet
    assert _health(path, thresholds=HealthThresholds(stall_factor=100)).state is HealthState.RUNNING
    assert _health(path, thresholds=HealthThresholds(min_stall=3600)).state is HealthState.RUNNING


@pytest.mark.parametrize("kind", KINDS)
def test_an_old_running_trial_of_a_plain_study_is_possibly_orphaned(tmp_path, kind):
    path = _storage_path(tmp_path, kind)
    study = optuna.create_study(study_name="s", storage=_optuna_storage(path))
    _add_finished(study, 5, ended_ago=3600)
    study.ask()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    health = _health(path, now=later)
    assert health.state is HealthState.POSSIBLY_ORPHANED
    assert health.orphaned_numbers == (5,)
    assert "started 30 min ago" in health.summary and "no trial finished since" in health.summary
    # a trial that finished after it started: another worker is alive, so the run is stalled at most
    _add_finished(study, 1, ended_ago=0, duration=1.0)
    assert _health(path, now=later).state is HealthState.STALLED


def _optgui_run(path: Path, *args: str, wait: bool = True, study: str = "s"):
    env = {k: v for k, v in os.environ.items() if k != "OPTGUI_FAULT"}
    cmd = [sys.executable, "-m", "optgui", "run", str(path), "--study", study, "--seed", "1", "--quiet", *args]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=True)


@pytest.mark.parametrize("kind", KINDS)
def test_an_optgui_run_that_reached_its_target_is_finished(tmp_path, kind):
    path = _storage_path(tmp_path, kind)
    _optgui_run(path, "--objective", "builtin:quadratic", "--n-trials", "4")
    health = _health(path)
    assert health.state is HealthState.FINISHED
    assert health.summary == "finished: the run reached its target of 4 trials"
    _optgui_run(path, "--objective", "builtin:quadratic", "--n-trials", "6", "--timeout", "0")
    assert _health(path).state is HealthState.IDLE  # the target rose to 6; 4 finished


FAILING_OBJECTIVE = """
def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    if trial.number % 5 != 0:
        raise MemoryError("out of GPU memory")
    return x * x
"""


@pytest.mark.parametrize("kind", KINDS)
def test_a_failing_objective_shows_its_failure_rate_and_most_common_error(tmp_path, kind):
    path = _storage_path(tmp_path, kind)
    objective = tmp_path / "objective.py"
    objective.write_text(textwrap.dedent(FAILING_OBJECTIVE))
    _optgui_run(path, "--objective", f"{objective}:objective", "--n-trials", "10")
    health = _health(path)
    assert health.state is HealthState.FAILING
    assert health.failure_rate == pytest.approx(0.8)
    assert health.common_error == "MemoryError: out of GPU memory"  # the record's summary, not its repr
    assert "80% of the last 10 finished trials failed; most often:" in health.summary
    assert _health(path, thresholds=HealthThresholds(failure_threshold=0.9)).state is HealthState.FINISHED


def _wait_for_running_trial(path: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            try:
                with open_reader(str(path)) as reader:
                    summaries = reader.studies()
                    if (
                        summaries
                        and summaries[0].state_counts.get("RUNNING", 0)
                        and summaries[0].state_counts.get("COMPLETE", 0)
                    ):
                        return
            except Exception:  # noqa: BLE001 - the file is still being created
                pass
        time.sleep(0.1)
    raise AssertionError("the run never had a RUNNING trial")


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_writer_leaves_orphaned_running_trials(tmp_path, kind):
    path = _storage_path(tmp_path, kind)
    process = _optgui_run(path, "--objective", "builtin:slow(sleep=0.3)", "--n-trials", "1000", wait=False)
    try:
        _wait_for_running_trial(path, time.monotonic() + 120)
        assert _health(path).state is HealthState.RUNNING  # the lease is live: the writer runs
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    health = _health(path)
    assert health.state is HealthState.ORPHANED
    assert health.orphaned == health.running == 1
    assert f"process {process.pid} on" in health.summary and "is gone" in health.summary


def test_a_run_resumed_after_a_long_silence_is_stalled_only_after_its_own_silence(tmp_path):
    path = tmp_path / "study.db"
    study = optuna.create_study(study_name="s", storage=_optuna_storage(path))
    _add_finished(study, 5, ended_ago=12 * 60)  # median 10 s; nothing finished for 12 min
    process = _optgui_run(path, "--objective", "builtin:slow(sleep=60)", "--n-trials", "1000", wait=False)
    k = HealthThresholds(stall_factor=1.0, min_stall=20.0)  # stalled after 20 s without a finished trial
    try:
        _wait_for_running_trial(path, time.monotonic() + 120)
        now = dt.datetime.now(dt.UTC)
        health = _health(path, thresholds=k, now=now)
        # the run has just started: the 12 quiet minutes before it are no stall of it
        assert health.state is HealthState.RUNNING, health.summary
        assert health.since_last_finish is not None and health.since_last_finish > 12 * 60
        later = _health(path, thresholds=k, now=now + dt.timedelta(seconds=25))
        assert later.state is HealthState.STALLED, later.summary  # (the lease's heartbeat is still live then)
        assert "no trial finished in the" in later.summary and "since the run started" in later.summary
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def test_a_run_that_resumed_recently_is_judged_from_its_resume(tmp_path):
    path = tmp_path / "study.db"
    study = optuna.create_study(study_name="s", storage=_optuna_storage(path))
    _add_finished(study, 5, ended_ago=12 * 60)  # median 10 s
    study.ask()  # nothing finished for 12 min: stalled, for all the study itself says
    now = dt.datetime.now(dt.UTC)
    assert _health(path, now=now).state is HealthState.STALLED
    # the caller knows its run was paused until 10 s ago: that is no stall of it (the limit is 60 s)
    resumed = _health(path, now=now, running_since=now - dt.timedelta(seconds=10))
    assert resumed.state is HealthState.RUNNING, resumed.summary
    # but 5 minutes after it resumed without a finished trial, it is
    later = _health(path, now=now, running_since=now - dt.timedelta(minutes=5))
    assert later.state is HealthState.STALLED
    assert later.summary.startswith("stalled: no trial finished in the 5 min since the run started")
