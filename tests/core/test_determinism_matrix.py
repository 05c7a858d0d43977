"""The determinism contract (design §2), sampler by sampler: optgui's run equals plain Optuna run uninterrupted with
the same sampler, seed and objective, however it is interrupted — stop and resume in new processes, SIGKILL at
the engine's named fault points — and the naive resume (load_study with a freshly seeded sampler) diverges, which
shows these comparisons can fail.
"""

from __future__ import annotations

import importlib.util

import pytest

from determinism_support import first_difference, naive_resume, recorded, reference, run_cli

GRID = "GridSampler({'x': [0, 1, 2, 3, 4, 5], 'y': [0, 1, 2, 3, 4, 5]}, seed=5)"

# (case id, sampler spec, objective, trials, kill at trial)
CASES = [
    ("random", "RandomSampler(seed=5)", "builtin:quadratic", 30, 12),
    ("tpe-mixed", "TPESampler(seed=5)", "builtin:mixed", 30, 12),
    ("tpe-pruned", "TPESampler(seed=5, multivariate=False)", "builtin:pruned", 30, 12),
    ("tpe-failing", "TPESampler(seed=5, group=True, multivariate=True)", "builtin:flaky", 30, 12),
    ("tpe-conditional", "TPESampler(seed=5)", "builtin:conditional", 30, 12),
    ("cmaes", "CmaEsSampler(seed=5)", "builtin:quadratic", 30, 12),
    ("qmc", "QMCSampler(seed=5, scramble=True)", "builtin:quadratic", 30, 12),
    ("nsgaii", "NSGAIISampler(seed=5, population_size=6)", "builtin:multi", 30, 12),
    ("nsgaiii", "NSGAIIISampler(seed=5, population_size=6)", "builtin:multi", 30, 12),
    ("grid", GRID, "builtin:discrete", 30, 12),
    ("bruteforce", "BruteForceSampler(seed=5)", "builtin:discrete", 30, 12),
    ("gp", "GPSampler(seed=5, n_startup_trials=5)", "builtin:quadratic", 16, 9),
]

FAULTS = ["in_objective", "before_tell", "after_tell", "state_save"]


def _needs(spec: str):
    if spec.startswith("GPSampler") and importlib.util.find_spec("torch") is None:
        pytest.skip("GPSampler needs torch")


@pytest.fixture(scope="module")
def references():
    return {}


def _reference(cache, sampler, objective, n):
    key = (sampler, objective, n)
    if key not in cache:
        cache[key] = reference(sampler, objective, n)
    return cache[key]


@pytest.mark.parametrize("case_id,sampler,objective,n,kill_at", CASES, ids=[c[0] for c in CASES])
def test_stop_and_resume_in_new_processes(tmp_path, references, case_id, sampler, objective, n, kill_at):
    _needs(sampler)
    path = str(tmp_path / "study.db")
    for target in (kill_at // 2, kill_at, n):
        result = run_cli(path, sampler, objective, target)
        assert result.returncode == 0, result.stderr
    expected = _reference(references, sampler, objective, n)
    got = recorded(path)
    assert first_difference(expected, got) is None
    assert len(got) == len(expected)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("case_id,sampler,objective,n,kill_at", CASES, ids=[c[0] for c in CASES])
def test_sigkill_at_fault_point_then_resume(tmp_path, references, case_id, sampler, objective, n, kill_at, fault):
    _needs(sampler)
    path = str(tmp_path / "study.db")
    # Checkpoint after every trial, so that state_save hits a checkpoint write in the middle of the run.
    env = {"OPTGUI_CHECKPOINT_SECONDS": "0"} if fault == "state_save" else None
    killed = run_cli(path, sampler, objective, n, fault=f"{fault}:{kill_at}", extra_env=env)
    assert killed.returncode == -9, f"the fault point did not fire: {killed.stderr}"
    resumed = run_cli(path, sampler, objective, n)
    assert resumed.returncode == 0, resumed.stderr
    assert "recovered a run that died" in resumed.stderr
    assert "NOT equivalent" not in resumed.stderr
    expected = _reference(references, sampler, objective, n)
    got = recorded(path)
    assert first_difference(expected, got) is None, f"diverged at position {first_difference(expected, got)}"
    assert len(got) == len(expected)


@pytest.mark.parametrize("case_id,sampler,objective,n,kill_at", CASES, ids=[c[0] for c in CASES])
def test_naive_resume_diverges(tmp_path, references, case_id, sampler, objective, n, kill_at):
    """The comparison above has teeth: Optuna's own resume (fresh sampler, same seed) differs — except where the
    sampler's whole state is in storage (seeded QMC) or a function of the trial number (Grid within its size)."""
    _needs(sampler)
    expected = _reference(references, sampler, objective, n)
    naive = naive_resume(str(tmp_path / "naive.db"), sampler, objective, kill_at, n)
    if case_id in ("qmc", "grid"):
        assert first_difference(expected, naive) is None
    else:
        assert first_difference(expected, naive) == kill_at
