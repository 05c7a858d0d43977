"""The replay verifier on real studies made by optgui's engine (in process and through the CLI with its fault
points) and by plain Optuna."""

from __future__ import annotations

import threading
import warnings

import optuna
import pytest

from optgui.core.storage._study_read import read_study
from optgui.core.verify._verifier import VerificationCancelled, Verifier, verify_study
from tests.support.determinism import STUDY, recorded
from tests.support.verify import SAMPLERS, append_plain_trials, file_state, plain_study, run_cli_here, run_in_process

GP_SAMPLER = "GPSampler(seed=11, n_startup_trials=3)"
NEEDS_TORCH = pytest.mark.needs("torch")  # GPSampler's optional dependency


def _verify(path, **kw):
    kw.setdefault("use_cache", False)
    return verify_study(str(path), None, **kw)


@pytest.mark.parametrize("key", [pytest.param(k, marks=NEEDS_TORCH) if k == "gp" else k for k in sorted(SAMPLERS)])
def test_clean_run_with_stop_and_pause_verifies_equivalent(tmp_path, key):
    spec, objective = SAMPLERS[key]
    if key == "gp":
        spec = GP_SAMPLER
    path = tmp_path / "s.db"
    run_in_process(path, spec, objective, 6)  # stop; the next runner resumes from the saved state
    run_in_process(path, spec, objective, 12, pause_after=8)  # an in-process pause: another segment
    verdict = _verify(path)
    assert verdict.kind == "verified", verdict.summary()
    assert verdict.equivalent, verdict.reasons
    assert (verdict.n_checked, verdict.n_total, verdict.first_trial, verdict.last_trial) == (12, 12, 0, 11)
    assert [s.boundary for s in verdict.segments] == ["start", "seamless", "seamless"]


# (fault point, sampler key, journal?, equivalent after recovery)
CRASHES = [
    ("in_objective:7", "tpe", False, True),
    ("in_objective:7", "cmaes", False, True),  # re-entered under the same number: CMA-ES stays equivalent
    ("in_objective:7", "qmc", False, True),
    ("before_tell:7", "grid", False, True),
    ("before_tell:7", "nsgaii", False, True),  # GA parent-cache trial ids are translated back on re-entry
    ("after_tell:7", "bruteforce", False, True),
    ("after_tell:7", "nsgaiii", False, True),
    ("state_save:6", "random", False, True),
    ("in_objective:7", "tpe", True, True),  # journal: abandoned; TPE ignores FAIL trials
    ("in_objective:7", "grid", True, False),  # journal: abandoned; Grid maps trial numbers to grid points
    ("before_tell:5", "gp", True, True),
]


@pytest.mark.slow
@pytest.mark.timeout(200)  # took 63 s on a busy 2-core machine
@pytest.mark.parametrize(
    "fault,key,journal,equivalent",
    [
        pytest.param(
            f,
            k,
            j,
            e,
            id=f"{f.split(':')[0]}-{k}-{'journal' if j else 'sqlite'}",
            marks=[NEEDS_TORCH] if k == "gp" else [],
        )
        for f, k, j, e in CRASHES
    ],
)
def test_crashed_and_recovered_runs_verify(tmp_path, fault, key, journal, equivalent):
    spec, objective = SAMPLERS[key]
    if key == "gp":
        spec = GP_SAMPLER
    path = tmp_path / ("s.log" if journal else "s.db")
    if fault.startswith("state_save"):
        first = run_cli_here(path, spec, objective, 6, fault=fault)  # killed while saving the end-of-run state
    else:
        first = run_cli_here(path, spec, objective, 12, fault=fault)
    assert first.returncode == -9, first.stderr
    if not fault.startswith(("after_tell", "state_save")):
        # Before recovery the zombie is still RUNNING at the end: checked up to it, left pending.
        before = _verify(path)
        assert before.kind == "verified", before.summary()
        assert before.pending == 1 and before.last_trial == int(fault.split(":")[1]) - 1
    second = run_cli_here(path, spec, objective, 12)
    assert second.returncode == 0, second.stderr
    verdict = _verify(path)
    assert verdict.kind == "verified", verdict.summary()
    assert verdict.equivalent is equivalent, verdict.summary()
    assert verdict.n_checked == verdict.n_total == len(read_study(str(path), STUDY).trials)
    assert verdict.segments[-1].resumed_by == "recovery"
    if journal and key == "tpe":
        # The abandoned zombie consumed random draws; the saved state rewinds them. (Grid draws nothing for trial
        # numbers below its grid size, so its boundary stays seamless.)
        assert verdict.segments[-1].boundary == "restored"
    if not equivalent:
        assert any(("abandoned" in r) if journal else ("NSGAIISampler:parent:1" in r) for r in verdict.reasons), (
            verdict.reasons
        )


def test_verification_never_writes_to_the_study(tmp_path):
    db, log = tmp_path / "s.db", tmp_path / "s.log"
    run_in_process(db, *SAMPLERS["tpe"], 6)
    run_in_process(log, *SAMPLERS["tpe"], 6)
    before = {p: file_state(p) for p in (db, log)}
    for p in (db, log):
        assert _verify(p).kind == "verified"
        assert _verify(p, use_cache=True).kind == "verified"
    assert {p: file_state(p) for p in (db, log)} == before


def test_incremental_extension_progress_and_cancel(tmp_path):
    path = tmp_path / "s.db"
    run_in_process(path, *SAMPLERS["tpe"], 14)
    snap = read_study(str(path), STUDY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verifier = Verifier(study_name=snap.name, directions=snap.directions, system_attrs=snap.system_attrs)
        reports = []
        first = verifier.extend(snap.trials[:9], progress=reports.append)
        assert (first.checked, first.last_trial) == (9, 8)
        assert reports[-1] == first and "verified trials 0–8" in first.describe()
        rest = verifier.extend(snap.trials)  # all trials again: the first nine are not replayed twice
        assert (rest.checked, rest.total, rest.last_trial) == (14, 14, 13)
        assert verifier.verdict().equivalent

        cancel = threading.Event()
        cancel.set()
        fresh = Verifier(study_name=snap.name, directions=snap.directions, system_attrs=snap.system_attrs)
        with pytest.raises(VerificationCancelled):
            fresh.extend(snap.trials, cancel=cancel)


def test_cache_is_keyed_by_content_and_resumes_a_grown_study(tmp_path):
    path = tmp_path / "s.db"
    spec, objective = SAMPLERS["tpe"]
    run_in_process(path, spec, objective, 10)
    first = verify_study(str(path))
    assert first.kind == "verified" and not first.cached
    assert verify_study(str(path)).cached
    run_in_process(path, spec, objective, 13)
    reports = []
    grown = verify_study(str(path), progress=reports.append)
    assert not grown.cached and grown.n_checked == 13 and grown.equivalent
    assert reports and all(r.checked >= 10 for r in reports)  # resumed after the cached prefix of 10

    # An in-place edit of an already verified trial is never served the cached verdict.
    import os
    import shutil

    from tests.support.verify import nudge_param, tampered_copy

    os.rename(path, tmp_path / "orig.db")
    tampered_copy(tmp_path / "orig.db", path, nudge_param(3, "x"))
    edited = verify_study(str(path))
    assert edited.kind == "diverged" and edited.divergence.trial == 3 and not edited.cached
    shutil.copy(tmp_path / "orig.db", path)
    assert verify_study(str(path)).cached


def test_adopted_study_claims_start_at_the_boundary(tmp_path):
    path = tmp_path / "s.db"
    plain_study(path, "RandomSampler(seed=3)", "builtin:quadratic", 5)
    run_in_process(path, "TPESampler(seed=4)", "builtin:quadratic", 12)
    verdict = _verify(path)
    assert verdict.kind == "verified", verdict.summary()
    assert verdict.history == 5 and verdict.first_trial == 5
    assert (verdict.n_checked, verdict.n_total) == (12, 12)
    assert verdict.equivalent


def test_trials_from_another_process_between_segments_make_it_replayable_only(tmp_path):
    path = tmp_path / "s.db"
    spec, objective = SAMPLERS["tpe"]
    run_in_process(path, spec, objective, 6)
    append_plain_trials(path, "RandomSampler(seed=99)", objective, 2)
    run_in_process(path, spec, objective, 10)
    verdict = _verify(path)
    assert verdict.kind == "verified", verdict.summary()
    assert not verdict.equivalent
    assert verdict.history == 2 and verdict.n_checked == 10
    assert any("6–7 were written by another process" in r for r in verdict.reasons), verdict.reasons


def test_plain_optuna_study_verifies_with_the_right_spec(tmp_path):
    path = tmp_path / "p.db"
    plain_study(path, "TPESampler(seed=5)", "builtin:pruned", 14)
    good = _verify(path, spec="TPESampler(seed=5)")
    assert good.kind == "verified" and good.equivalent and good.n_checked == 14, good.summary()
    assert good.spec_source == "supplied"
    wrong = _verify(path, spec="TPESampler(seed=6)")
    assert wrong.kind == "diverged" and wrong.divergence.trial == 0
    assert "seed" in wrong.cause
    none = _verify(path)
    assert none.kind == "unverifiable" and "--spec" in none.reason
    custom = _verify(path, spec="MySampler(seed=1)")
    assert custom.kind == "unverifiable" and "custom sampler" in custom.reason


def test_running_trial_seen_by_later_trials_is_replayed_as_running(tmp_path):
    # TPE's constant liar models RUNNING trials: a zombie left RUNNING while later trials were sampled changes
    # their suggestions, so the replay must keep it RUNNING, as the original sampler saw it.
    path = tmp_path / "z.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            storage=f"sqlite:///{path}",
            study_name=STUDY,
            sampler=optuna.samplers.TPESampler(seed=8, n_startup_trials=3),
        )
        from tests.support.determinism import objective_for

        study.optimize(objective_for("builtin:quadratic"), n_trials=4)
        zombie = study.ask()
        zombie.suggest_float("x", -10.0, 10.0)
        zombie.suggest_float("y", -10.0, 10.0)
        study.optimize(objective_for("builtin:quadratic"), n_trials=8)
    verdict = _verify(path, spec="TPESampler(seed=8, n_startup_trials=3)")
    assert verdict.kind == "verified", verdict.summary()
    assert verdict.n_checked == 12 and any("trial 4 is unfinished" in n for n in verdict.notes)
    assert len(recorded(str(path))) == 12
