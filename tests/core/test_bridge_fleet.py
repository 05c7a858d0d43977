"""A parallel run (`optgui run --workers N --python PATH`, `optgui worker --python PATH`): the workers evaluate
the objective in the user's Python, the recorded one by default."""

from __future__ import annotations

from tests.support.user_env import make_user_env, plain_optuna_trials, run_optgui

SIMPLE = """
import optgui_test_helper_pkg


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    return optgui_test_helper_pkg.shifted(x) ** 2
"""


def _journal_trials(path):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    study = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))
    return [[t.number, t.state.name, t.params, t.values] for t in study.trials if t.state.is_finished()]


def _two_workers(env, journal, n_trials: int):
    """`optgui run --workers 2 --python` of the environment's objective, TPE with seed 2."""
    return run_optgui(
        "run", str(journal), "--study", "s", "--objective", env.objective, "--python", env.python,
        "--workers", "2", "--sampler", "tpe", "--seed", "2", "--n-trials", str(n_trials), "--quiet",
    )  # fmt: skip


def test_deterministic_fleet_evaluates_in_the_recorded_python(tmp_path):
    env = make_user_env(tmp_path, objective_source=SIMPLE)
    journal = tmp_path / "study.log"
    proc = _two_workers(env, journal, 6)
    assert proc.returncode == 0, proc.stderr
    # The reference: plain Optuna's sequential run (a deterministic fleet equals it).
    assert _journal_trials(journal) == plain_optuna_trials(env, 6, 2)


def test_worker_with_a_missing_python_is_one_line(tmp_path):
    env = make_user_env(tmp_path, objective_source=SIMPLE)
    journal = tmp_path / "study.log"
    assert run_optgui(
        "run", str(journal), "--study", "s", "--objective", env.objective, "--python", env.python,
        "--workers", "1", "--mode", "free", "--seed", "2", "--n-trials", "2", "--quiet",
    ).returncode == 0  # fmt: skip
    proc = run_optgui("worker", str(journal), "--study", "s", "--python", str(tmp_path / "nope" / "python"))
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        f"optgui: error: --python {tmp_path / 'nope' / 'python'}: no such interpreter"
    ]


def test_one_function_objective_in_another_python_ends_its_suggest_phase_where_it_should(tmp_path):
    """The coordinator runs a one-function objective only up to its first use of the trial that is not a suggest
    (here a report): in the user's Python the bridge is told to end it there and is ready for the next trial. (It
    was left waiting mid-trial: every later trial failed with 'suggest was not made in the suggest phase'.)"""
    env = make_user_env(tmp_path)  # suggests, prints, reports, sets a user attribute; trial 6 fails on purpose
    journal = tmp_path / "study.log"
    proc = _two_workers(env, journal, 8)
    assert proc.returncode == 0, proc.stderr
    trials = _journal_trials(journal)
    assert [state for _, state, _, _ in trials] == ["COMPLETE"] * 6 + ["FAIL", "COMPLETE"], proc.stderr[-2000:]
    assert trials == plain_optuna_trials(env, 8, 2)
