"""A user's own Python environment for the bridge tests: a venv (made without pip, so it holds no optgui, no
Optuna, nothing) with a small local package on its path that optgui's environment lacks, and objective files that
import it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

HELPER_PACKAGE = "optgui_test_helper_pkg"

OBJECTIVE = f"""
import {HELPER_PACKAGE}


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    n = trial.suggest_int("n", 1, 8, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    print("evaluating", trial.number)
    value = {HELPER_PACKAGE}.shifted(x) ** 2 + n + {{"a": 0.0, "b": 0.5, "c": 1.0}}[kind]
    for step in range(3):
        trial.report(value + step, step)
    trial.set_user_attr("kind_seen", kind)
    if trial.number % 7 == 6:
        raise ValueError("seventh trial fails on purpose")
    return value
"""


@dataclass(frozen=True)
class UserEnv:
    python: str  # the venv's interpreter
    libs: Path  # the folder holding the helper package (on the venv's path through a .pth file)
    objective_file: Path

    @property
    def objective(self) -> str:
        return f"{self.objective_file}:objective"


def site_packages(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Lib" / "site-packages"
    return next((venv / "lib").glob("python3*/site-packages"))


def make_user_env(root: Path, objective_source: str = OBJECTIVE, base_python: str = sys.executable) -> UserEnv:
    """A venv under root with the helper package on its path, and an objective file importing it."""
    venv = root / "user-venv"
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    libs = root / "libs"
    (libs / HELPER_PACKAGE).mkdir(parents=True)
    (libs / HELPER_PACKAGE / "__init__.py").write_text("def shifted(x):\n    return x - 2.0\n")
    (site_packages(venv) / "helper.pth").write_text(str(libs) + "\n")
    project = root / "project"
    project.mkdir()
    objective_file = project / "train.py"
    objective_file.write_text(textwrap.dedent(objective_source))
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return UserEnv(str(python), libs, objective_file)


_REFERENCE = """
import importlib.util, json, sys, warnings
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.simplefilter("ignore")
spec = importlib.util.spec_from_file_location("user_objective", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=int(sys.argv[3])))
study.optimize(module.objective, n_trials=int(sys.argv[2]), catch=(Exception,))
print(json.dumps([[t.number, t.state.name, t.params, t.values] for t in study.trials]))
"""


def plain_optuna_trials(env: UserEnv, n_trials: int, seed: int) -> list[list]:
    """The same objective run by plain Optuna in a process that has the helper package (optgui's Python with the
    package's folder on PYTHONPATH): [number, state, params, values] per trial."""
    proc = subprocess.run(
        [sys.executable, "-c", _REFERENCE, str(env.objective_file), str(n_trials), str(seed)],
        env={**os.environ, "PYTHONPATH": str(env.libs)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stored_trials(storage: Path, study: str) -> list[list]:
    """[number, state, params, values] of a study's finished trials, as plain Optuna reads them."""
    import optuna

    loaded = optuna.load_study(study_name=study, storage=f"sqlite:///{storage}")
    return [[t.number, t.state.name, t.params, t.values] for t in loaded.trials if t.state.is_finished()]


def run_optgui(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`optgui ARGS` in optgui's own interpreter, from a neutral folder."""
    return subprocess.run(
        [sys.executable, "-m", "optgui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def other_python(version: str) -> str | None:
    """A working interpreter of Python `version` ("3.9"): on PATH, or one of pyenv's versions; None if there is none."""
    candidates = [f"python{version}"]
    pyenv = subprocess.run(["pyenv", "root"], capture_output=True, text=True) if _has("pyenv") else None
    if pyenv is not None and pyenv.returncode == 0:
        root = Path(pyenv.stdout.strip()) / "versions"
        candidates += [str(p / "bin" / "python") for p in sorted(root.glob(f"{version}.*"))]
    for candidate in candidates:
        try:
            proc = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version[:4])"],
                capture_output=True,
                text=True,
                env={k: v for k, v in os.environ.items() if k != "PYENV_VERSION"},
            )
        except OSError:
            continue
        if proc.returncode == 0 and proc.stdout.strip().startswith(version):
            return candidate
    return None


def _has(program: str) -> bool:
    import shutil

    return shutil.which(program) is not None
