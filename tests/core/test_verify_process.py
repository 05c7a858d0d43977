"""The verifier in a child process: progress lines, a different hash seed, cancellation, missing torch, and
no Qt anywhere on the verify path."""

from __future__ import annotations

import os
import subprocess
import sys

from optgui.core.verify._process import VerifyJob
from optgui.core.verify._verifier import verify_study
from tests.support.verify import ROOT, SAMPLERS, cli_env, run_in_process


def test_job_streams_progress_and_a_verdict_from_a_fresh_hash_seed(tmp_path):
    path = tmp_path / "s.db"
    run_in_process(path, *SAMPLERS["tpe"], 12)
    job = VerifyJob(str(path), env=cli_env(), use_cache=False).start()
    messages = list(job)
    events = [m.event for m in messages]
    assert events[0] == "started" and events[-2:] == ["verdict", "exited"]
    assert "progress" in events
    assert messages[0].data["hash_seed"] == job.hash_seed != os.environ.get("PYTHONHASHSEED")
    assert job.last_progress.checked == 12
    assert job.verdict.kind == "verified" and job.verdict.n_checked == 12 and job.poll() == []


def test_cancel_stops_the_child(tmp_path):
    path = tmp_path / "s.db"
    run_in_process(path, *SAMPLERS["random"], 3)
    job = VerifyJob(str(path), env=cli_env(), use_cache=False).start()
    job.cancel()
    list(job)
    assert job.verdict is None and job.cancelled and job.done


def test_background_start_gives_the_same_verdict_and_a_cancel_while_starting_leaves_no_child(tmp_path):
    path = tmp_path / "s.db"
    run_in_process(path, *SAMPLERS["random"], 4)
    job = VerifyJob(str(path), env=cli_env(), use_cache=False).start(background=True)
    assert job.wait(timeout=300).kind == "verified" and job.done

    for _ in range(5):  # cancel at once: before, during or just after the thread starts the process
        job = VerifyJob(str(path), env=cli_env(), use_cache=False).start(background=True)
        job.cancel(wait=False)
        events = [m.event for m in job]
        assert events[-1] == "exited" and job.done and job.verdict is None and job.error == "verification cancelled"
        if job._proc is not None:
            assert job._proc.wait(10) is not None  # stopped, and reaped


def test_gp_study_without_torch_is_unverifiable(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    run_in_process(path, "GPSampler(seed=1, n_startup_trials=2)", "builtin:quadratic", 2)
    # The verifier's child imports only from the installation (no PYTHONPATH): torch is made missing in this process,
    # where the same check runs, whether or not torch is installed.
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    verdict = verify_study(str(path), None, use_cache=False)
    assert verdict.kind == "unverifiable" and verdict.reason == "GPSampler needs torch (pip install torch)"


def test_verify_path_imports_no_qt():
    code = (
        "import sys, optgui.commands.verify, optgui.core.verify._verifier, optgui.core.verify._process, "
        "optgui.core.verify._cache, optgui.core.verify._objective_check, optgui.core.storage._study_read; "
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, **cli_env()})


def test_the_verifier_child_runs_below_the_callers_priority(tmp_path):
    path = tmp_path / "s.db"
    run_in_process(path, *SAMPLERS["random"], 2)
    job = VerifyJob(str(path), env=cli_env(), use_cache=False, niceness=6).start()
    seen = []
    for message in job:
        if message.event == "started" and job._proc.poll() is None:
            seen.append(os.getpriority(os.PRIO_PROCESS, job._proc.pid))
    assert job.verdict.kind == "verified"
    assert seen == [min(os.getpriority(os.PRIO_PROCESS, 0) + 6, 19)]
