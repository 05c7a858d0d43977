"""The interpreters the run definition's "Python" field offers: the project's venv first, then conda, pyenv and
PATH; each can be probed for its Python and Optuna versions."""

from __future__ import annotations

from optgui.core.engine import find_interpreters, probe_environment
from tests.support.user_env import make_user_env


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
