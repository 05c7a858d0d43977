"""The Python environment an objective runs in (`optgui run --python PATH`): finding out what it is, checking that
the objective imports there, and comparing it with the environment a study recorded.

Everything is asked of the interpreter through optgui's bridge script (optgui/resources/bridge/optgui_bridge.py,
standard library only), started with `-I`: the interpreter's own site-packages, nothing from the current folder or
PYTHONPATH. A missing interpreter, a Python older than 3.9 or an objective that does not import is one
PythonEnvironmentError (exit 3) before the run starts.

The run record keeps the environment (`PythonEnvironment.to_record`): interpreter path, Python and Optuna versions
and a sha256 of its installed distributions' names and versions. On a rerun another interpreter, or the same one
whose packages changed, is refused unless the user accepts the change (`--accept-environment-change`), which the
new segment records; the environment affects the objective's values, not the sampler's suggestions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optgui.core.errors import ObjectiveError, OptguiError

MINIMUM_PYTHON = (3, 9)
_PROBE_TIMEOUT = 60.0  # a first start of a conda Python on a cold disk takes seconds


class PythonEnvironmentError(OptguiError):
    """The chosen interpreter cannot run the objective (missing, too old, or the objective does not import)."""


def bridge_script() -> Path:
    """The bridge script shipped as package data (also in the standalone build)."""
    import optgui.resources

    return Path(optgui.resources.__file__).resolve().parent / "bridge" / "optgui_bridge.py"


def bridge_command(python: str, *args: str) -> list[str]:
    """`python -I -u optgui_bridge.py args`: unbuffered, isolated from the current folder and PYTHON* variables."""
    return [python, "-I", "-u", str(bridge_script()), *args]


def interpreter_path(python: str) -> str:
    """The absolute path of `python` (a path, or a name found on PATH), not resolved through symlinks: a venv's
    python is a symlink to the base interpreter, and only the venv's path selects the venv's packages."""
    import shutil

    candidate = Path(python).expanduser()
    if os.sep in python or (os.altsep and os.altsep in python) or candidate.exists():
        path = candidate.absolute()
        if not path.exists():
            raise PythonEnvironmentError(f"--python {python}: no such interpreter")
        if path.is_dir() or not os.access(path, os.X_OK):
            raise PythonEnvironmentError(f"--python {python}: not an executable Python interpreter")
        return str(path)
    found = shutil.which(python)
    if found is None:
        raise PythonEnvironmentError(f"--python {python}: no such interpreter on PATH")
    return str(Path(found).absolute())


@dataclass(frozen=True)
class PythonEnvironment:
    """What the run record keeps of the objective's interpreter."""

    executable: str
    python: str
    optuna: str | None
    distributions: int
    distributions_sha256: str

    def to_record(self) -> dict[str, Any]:
        return {
            "executable": self.executable,
            "python": self.python,
            "optuna": self.optuna,
            "distributions": self.distributions,
            "distributions_sha256": self.distributions_sha256,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PythonEnvironment:
        return cls(
            str(record["executable"]),
            str(record.get("python") or ""),
            record.get("optuna"),
            int(record.get("distributions") or 0),
            str(record.get("distributions_sha256") or ""),
        )

    def describe(self) -> str:
        optuna = f"optuna {self.optuna}" if self.optuna else "no optuna"
        return f"{self.executable} (Python {self.python}, {optuna}, {self.distributions} distributions)"


def _run_interpreter(command: list[str], what: str, python: str) -> str:
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=_PROBE_TIMEOUT, stdin=subprocess.DEVNULL, env=_clean_env()
        )
    except FileNotFoundError:
        raise PythonEnvironmentError(f"--python {python}: no such interpreter") from None
    except PermissionError:
        raise PythonEnvironmentError(f"--python {python}: not an executable Python interpreter") from None
    except OSError as exc:
        raise PythonEnvironmentError(f"--python {python}: cannot be started ({exc.strerror or exc})") from None
    except subprocess.TimeoutExpired:
        raise PythonEnvironmentError(f"--python {python}: {what} took more than {_PROBE_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        raise PythonEnvironmentError(
            f"--python {python}: {what} failed (exit {proc.returncode}){': ' + tail[-1] if tail else ''}"
        )
    return proc.stdout


def _clean_env() -> dict[str, str]:
    """Our environment without PYTHON* variables (`-I` ignores them anyway; PYTHONHOME would break another Python)."""
    return {key: value for key, value in os.environ.items() if not key.upper().startswith("PYTHON")}


def _check_version(python: str) -> None:
    # Works on any Python (2.7 too), so a too-old interpreter gets this message, not a syntax error from the bridge.
    out = _run_interpreter(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], "asking its version", python
    )
    try:
        version = tuple(int(part) for part in out.strip().split("."))
    except ValueError:
        raise PythonEnvironmentError(f"--python {python}: does not look like a Python interpreter") from None
    if version < MINIMUM_PYTHON:
        raise PythonEnvironmentError(
            f"--python {python} is Python {'.'.join(map(str, version))}; the objective's Python must be "
            f"{'.'.join(map(str, MINIMUM_PYTHON))} or newer"
        )


def _json_answer(out: str, python: str, what: str) -> dict[str, Any]:
    try:
        answer = json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise PythonEnvironmentError(f"--python {python}: {what} gave no answer") from None
    if not isinstance(answer, dict):
        raise PythonEnvironmentError(f"--python {python}: {what} gave no answer")
    return answer


def _ask_bridge(python: str, args: list[str], what: str) -> dict[str, Any]:
    """Run the bridge script with `args` and read its one JSON line."""
    return _json_answer(_run_interpreter(bridge_command(python, *args), what, python), python, what)


def probe_environment(python: str) -> PythonEnvironment:
    """The interpreter's path, versions and distributions digest; PythonEnvironmentError if it cannot serve."""
    path = interpreter_path(python)
    _check_version(path)
    answer = _ask_bridge(path, ["probe"], "the probe")
    return PythonEnvironment(
        path,
        str(answer["python"]),
        answer.get("optuna"),
        int(answer["distributions"]),
        str(answer["distributions_sha256"]),
    )


def check_objective(python: str, objective_ref: str, import_root: str | None) -> str:
    """Import the objective in that interpreter; its one-line error as a PythonEnvironmentError."""
    args = ["check", "--objective", objective_ref] + (["--import-root", import_root] if import_root else [])
    answer = _json_answer(
        _run_interpreter(bridge_command(python, *args), "the objective check", python), python, "the objective check"
    )
    if not answer.get("ok"):
        raise PythonEnvironmentError(f"{answer.get('message')} (in {python})")
    return str(answer.get("message"))


def locate_module(python: str, module: str, import_root: str | None) -> str | None:
    """The file of a module objective as that interpreter finds it (None: built-in or namespace); ObjectiveError
    when it is not there."""
    args = ["locate", "--module", module] + (["--import-root", import_root] if import_root else [])
    answer = _json_answer(
        _run_interpreter(bridge_command(python, *args), "finding the module", python), python, "finding the module"
    )
    if not answer.get("found"):
        raise ObjectiveError(f"objective module {module!r} cannot be found by {python}")
    origin = answer.get("origin")
    return str(origin) if origin else None


def own_interpreter() -> str:
    """optgui's own interpreter, the default (None in a request)."""
    return sys.executable


def environment_change(
    recorded: dict[str, Any] | None, current: PythonEnvironment | None, *, accept_change: bool
) -> dict[str, Any] | None:
    """The change note for the new segment, or None when the environment is the recorded one. A different
    interpreter or changed packages are refused (PythonEnvironmentError naming both) unless accept_change.

    None on either side means optgui's own interpreter (the objective ran in-process)."""
    if recorded is None and current is None:
        return None
    before = PythonEnvironment.from_record(recorded) if recorded else None
    if before is not None and current is not None and before == current:
        return None
    if not accept_change:
        raise PythonEnvironmentError(
            f"{describe_change(before, current)}; rerun with --accept-environment-change to continue anyway (recorded)"
        )
    return {
        "environment_changed": {
            "recorded": before.to_record() if before else None,
            "now": current.to_record() if current else None,
        }
    }


def describe_change(before: PythonEnvironment | None, current: PythonEnvironment | None) -> str:
    """How the objective's environment differs from the recorded one, naming both (None: optgui's own)."""
    recorded_text = before.describe() if before else "optgui's own interpreter"
    current_text = current.describe() if current else "optgui's own interpreter"
    same_path = before is not None and current is not None and before.executable == current.executable
    what = "its installed packages changed" if same_path else "a different Python"
    return (
        f"the objective's environment differs from the recorded one ({what}): recorded {recorded_text}, "
        f"now {current_text}"
    )


@dataclass(frozen=True)
class EnvironmentCheck:
    """What a run in an interpreter would meet, asked before it starts (the GUI's Start)."""

    environment: PythonEnvironment | None  # the interpreter the objective would run in (None: optgui's own)
    change: str | None  # how it differs from the one the study recorded (describe_change); None: no difference


def check_environment_for_run(
    python: str | None, run: dict[str, Any] | None, segments: tuple[dict[str, Any], ...] = ()
) -> EnvironmentCheck:
    """Probe the interpreter a run would use (`python`, else the one the study recorded) and compare it with the
    recorded one as the engine will; PythonEnvironmentError when it cannot serve (missing, too old). A study
    without a run record (`run` None) has nothing to differ from."""
    recorded = recorded_environment(run, segments) if run is not None else None
    chosen = python or (recorded or {}).get("executable")
    environment = probe_environment(chosen) if chosen else None
    if run is None:
        return EnvironmentCheck(environment, None)
    before = PythonEnvironment.from_record(recorded) if recorded else None
    if before == environment:
        return EnvironmentCheck(environment, None)
    return EnvironmentCheck(environment, describe_change(before, environment))


def recorded_environment(run: dict[str, Any], segments: tuple[dict[str, Any], ...]) -> dict[str, Any] | None:
    """The environment the study's objective last ran in: the run record's, unless a later segment accepted a
    change (its `now`; None: optgui's own interpreter)."""
    environment = run.get("environment")
    for segment in segments:
        change = (segment.get("accepted") or {}).get("environment_changed")
        if isinstance(change, dict):
            environment = change.get("now")
    return environment if isinstance(environment, dict) else None


@dataclass(frozen=True)
class InterpreterCandidate:
    """An interpreter the run definition's "Python" field offers (probe_environment tells its versions)."""

    path: str
    source: str  # "project venv", "conda", "pyenv", "PATH"


@dataclass(frozen=True)
class InterpreterInfo:
    """A candidate's Python and Optuna versions, or why it cannot serve (describe_interpreter)."""

    path: str
    source: str
    python: str | None = None  # "3.11.4"
    optuna: str | None = None  # its Optuna's version; None: no Optuna installed there
    problem: str | None = None  # "too old (3.9+ needed)", "cannot be started", ...

    @property
    def usable(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        """E.g. "Python 3.11.4 · optuna 4.1.0", "Python 3.12.1 · no optuna", or the problem."""
        if self.problem is not None:
            return f"Python {self.python} · {self.problem}" if self.python else self.problem
        return f"Python {self.python} · " + (f"optuna {self.optuna}" if self.optuna else "no optuna")


# Runs on any Python (2.7 too: a too-old one is reported, not a syntax error); reads Optuna's version from its
# installed metadata without importing it.
_DESCRIBE = """
import json, sys
optuna = None
try:
    from importlib import metadata
    try:
        optuna = metadata.version("optuna")
    except Exception:
        optuna = None
except Exception:
    pass
print(json.dumps({"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "optuna": optuna}))
"""
DESCRIBE_TIMEOUT = 10.0


def _describe_run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=_clean_env(),
        cwd=os.path.abspath(os.sep),
    )


def describe_interpreter(path: str, source: str = "", timeout: float = DESCRIBE_TIMEOUT) -> InterpreterInfo:
    """Ask the interpreter (a child process in isolated mode, `-I`, at most `timeout` seconds) for its Python and
    Optuna versions. Never raises: what goes wrong is the answer's `problem`. (A Python older than 3.4 has no
    `-I`: it is asked again with `-E -s` from the file system's root, for its version.)"""
    try:
        proc = _describe_run([path, "-I", "-c", _DESCRIBE], timeout)
        if proc.returncode != 0 and not proc.stdout.strip():
            proc = _describe_run([path, "-E", "-s", "-c", _DESCRIBE], timeout)
    except subprocess.TimeoutExpired:
        return InterpreterInfo(path, source, problem=f"did not answer within {timeout:.0f} s")
    except OSError as exc:
        return InterpreterInfo(path, source, problem=f"cannot be started ({exc.strerror or exc})")
    try:
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
        python = str(answer["python"])
        version = tuple(int(part) for part in python.split(".")[:2])
    except (IndexError, KeyError, TypeError, ValueError):
        return InterpreterInfo(path, source, problem="does not look like a Python interpreter")
    if version < MINIMUM_PYTHON:
        needed = ".".join(map(str, MINIMUM_PYTHON))
        return InterpreterInfo(path, source, python, problem=f"too old ({needed} or newer needed)")
    optuna = answer.get("optuna")
    return InterpreterInfo(path, source, python, str(optuna) if optuna else None)


_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_VENV_NAMES = (".venv", "venv")


def _venv_python(folder: Path) -> Path | None:
    for relative in ("bin/python", "Scripts/python.exe"):
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def _project_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return folder
    return None


def _conda_pythons() -> list[Path]:
    import shutil

    conda = shutil.which("conda") or shutil.which("mamba")
    if conda is None:
        return []
    try:
        out = subprocess.run([conda, "env", "list", "--json"], capture_output=True, text=True, timeout=20).stdout
        prefixes = json.loads(out).get("envs", [])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return []
    found = [_venv_python(Path(p)) or Path(p) / "python.exe" for p in prefixes]
    return [p for p in found if p.is_file()]


def _pyenv_pythons() -> list[Path]:
    import shutil

    if shutil.which("pyenv") is None:
        return []
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return []
    versions = Path(root) / "versions" if root else None
    if versions is None or not versions.is_dir():
        return []
    return [p for p in (_venv_python(v) for v in sorted(versions.iterdir())) if p is not None]


def _path_pythons() -> list[Path]:
    found = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for name in ("python3", "python", "python.exe"):
            candidate = Path(folder) / name
            if folder and candidate.is_file() and os.access(candidate, os.X_OK):
                found.append(candidate)
    return found


def find_interpreters(objective_file: str | None = None) -> list[InterpreterCandidate]:
    """Interpreters a user likely means, most likely first: a `.venv`/`venv` beside the objective file or in its
    project root (the nearest folder above it with pyproject.toml, setup.py, setup.cfg or .git), conda's
    environments, pyenv's versions, Pythons on PATH. Without running any of them (probe_environment does that)."""
    groups: list[tuple[str, list[Path]]] = []
    if objective_file:
        folder = Path(objective_file).expanduser().absolute().parent
        roots = [folder] + [r for r in [_project_root(folder)] if r is not None and r != folder]
        venvs = [_venv_python(root / name) for root in roots for name in _VENV_NAMES]
        groups.append(("project venv", [p for p in venvs if p is not None]))
    groups += [("conda", _conda_pythons()), ("pyenv", _pyenv_pythons()), ("PATH", _path_pythons())]
    seen: set[str] = set()
    candidates = []
    for source, paths in groups:
        for path in paths:
            key = os.path.normcase(str(path.absolute()))
            if key not in seen:
                seen.add(key)
                candidates.append(InterpreterCandidate(str(path.absolute()), source))
    return candidates
