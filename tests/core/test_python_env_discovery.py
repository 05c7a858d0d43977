"""The interpreters the run definition's "Python" field offers: the project's venv first, then conda, pyenv and
PATH; each can be probed for its Python and Optuna versions."""

from __future__ import annotations

import platform
import sys

import optuna
import pytest

from optgui.core.engine import (
    PythonEnvironmentError,
    check_environment_for_run,
    describe_interpreter,
    find_interpreters,
    probe_environment,
    try_objective,
)
from optgui.core.errors import ObjectiveError
from tests.support.user_env import HELPER_PACKAGE, make_user_env, other_python


def test_a_venv_beside_the_objective_or_at_the_project_root_comes_first(tmp_path, monkeypatch):
    env = make_user_env(tmp_path)
    # The objective lives in PROJECT/src/; the venv at the project root (marked by pyproject.toml).
    project = tmp_path
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "user-venv").rename(project / ".venv")
    source = project / "project" / "src"
    source.mkdir(parents=True)
    objective = source / "train.py"
    objective.write_text(env.objective_file.read_text())
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    candidates = find_interpreters(str(objective))
    assert candidates[0].source == "project venv"
    assert candidates[0].path == str(project / ".venv" / "bin" / "python")
    probed = probe_environment(candidates[0].path)
    assert probed.optuna is None and probed.python.startswith("3.")


def test_pythons_on_path_are_offered_once(tmp_path, monkeypatch):
    env = make_user_env(tmp_path)
    bin_folder = str(tmp_path / "user-venv" / "bin")
    monkeypatch.setenv("PATH", f"{bin_folder}:{bin_folder}")
    paths = [c.path for c in find_interpreters(str(env.objective_file)) if c.source == "PATH"]
    assert paths and len(paths) == len(set(paths))
    assert all(p.startswith(bin_folder) for p in paths)


def test_a_candidate_is_described_by_its_python_and_optuna_versions(tmp_path):
    env = make_user_env(tmp_path)
    info = describe_interpreter(env.python, "project venv")
    assert info.usable and info.optuna is None
    assert info.summary() == f"Python {info.python} · no optuna"
    own = describe_interpreter(sys.executable)
    assert own.optuna == optuna.__version__
    assert own.summary() == f"Python {platform.python_version()} · optuna {optuna.__version__}"
    missing = describe_interpreter(str(tmp_path / "no-such-python"))
    assert not missing.usable and "cannot be started" in missing.summary()


def test_a_too_old_python_is_described_as_such():
    old = other_python("2.7") or other_python("3.8")
    if old is None:
        pytest.skip("no Python older than 3.9 here")
    info = describe_interpreter(old)
    assert info.problem == "too old (3.9 or newer needed)", info


def test_trying_the_objective_reports_the_exact_import_error_or_success(tmp_path):
    env = make_user_env(tmp_path)
    assert "imports" in try_objective(env.python, env.objective)
    with pytest.raises(PythonEnvironmentError, match=f"No module named '{HELPER_PACKAGE}'"):
        try_objective(None, env.objective)  # optgui's own Python lacks the helper package
    with pytest.raises(PythonEnvironmentError, match="no such interpreter"):
        try_objective(str(tmp_path / "gone" / "python"), env.objective)
    with pytest.raises(ObjectiveError, match="does not exist"):
        try_objective(env.python, str(tmp_path / "missing.py") + ":objective")


def test_the_check_before_a_run_names_a_change_of_interpreter(tmp_path):
    env = make_user_env(tmp_path)
    assert check_environment_for_run(env.python, None).change is None  # a new study: nothing recorded
    recorded = probe_environment(env.python).to_record()
    run = {"environment": recorded}
    same = check_environment_for_run(None, run)  # None: the recorded one
    assert same.change is None and same.environment is not None and same.environment.executable == env.python
    change = check_environment_for_run(sys.executable, run).change
    assert change is not None and env.python in change and sys.executable in change
    assert check_environment_for_run(env.python, {}).change is not None  # the study ran in optgui's own Python
