"""The bridge script is what the user's environment runs: standard library only, Python 3.9 syntax, and a trial
surface that covers every public attribute of Optuna's Trial."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import optuna
import pytest

from optgui.core.engine import _bridge as engine_side
from optgui.core.engine._python_env import bridge_script, probe_environment
from tests.support.user_env import other_python

SCRIPT = bridge_script()


def _tree() -> ast.Module:
    return ast.parse(SCRIPT.read_text(), filename=str(SCRIPT))


def test_script_parses_as_python_3_9():
    ast.parse(SCRIPT.read_text(), feature_version=(3, 9))


def test_script_uses_nothing_newer_than_python_3_9():
    tree = _tree()
    annotations = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in [*node.args.args, *node.args.kwonlyargs, node.args.vararg, node.args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    annotations.update(id(n) for n in ast.walk(arg.annotation))
            if node.returns is not None:
                annotations.update(id(n) for n in ast.walk(node.returns))
        if isinstance(node, ast.AnnAssign):
            annotations.update(id(n) for n in ast.walk(node.annotation))
    for node in ast.walk(tree):
        assert not isinstance(node, ast.Match), f"match statement at line {node.lineno} (Python 3.10)"
        assert type(node).__name__ not in ("TryStar", "TypeAlias", "TypeVar"), f"{type(node).__name__} (3.11+)"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            assert id(node) not in annotations, f"X | Y annotation at line {node.lineno} (Python 3.10)"
        if isinstance(node, ast.With) and len(node.items) > 1:
            source = ast.get_source_segment(SCRIPT.read_text(), node) or ""
            assert not source.startswith("with ("), f"parenthesized context managers at line {node.lineno}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("aiter", "anext"), f"{node.func.id} (Python 3.10)"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert not (node.func.attr == "zip" and any(k.arg == "strict" for k in node.keywords))


def test_script_imports_only_the_standard_library():
    allowed_optional = {"optuna"}  # used when present, never required
    for node in ast.walk(_tree()):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top in allowed_optional, f"imports {name}"


def _script_names(name: str) -> tuple[str, ...]:
    for node in _tree().body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError(name)


def test_trial_surface_covers_optunas_trial():
    public = {name for name in dir(optuna.trial.Trial) if not name.startswith("_")}
    bridge = set(_script_names("_PROPERTIES")) | set(_script_names("_METHODS")) | {"study"}
    assert public <= bridge, public - bridge
    assert set(_script_names("_PROPERTIES")) == set(engine_side._TRIAL_PROPERTIES)
    assert set(_script_names("_METHODS")) == set(engine_side._TRIAL_METHODS)
    assert set(_script_names("_STUDY_PROPERTIES")) == set(engine_side._STUDY_PROPERTIES)


def test_probe_in_this_python():
    env = probe_environment(sys.executable)
    assert env.optuna == optuna.__version__
    assert env.python == "{}.{}.{}".format(*sys.version_info[:3])
    assert env.distributions > 10 and len(env.distributions_sha256) == 64


def test_script_runs_under_python_3_9_when_available():
    python39 = other_python("3.9")
    if python39 is None:
        pytest.skip("no Python 3.9 on this machine")
    proc = subprocess.run([python39, "-I", str(SCRIPT), "probe"], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["python"].startswith("3.9.")
