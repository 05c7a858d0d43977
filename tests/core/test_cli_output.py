"""What optgui's commands print besides their data: the seed `optgui run` draws, and no Optuna log lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import optuna
import pytest

from optgui.core import records

OPTUNA_LOG_LINE = re.compile(r"^\[[IWE] \d{4}-")  # "[I 2026-12-03 18:28:42,080] A new study created …"


def _optgui(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optgui", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize("filename", ["s.db", "s.log"])
def test_run_prints_the_seed_it_draws_and_no_optuna_log_lines(tmp_path, filename):
    path = tmp_path / filename
    result = _optgui("run", str(path), "--study", "s", "--objective", "builtin:quadratic", "--n-trials", "3")
    assert result.returncode == 0, result.stderr
    stderr = result.stderr.splitlines()
    assert not [line for line in stderr + result.stdout.splitlines() if OPTUNA_LOG_LINE.match(line)], result.stderr
    drawn = [line for line in stderr if "drew sampler seed" in line]
    assert len(drawn) == 1, stderr
    seed = int(re.search(r"drew sampler seed (\d+)", drawn[0]).group(1))
    assert all(line.startswith("optgui: ") for line in stderr), stderr
    if filename.endswith(".db"):
        storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
        run = storage.get_study_system_attrs(storage.get_study_id_from_name("s"))[records.KEY_RUN]
        assert run["seed"] == seed

    again = _optgui("run", str(path), "--study", "s", "--n-trials", "4")
    assert again.returncode == 0, again.stderr
    assert "drew sampler seed" not in again.stderr  # recorded, not drawn again


def test_a_given_seed_is_not_announced(tmp_path):
    result = _optgui(
        "run", str(tmp_path / "s.db"), "--study", "s", "--objective", "builtin:quadratic", "--n-trials", "2",
        "--seed", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "drew sampler seed" not in result.stderr


def test_the_engine_child_keeps_optuna_log_lines_off_the_terminal(tmp_path):
    """The app's engine child shares the terminal the app was started from."""
    script = textwrap.dedent(
        f"""
        import time
        from optgui.core.engine._engine_process import EngineProcess
        from optgui.core.engine._runner import RunRequest

        if __name__ == "__main__":
            request = RunRequest(storage={str(tmp_path / "e.db")!r}, study_name="e",
                                 objective="builtin:quadratic", sampler="TPESampler(seed=1)", n_trials=2)
            engine = EngineProcess(request).start()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if any(m[0] != "event" for m in engine.receive(0.2)):
                    break
            engine.join(30)
            print("ended")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )
    assert result.returncode == 0 and "ended" in result.stdout, result.stderr
    assert not [line for line in result.stderr.splitlines() if OPTUNA_LOG_LINE.match(line)], result.stderr
