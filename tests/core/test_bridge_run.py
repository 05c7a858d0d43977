"""`optgui run --python PATH`: the objective runs in the user's own environment through optgui's bridge, and the
run equals plain Optuna run where the objective's packages are installed."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import optuna
import pytest

from optgui.core import records
from optgui.core.engine._trial_output import read_trial_output
from tests.support.user_env import make_user_env, other_python, plain_optuna_trials, run_optgui, stored_trials

N_TRIALS = 14
SEED = 3


@pytest.fixture(scope="module")
def user_env(tmp_path_factory):
    return make_user_env(tmp_path_factory.mktemp("bridge-env"))


def _run(storage, env, *extra, fault=None):
    args = ["run", str(storage), "--study", "s", "--objective", env.objective, "--python", env.python]
    args += ["--sampler", "tpe", "--seed", str(SEED), "--n-trials", str(N_TRIALS), "--quiet", *extra]
    return run_optgui(*args, env={"OPTGUI_FAULT": fault} if fault else None)


def _run_record(storage):
    return records.read_metadata(
        optuna.storages.RDBStorage(f"sqlite:///{storage}"),
        optuna.storages.RDBStorage(f"sqlite:///{storage}").get_study_id_from_name("s"),
    )


def test_run_in_user_env_equals_plain_optuna(user_env, tmp_path):
    storage = tmp_path / "study.db"
    proc = _run(storage, user_env)
    assert proc.returncode == 0, proc.stderr
    expected = plain_optuna_trials(user_env, N_TRIALS, SEED)
    assert stored_trials(storage, "s") == expected
    assert [t[1] for t in expected].count("FAIL") == 2  # the objective's errors failed trials; the run went on


def test_sigkill_and_resume_equal_plain_optuna(user_env, tmp_path):
    storage = tmp_path / "study.db"
    killed = _run(storage, user_env, fault="before_tell:5")
    assert killed.returncode == -9, killed.stderr
    resumed = run_optgui("run", str(storage), "--study", "s", "--quiet")  # the recorded Python is used again
    assert resumed.returncode == 0, resumed.stderr
    assert "recovered" in resumed.stderr
    kept = [t for t in stored_trials(storage, "s") if t[1] != "FAIL" or t[3] is not None or True]
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}")
    abandoned = {t.number for t in study.trials if records.TRIAL_ABANDONED in t.system_attrs}
    ours = [t[1:] for t in kept if t[0] not in abandoned]
    assert ours == [t[1:] for t in plain_optuna_trials(user_env, N_TRIALS, SEED)]


def test_same_objective_in_optguis_own_python_is_a_clear_import_error(user_env, tmp_path):
    storage = tmp_path / "study.db"
    proc = run_optgui("run", str(storage), "--study", "s", "--objective", user_env.objective, "--n-trials", "2")
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        f"optgui: error: importing objective file {user_env.objective_file} failed: "
        "ModuleNotFoundError: No module named 'optgui_test_helper_pkg'"
    ]
    assert not storage.exists()


def test_provenance_is_recorded_and_output_is_logged(user_env, tmp_path):
    storage = tmp_path / "study.db"
    assert _run(storage, user_env).returncode == 0
    meta = _run_record(storage)
    environment = meta.run["environment"]
    assert environment["executable"] == user_env.python
    assert environment["python"].count(".") == 2
    assert environment["optuna"] is None  # the venv has no Optuna
    assert len(environment["distributions_sha256"]) == 64
    assert "evaluating 3" in read_trial_output(str(storage), "s", 3)
    assert "seventh trial fails on purpose" in read_trial_output(str(storage), "s", 6)  # the bridge's traceback


def test_another_python_on_a_rerun_is_refused_naming_both_unless_accepted(user_env, tmp_path):
    storage = tmp_path / "study.db"
    first = run_optgui(
        "run",
        str(storage),
        "--study",
        "s",
        "--objective",
        user_env.objective,
        "--python",
        user_env.python,
        "--n-trials",
        "2",
        "--seed",
        "1",
        "--quiet",
    )
    assert first.returncode == 0, first.stderr
    other = shutil.which("python3") or shutil.which("python")
    before = storage.read_bytes()
    refused = run_optgui("run", str(storage), "--study", "s", "--n-trials", "3", "--python", other)
    assert refused.returncode == 3
    (line,) = refused.stderr.strip().splitlines()
    assert user_env.python in line and os.path.abspath(other) in line and "--accept-environment-change" in line
    assert storage.read_bytes() == before
    # Accepted: the new segment records the change, and the next rerun compares with the accepted environment.
    copy = tmp_path / "user-venv-copy"
    accepted = run_optgui(
        "run",
        str(storage),
        "--study",
        "s",
        "--n-trials",
        "3",
        "--python",
        user_env.python,
        "--accept-environment-change",
        "--quiet",
    )
    assert accepted.returncode == 0, accepted.stderr  # the same Python: nothing to accept, nothing recorded
    assert not copy.exists()
    segments = _run_record(storage).segments
    assert all(not (s.get("accepted") or {}).get("environment_changed") for s in segments)


def test_changed_packages_are_refused_then_recorded_when_accepted(tmp_path):
    env = make_user_env(tmp_path)
    storage = tmp_path / "study.db"
    base = ["run", str(storage), "--study", "s", "--quiet"]
    assert (
        run_optgui(
            *base, "--objective", env.objective, "--python", env.python, "--n-trials", "2", "--seed", "1"
        ).returncode
        == 0
    )
    dist_info = next(iter(env.libs.parent.glob("user-venv/lib/*/site-packages"))) / "extra_pkg-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-pkg\nVersion: 1.0\n")
    refused = run_optgui(*base, "--n-trials", "3")
    assert refused.returncode == 3 and "its installed packages changed" in refused.stderr
    accepted = run_optgui(*base, "--n-trials", "3", "--accept-environment-change")
    assert accepted.returncode == 0, accepted.stderr
    change = _run_record(storage).segments[-1]["accepted"]["environment_changed"]
    assert change["recorded"]["distributions"] == 0 and change["now"]["distributions"] == 1
    again = run_optgui(*base, "--n-trials", "4")  # the accepted environment is the one compared now
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("python", "message"),
    [
        ("/nonexistent/bin/python", "optgui: error: --python /nonexistent/bin/python: no such interpreter"),
        ("no-such-python-anywhere", "optgui: error: --python no-such-python-anywhere: no such interpreter on PATH"),
    ],
)
def test_missing_interpreter_is_one_line(user_env, tmp_path, python, message):
    storage = tmp_path / "study.db"
    proc = run_optgui("run", str(storage), "--study", "s", "--objective", user_env.objective, "--python", python)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [message]
    assert not storage.exists()


def test_too_old_python_is_one_line(tmp_path):
    old = other_python("3.8") or other_python("3.7") or other_python("2.7")
    if old is None:
        pytest.skip("no Python older than 3.9 on this machine")
    objective = tmp_path / "obj.py"
    objective.write_text("def objective(trial):\n    return 1.0\n")
    proc = run_optgui(
        "run", str(tmp_path / "s.db"), "--study", "s", "--objective", f"{objective}:objective", "--python", old
    )
    assert proc.returncode == 3
    (line,) = proc.stderr.strip().splitlines()
    assert "or newer" in line and old in line


def test_objective_without_optuna_prunes_crashes_and_reads_its_trial(tmp_path):
    source = """
    import os
    from optgui_bridge import TrialPruned

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 0:
            trial.report(x, 0)
            raise trial.TrialPruned("pruned by the objective")
        if trial.number == 1:
            raise TrialPruned()
        if trial.number == 2:
            os.write(2, b"about to die\\n")
            os._exit(7)
        if trial.number == 3:
            return trial.no_such_method()
        assert trial.params == {"x": x} and trial.distributions["x"]["name"] == "FloatDistribution"
        assert trial.study.study_name == "s" and trial.study.direction == "MINIMIZE"
        if trial.number == 5:  # (the best trial of a study with none complete is Optuna's ValueError)
            assert trial.study.best_trial["number"] == 4 and trial.study.best_params == {"x": trial.study.best_value}
        trial.set_user_attr("started", trial.datetime_start.isoformat())
        return x
    """
    env = make_user_env(tmp_path, objective_source=source)
    storage = tmp_path / "study.db"
    proc = run_optgui(
        "run",
        str(storage),
        "--study",
        "s",
        "--objective",
        env.objective,
        "--python",
        env.python,
        "--n-trials",
        "6",
        "--seed",
        "2",
    )
    assert proc.returncode == 0, proc.stderr
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}")
    states = [t.state.name for t in study.trials]
    assert states == ["PRUNED", "PRUNED", "FAIL", "FAIL", "COMPLETE", "COMPLETE"]
    errors = [t.system_attrs.get(records.TRIAL_ERROR) for t in study.trials]
    assert errors[2]["type"] == "PythonCrashed" and "exit code 7" in errors[2]["message"]
    assert "about to die" in errors[2]["message"]
    assert errors[3]["type"] == "AttributeError" and "'no_such_method'" in errors[3]["message"]
    assert "started" in study.trials[5].user_attrs


def test_module_objective_found_only_in_the_user_env(tmp_path):
    env = make_user_env(tmp_path)
    (env.libs / "optgui_test_helper_pkg" / "train.py").write_text(
        "def objective(trial):\n    return trial.suggest_float('x', 0, 1)\n"
    )
    storage = tmp_path / "study.db"
    ref = "optgui_test_helper_pkg.train:objective"
    proc = run_optgui(
        "run",
        str(storage),
        "--study",
        "s",
        "--objective",
        ref,
        "--python",
        env.python,
        "--n-trials",
        "3",
        "--seed",
        "1",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    objective = _run_record(storage).run["objective"]
    assert objective["kind"] == "module" and objective["path"].endswith("train.py") and objective["sha256"]
    resumed = run_optgui("run", str(storage), "--study", "s", "--n-trials", "4", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert len(stored_trials(storage, "s")) == 4


def test_builtin_objective_with_python_is_refused(user_env, tmp_path):
    proc = run_optgui(
        "run", str(tmp_path / "s.db"), "--study", "s", "--objective", "builtin:quadratic", "--python", user_env.python
    )
    assert proc.returncode == 3 and "built-ins" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_run_record_stays_readable_by_the_records_module(user_env, tmp_path):
    storage = tmp_path / "study.db"
    assert _run(storage, user_env).returncode == 0
    with sqlite3.connect(storage) as db:
        (text,) = db.execute(
            "SELECT value_json FROM study_system_attributes WHERE key = ?", (records.KEY_RUN,)
        ).fetchone()
    record = records.RunRecord.from_json(json.loads(text))
    assert record.environment is not None and record.environment["executable"] == user_env.python


def test_objective_check_re_evaluates_in_the_recorded_environment(user_env, tmp_path):
    storage = tmp_path / "study.db"
    assert _run(storage, user_env).returncode == 0
    proc = run_optgui("verify", str(storage), "--study", "s", "--objective-check", "3", "--json")
    assert proc.returncode in (0, 2), proc.stderr  # (the sampler replay's verdict is not this test's subject)
    check = json.loads(proc.stdout)["objective_check"]
    assert len(check["trials"]) == 3 and all(t["reproduced"] for t in check["trials"]), check
