"""`optgui verify` end to end: exit codes, the human summary, --json, --study, the objective check."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.support.verify import (
    SAMPLERS,
    append_plain_trials,
    cli_env,
    nudge_param,
    plain_study,
    run_in_process,
    tampered_copy,
)

pytestmark = pytest.mark.xdist_group("verify-cli")
SPEC, OBJECTIVE = SAMPLERS["tpe"]


def verify(*args, env=None):
    full_env = {**__import__("os").environ, **cli_env(), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "optgui", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "s.db"
    run_in_process(path, SPEC, OBJECTIVE, 10)
    return path


def test_verified_study_exits_0_with_a_summary(study):
    out = verify(study)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Sampler replay verified 10/10 · equivalent to an uninterrupted run")


def test_json_verdict_has_a_schema_and_exit_1_on_divergence(study, tmp_path):
    path = tampered_copy(study, tmp_path / "t.db", nudge_param(4, "x"))
    out = verify(path, "--json", "--study", "det")
    assert out.returncode == 1, out.stderr
    verdict = json.loads(out.stdout)
    assert verdict["schema"] == 1 and verdict["kind"] == "diverged"
    assert verdict["divergence"]["trial"] == 4 and verdict["divergence"]["param"] == "x"


def test_unverifiable_exits_2_and_errors_exit_3(tmp_path):
    plain = tmp_path / "p.db"
    plain_study(plain, "RandomSampler(seed=1)", "builtin:quadratic", 4)
    out = verify(plain)
    assert out.returncode == 2 and "Unverifiable" in out.stdout and "--spec" in out.stdout
    assert verify(plain, "--spec", "RandomSampler(seed=1)").returncode == 0
    missing = verify(tmp_path / "missing.db")
    assert (
        missing.returncode == 3 and missing.stderr.startswith("optgui: error:") and "does not exist" in missing.stderr
    )
    assert not (tmp_path / "missing.db").exists()
    plain_study(plain, "RandomSampler(seed=1)", "builtin:quadratic", 1, study_name="other")
    ambiguous = verify(plain, "--spec", "RandomSampler(seed=1)")
    assert ambiguous.returncode == 3 and "--study" in ambiguous.stderr


def test_require_equivalent_exits_4_on_a_replayable_only_study(tmp_path):
    path = tmp_path / "s.db"
    run_in_process(path, SPEC, OBJECTIVE, 5)
    append_plain_trials(path, "RandomSampler(seed=2)", OBJECTIVE, 1)
    run_in_process(path, SPEC, OBJECTIVE, 8)
    assert verify(path).returncode == 0
    out = verify(path, "--require-equivalent")
    assert out.returncode == 4, out.stdout + out.stderr
    assert "replayable only" in out.stdout and "another process" in out.stdout


def test_objective_check_compares_exactly_or_within_rtol(tmp_path):
    objective = tmp_path / "noisy.py"
    objective.write_text(
        textwrap.dedent("""
        import random

        def objective(trial):
            x = trial.suggest_float("x", -3.0, 3.0)
            print("noise goes to stderr, not into the JSON")
            return x * x * (1.0 + 1e-12 * random.random())
    """)
    )
    path = tmp_path / "s.db"
    run_in_process(path, "RandomSampler(seed=4)", f"{objective}:objective", 6)
    exact = verify(path, "--objective-check", "3", "--json")
    assert exact.returncode == 1, exact.stderr
    check = json.loads(exact.stdout)["objective_check"]
    assert len(check["trials"]) == 3 and not all(t["reproduced"] for t in check["trials"])
    loose = verify(path, "--objective-check", "3", "--rtol", "1e-9")
    assert loose.returncode == 0, loose.stdout + loose.stderr
    assert "Objective check: 3/3 trials reproduced within rtol 1e-09" in loose.stdout
