"""`optgui run --history`: a warm start equals plain Optuna given the same `add_trials` and seed, `optgui verify`
says equivalent, what does not fit is listed with its reason, the provenance is recorded, --n-trials counts the
copied trials, and the source studies stay byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings

import optuna
import pytest

from optgui.core.engine import copied_trial_count, plan_history, trials_digest
from optgui.core.engine._warm_start import copied_trial
from optgui.core.records import KEY_HISTORY, HistoryRecord
from tests.support.determinism import objective_for, trial_signature
from tests.support.verify import cli_env, run_in_process

pytestmark = pytest.mark.xdist_group("warm-start")
OBJECTIVE = "builtin:mixed"
SAMPLER = "TPESampler(seed=7)"


def optgui(*args):
    return subprocess.run(
        [sys.executable, "-m", "optgui", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **cli_env()},
        timeout=300,
    )


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """An optgui run, and a plain study with a FAIL trial, a conflicting distribution of `x` and a second
    study of the other direction."""
    folder = tmp_path_factory.mktemp("warm")
    run_in_process(folder / "a.db", "TPESampler(seed=1)", OBJECTIVE, 10, study_name="a")

    def plain(trial):
        x = trial.suggest_float("x", -1.0, 1.0) if trial.number == 2 else trial.suggest_float("x", -5.0, 5.0)
        if trial.number == 1:
            raise ValueError("boom")
        return x**2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = optuna.create_study(
            storage=f"sqlite:///{folder}/b.db", study_name="b", sampler=optuna.samplers.RandomSampler(seed=3)
        )
        b.optimize(plain, n_trials=5, catch=(ValueError,))
        up = optuna.create_study(storage=f"sqlite:///{folder}/b.db", study_name="up", direction="maximize")
        up.optimize(lambda t: t.suggest_float("x", -5.0, 5.0), n_trials=2)
    return folder


def test_warm_start_equals_plain_optuna_and_verifies(sources, tmp_path):
    before = {p.name: sha(p) for p in sources.glob("*.db")}
    new = tmp_path / "new.db"
    out = optgui(
        "run", new, "--study", "warm", "--history", f"{sources}/a.db@0-5,99", "--history", f"{sources}/b.db#b",
        "--history", f"{sources}/b.db#up", "--objective", OBJECTIVE, "--sampler", SAMPLER, "--n-trials", 16, "--quiet",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    skipped = [line for line in out.stderr.splitlines() if line.startswith("optgui: not copied:")]
    assert any("trial 99: no such trial" in line for line in skipped)
    assert any("b.db#b trial 1: FAIL" in line for line in skipped)
    assert any("b.db#b trial 2: param 'x'" in line for line in skipped)
    assert any("b.db#up: directions maximize differ" in line for line in skipped)
    assert {p.name: sha(p) for p in sources.glob("*.db")} == before

    plan = plan_history([f"{sources}/a.db@0-5,99", f"{sources}/b.db#b", f"{sources}/b.db#up"], ["minimize"])
    assert len(plan.trials) == 6 + 3  # a: 0-5; b: 0, 3, 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = optuna.load_study(study_name="warm", storage=f"sqlite:///{new}")
        plain = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=7))
        plain.add_trials([copied_trial(t) for t in plan.trials])
        plain.optimize(objective_for(OBJECTIVE), n_trials=16 - len(plan.trials))
    assert len(warm.trials) == 16  # --n-trials counts the copied trials
    assert [trial_signature(t) for t in warm.trials] == [trial_signature(t) for t in plain.trials]

    record = HistoryRecord.from_json(warm._storage.get_study_system_attrs(warm._study_id)[KEY_HISTORY])
    assert record.n_copied == 9 and record.n_skipped == 5
    assert [(s["study"], s["trials"]) for s in record.sources] == [("a", [0, 1, 2, 3, 4, 5]), ("b", [0, 3, 4])]
    assert record.digest == trials_digest(plan.trials) == trials_digest(warm.trials[:9])

    verdict = optgui("verify", new, "--json")
    assert verdict.returncode == 0, verdict.stderr
    data = json.loads(verdict.stdout)
    assert data["equivalent"] and data["history"] == 9 and data["n_checked"] == 7


def test_n_trials_on_a_rerun_still_counts_the_copied_trials(sources, tmp_path):
    new = tmp_path / "rerun.db"
    common = ("--objective", OBJECTIVE, "--sampler", SAMPLER, "--quiet")
    assert optgui("run", new, "--study", "w", "--history", f"{sources}/a.db", "--n-trials", 12, *common).returncode == 0
    assert copied_trial_count(str(new), "w") == 10
    again = optgui("run", new, "--study", "w", "--n-trials", 12)
    assert again.returncode == 0 and "nothing to do" in again.stderr
    more = optgui("run", new, "--study", "w", "--n-trials", 14, "--quiet")
    assert more.returncode == 0, more.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(optuna.load_study(study_name="w", storage=f"sqlite:///{new}").trials) == 14


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--history", "{d}/missing.db"), "no such study file"),
        (("--history", "{d}/a.db@3-1"), "bad trial selection"),
        (("--history", "{d}/b.db#up", "--direction", "minimize"), "none of the --history trials can be copied"),
        (("--history", "{d}/a.db", "--objective", "builtin:nope"), "unknown built-in objective"),
    ],
)
def test_bad_history_is_one_error_and_writes_nothing(sources, tmp_path, extra, message):
    new = tmp_path / "bad.db"
    args = [a.format(d=sources) for a in extra]
    if "--objective" not in args:
        args += ["--objective", OBJECTIVE]
    out = optgui("run", new, "--study", "w", *args, "--n-trials", 5)
    assert out.returncode == 3, out.stderr
    assert message in out.stderr.splitlines()[-1]
    assert not new.exists()


def test_history_needs_a_new_study(sources):
    out = optgui("run", sources / "a.db", "--study", "a", "--history", f"{sources}/a.db", "--objective", OBJECTIVE)
    assert out.returncode == 3 and "already exists" in out.stderr
