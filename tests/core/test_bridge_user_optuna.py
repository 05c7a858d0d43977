"""A user environment that has its own Optuna (5.0, or 3.6 when it can be installed): the objective's own
`import optuna`, its type hints and `raise optuna.TrialPruned()` work through the bridge, and the run still equals
plain Optuna in optgui's environment (the sampler is optgui's, whatever Optuna the user has)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.support.user_env import make_user_env, plain_optuna_trials, run_optgui, site_packages, stored_trials

OBJECTIVE_WITH_OPTUNA = """
import optuna

import optgui_test_helper_pkg


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    k = trial.suggest_int("k", 0, 4)
    value = optgui_test_helper_pkg.shifted(x) ** 2 + k
    trial.report(value, 0)
    if trial.number % 4 == 3:
        raise optuna.TrialPruned("pruned by the objective's own Optuna")
    assert isinstance(trial.distributions["x"], optuna.distributions.FloatDistribution)
    trial.set_user_attr("optuna_version", optuna.__version__)
    return value
"""


def _user_env_with_optuna(tmp_path, version_spec: str | None):
    env = make_user_env(tmp_path, objective_source=textwrap.dedent(OBJECTIVE_WITH_OPTUNA))
    if version_spec is None:  # Optuna 5 from optgui's own environment, made visible in the venv
        import optuna

        (site_packages(tmp_path / "user-venv") / "optgui_env.pth").write_text(
            str(__import__("pathlib").Path(optuna.__file__).parent.parent) + "\n"
        )
        return env
    venv = tmp_path / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
    (site_packages(venv) / "helper.pth").write_text(str(env.libs) + "\n")
    try:
        install = subprocess.run(
            [env.python, "-m", "pip", "install", "-q", f"optuna{version_spec}"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"installing optuna{version_spec} took too long (no network?)")
    if install.returncode != 0:
        pytest.skip(f"cannot install optuna{version_spec} here (offline?): {install.stderr.strip()[-200:]}")
    return env


def _check(env, tmp_path, expected_version_prefix: str):
    storage = tmp_path / "study.db"
    proc = run_optgui(
        "run", str(storage), "--study", "s", "--objective", env.objective, "--python", env.python,
        "--sampler", "tpe", "--seed", "4", "--n-trials", "12", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert stored_trials(storage, "s") == plain_optuna_trials(env, 12, 4)
    import optuna

    study = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}")
    assert [t.state.name for t in study.trials].count("PRUNED") == 3
    versions = {t.user_attrs.get("optuna_version") for t in study.trials if t.state.name == "COMPLETE"}
    assert len(versions) == 1 and versions.pop().startswith(expected_version_prefix)


def test_user_env_with_optuna_5(tmp_path):
    import optuna

    _check(_user_env_with_optuna(tmp_path, None), tmp_path, optuna.__version__)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_user_env_with_optuna_3_6(tmp_path):
    _check(_user_env_with_optuna(tmp_path, "==3.6.*"), tmp_path, "3.6")
