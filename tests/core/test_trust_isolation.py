"""Nothing in the current folder or on PYTHONPATH runs in the processes optgui starts (issue 16, Major 3).

Modules named like optgui's own imports (numpy, optuna, multiprocessing, an `optgui` package, sitecustomize) are
planted in the current folder and in a folder on PYTHONPATH. Each writes its process id to a marker file and then
hands over to the real module, so a process that imports one keeps working: the test then sees exactly which
processes imported planted code. The command the user typed may import from the PYTHONPATH the user set (it is
their own process); every child optgui starts must not. Objectives in another folder still import their sibling
modules: the objective's folder is its recorded import root.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest

from optgui.core.engine._engine_process import EngineProcess
from optgui.core.engine._runner import RunRequest
from optgui.core.records import StudyMetadata
from optgui.core.storage._study_read import read_study
from tests.support.determinism import STUDY
from tests.support.verify import run_in_process

OPTGUI = str(Path(sys.executable).parent / "optgui")  # the console script a user runs

# Shadows the real module of the same name after leaving a trace: `_root` is the folder it was planted in.
SHADOW = textwrap.dedent("""
    import importlib, os, sys
    with open({marker!r}, "a") as _f:
        _f.write(f"{{__name__}} {{os.getpid()}}\\n")
    _root = {root!r}
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.getcwd()) != _root]
    del sys.modules[__name__]
    sys.modules[__name__] = importlib.import_module(__name__)
""")
SITECUSTOMIZE = 'import os\nwith open({marker!r}, "a") as _f:\n    _f.write(f"sitecustomize {{os.getpid()}}\\n")\n'


def plant(folder: Path, marker: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    root = str(folder.resolve())
    for name in ("numpy", "optuna", "multiprocessing", "sqlalchemy"):
        (folder / f"{name}.py").write_text(SHADOW.format(marker=str(marker), root=root))
    (folder / "optgui").mkdir(exist_ok=True)
    (folder / "optgui" / "__init__.py").write_text(SHADOW.format(marker=str(marker), root=root))
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(marker=str(marker)))
    return folder


def traces(marker: Path, allowed_pids=()) -> list[str]:
    """Planted modules imported by processes other than the allowed ones."""
    if not marker.exists():
        return []
    lines = marker.read_text().splitlines()
    return [line for line in lines if int(line.split()[1]) not in set(allowed_pids)]


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """The current folder and PYTHONPATH full of planted modules; returns (cwd, pythonpath folder, marker)."""
    marker = tmp_path / "marker.txt"
    here = plant(tmp_path / "here", marker)
    on_path = plant(tmp_path / "on_path", marker)
    monkeypatch.chdir(here)
    monkeypatch.setenv("PYTHONPATH", str(on_path))
    monkeypatch.setenv("OPTGUI_CACHE_DIR", str(tmp_path / "cache"))
    return here, on_path, marker


def project_objective(folder: Path) -> Path:
    """An objective file that imports a module beside it (its folder is not the current one)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shapes_helper.py").write_text("def bowl(x, y):\n    return (x - 1.0) ** 2 + (y + 0.5) ** 2\n")
    path = folder / "objective.py"
    path.write_text(
        textwrap.dedent("""
            from shapes_helper import bowl

            def objective(trial):
                return bowl(trial.suggest_float("x", -3, 3), trial.suggest_float("y", -3, 3))

            def search_space(trial):
                trial.suggest_float("x", -3, 3)
                trial.suggest_float("y", -3, 3)

            def evaluate(trial):
                return objective(trial)
        """)
    )
    return path


def cli(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [OPTGUI, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )


def finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def completed_values(path: Path) -> list[float]:
    return [t.value for t in read_study(str(path), STUDY).trials if t.state == optuna.trial.TrialState.COMPLETE]


def test_verify_from_a_folder_with_planted_modules_runs_none_of_them(tmp_path, planted):
    here, _, marker = planted
    study = here / "study.db"
    run_in_process(study, "RandomSampler(seed=3)", "builtin:quadratic", 4)
    assert not traces(marker, [os.getpid()])  # this test process had imported everything before planting
    proc = cli("verify", "study.db", "--no-cache", cwd=here)
    code, out, err = finish(proc)
    assert code == 0, err
    assert "verified" in out.lower()
    # The user's own command may import from the PYTHONPATH the user set; the verifier child imports nothing
    # planted, neither from the current folder nor from PYTHONPATH.
    assert traces(marker, [proc.pid]) == []


def test_engine_and_objective_processes_import_nothing_planted_and_the_objective_finds_its_siblings(tmp_path, planted):
    here, _, marker = planted
    objective = project_objective(tmp_path / "project")
    ref = f"{objective}:objective"
    request = RunRequest(
        storage=str(tmp_path / "e.db"), study_name=STUDY, objective=ref, sampler="RandomSampler(seed=5)", n_trials=3
    )
    engine = EngineProcess(request, ref).start()
    ending, deadline = None, time.monotonic() + 180
    while ending is None and time.monotonic() < deadline:
        for message in engine.receive(0.2):
            if message[0] == "ended":
                ending = message[1:]
    engine.join(30)
    assert ending is not None and ending[0] == "outcome", ending
    assert ending[1].n_finished == 3
    assert len(completed_values(tmp_path / "e.db")) == 3  # the objective imported shapes_helper beside it
    assert traces(marker, [os.getpid()]) == []
    attrs = read_study(str(tmp_path / "e.db"), STUDY).system_attrs
    record = StudyMetadata.from_system_attrs(attrs).run["objective"]
    assert record["import_root"] == str(objective.parent)


def test_objective_check_imports_only_the_objectives_folder_and_says_what_it_runs(tmp_path, planted):
    from optgui.core.verify._objective_check import run_objective_check

    here, _, marker = planted
    objective = project_objective(tmp_path / "project")
    study = tmp_path / "c.db"
    run_in_process(study, "RandomSampler(seed=2)", f"{objective}:objective", 4)
    announced: list[dict] = []
    check = run_objective_check(str(study), STUDY, 2, announce=announced.append)
    assert check.ok and len(check.trials) == 2
    assert announced == [
        {"objective": f"{objective}:objective", "file": str(objective), "import_root": str(objective.parent)}
    ]
    assert traces(marker, [os.getpid()]) == []


def test_verify_objective_check_prints_the_file_it_executes(tmp_path, planted):
    here, _, _ = planted
    objective = project_objective(tmp_path / "project")
    run_in_process(here / "s.db", "RandomSampler(seed=2)", f"{objective}:objective", 3)
    code, out, err = finish(cli("verify", "s.db", "--no-cache", "--objective-check", "1", cwd=here))
    assert code == 0, err
    assert f"optgui: objective check: running {objective} " in err


def test_fleet_workers_import_nothing_planted(tmp_path, planted):
    here, _, marker = planted
    objective = project_objective(tmp_path / "project")
    proc = cli(
        "run",
        "fleet.log",
        "--study",
        STUDY,
        "--objective",
        f"{objective}:search_space,evaluate",
        "--sampler",
        "RandomSampler(seed=4)",
        "--n-trials",
        "4",
        "--workers",
        "2",
        "--mode",
        "deterministic",
        "--batch",
        "2",
        "--quiet",
        cwd=here,
    )
    code, _, err = finish(proc, timeout=300)
    assert code == 0, err
    assert len(completed_values(here / "fleet.log")) == 4  # the workers found shapes_helper beside the objective
    assert traces(marker, [proc.pid]) == []


def test_child_commands_are_isolated_from_the_environment(monkeypatch):
    from optgui.core.engine._child_process import isolated_environment, python_command
    from optgui.core.verify._process import child_environment

    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("PYTHONSTARTUP", "/somewhere/start.py")
    env = child_environment({"PYTHONPATH": "/elsewhere", "OPTGUI_FAULT": "x"})
    assert not [k for k in env if k.startswith("PYTHON") and k != "PYTHONHASHSEED"]
    assert env["OPTGUI_FAULT"] == "x" and env["PYTHONHASHSEED"] != os.environ.get("PYTHONHASHSEED")
    assert "PYTHONPATH" not in isolated_environment()
    command = python_command("optgui.core.verify._process", "s.db")
    assert command[0] == sys.executable and "-P" in command
    assert command[command.index("-m") + 1 :] == ["optgui.core.verify._process", "s.db"]


def test_frozen_launcher_keeps_only_the_bundle_on_the_path(tmp_path):
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("optgui_launcher", root / "packaging" / "pyinstaller" / "launcher.py")
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    bundle = tmp_path / "dist" / "optgui" / "_internal"
    (bundle / "base_library.zip").parent.mkdir(parents=True)
    path = ["", str(tmp_path), str(bundle / "base_library.zip"), str(bundle), "/usr/lib/python3/dist-packages"]
    sys_meipass = getattr(sys, "_MEIPASS", None)
    try:
        sys._MEIPASS = str(bundle)
        assert launcher.bundle_only_path(path) == [str(bundle / "base_library.zip"), str(bundle)]
    finally:
        if sys_meipass is None:
            del sys._MEIPASS
        else:
            sys._MEIPASS = sys_meipass


def test_a_module_objective_on_the_users_pythonpath_runs_in_the_engine_with_that_root_recorded(
    tmp_path, planted, monkeypatch
):
    here, on_path, marker = planted
    project = tmp_path / "lab"
    project_objective(project / "labobjectives")
    (project / "labobjectives" / "__init__.py").write_text("")
    # The user's PYTHONPATH names the project first; the planted folder stays on it too.
    monkeypatch.setenv("PYTHONPATH", f"{project}{os.pathsep}{on_path}")
    (project / "labobjectives" / "objective.py").write_text(
        (project / "labobjectives" / "objective.py").read_text().replace("from shapes_helper", "from .shapes_helper")
    )
    ref = "labobjectives.objective:objective"
    request = RunRequest(
        storage=str(tmp_path / "m.db"), study_name=STUDY, objective=ref, sampler="RandomSampler(seed=6)", n_trials=2
    )
    engine = EngineProcess(request, ref).start()
    ending, deadline = None, time.monotonic() + 180
    while ending is None and time.monotonic() < deadline:
        for message in engine.receive(0.2):
            if message[0] == "ended":
                ending = message[1:]
    engine.join(30)
    assert ending is not None and ending[0] == "outcome", ending
    assert len(completed_values(tmp_path / "m.db")) == 2
    record = StudyMetadata.from_system_attrs(read_study(str(tmp_path / "m.db"), STUDY).system_attrs).run["objective"]
    assert record["kind"] == "module" and record["import_root"] == str(project)
    assert traces(marker, [os.getpid()]) == []


def test_frozen_launcher_runs_fleet_workers_as_optgui_not_as_a_second_window(monkeypatch):
    """Fleet workers start as `optgui -m optgui worker ...`; frozen, that must run the CLI, not open the GUI."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("optgui_launcher", root / "packaging" / "pyinstaller" / "launcher.py")
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    ran = []
    monkeypatch.setattr(launcher.runpy, "run_module", lambda name, **kw: ran.append((name, list(sys.argv))))
    monkeypatch.setattr(sys, "argv", ["/dist/optgui", "-m", "optgui", "worker", "s.log", "--study", "x"])
    assert launcher.main() == 0
    assert ran == [("optgui", ["/dist/optgui", "worker", "s.log", "--study", "x"])]
