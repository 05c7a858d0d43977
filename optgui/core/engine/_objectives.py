"""Objective references (docs/cli.md) and loading them.

  path/to/file.py:function     split at the last colon; recorded as an absolute path plus a sha256 of the file
  package.module:function      imported by name; the module file's hash is recorded when it has one
  builtin:NAME / builtin:NAME(arg=value, ...)   optgui's built-ins, arguments parsed with ast.literal_eval
  path/to/file.py:search_space,evaluate (or package.module:search_space,evaluate)   an objective in two parts, for
                               deterministic parallel runs (optgui.core.engine._split_objective): search_space(trial)
                               only suggests, evaluate(trial) computes the value from the same trial (see
                               optgui.core.engine._split_objective)

A resume checks the file's hash against the record: a moved file may be re-pointed when its hash matches; a
changed file is refused unless the user accepts the change (which the new segment records).

Import root: the folder the objective's own imports (its sibling modules, its package) come from, recorded with the
reference (`import_root`, absent in older records). For a file it is the file's folder; for a module it is the
PYTHONPATH entry (or current folder) the module was found on when the user named it, or None for an installed
module. optgui's child processes import with an isolated path (optgui.core.engine._child_process): the one that runs the
objective adds exactly this folder, so nothing else from the user's folder or environment is importable there.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optgui.core.engine._builtin_objectives import BUILTINS
from optgui.core.engine._split_objective import SplitObjective
from optgui.core.errors import ObjectiveError


@dataclass(frozen=True)
class ObjectiveRef:
    kind: str  # "builtin" | "file" | "module"
    ref: str  # canonical text: builtin:NAME(...), /abs/path.py:func, pkg.mod:func
    path: str | None = None
    function: str | None = None
    sha256: str | None = None
    import_root: str | None = None

    def to_record(self) -> dict:
        record = {
            "kind": self.kind,
            "ref": self.ref,
            "path": self.path,
            "function": self.function,
            "sha256": self.sha256,
        }
        if self.import_root is not None:
            record["import_root"] = self.import_root
        return record

    @classmethod
    def from_record(cls, record: dict) -> ObjectiveRef:
        path = record.get("path")
        root = record.get("import_root")
        if root is None and record["kind"] == "file" and path:
            root = str(Path(path).parent)  # records from before import roots were recorded
        return cls(record["kind"], record["ref"], path, record.get("function"), record.get("sha256"), root)

    @property
    def file_path(self) -> Path:
        """The objective file of a "file" objective."""
        if self.path is None:
            raise ObjectiveError(f"objective {self.ref} names no file")
        return Path(self.path)

    @property
    def function_names(self) -> list[str]:
        """The function of a file or module objective, or its two (search_space, evaluate) of a split one."""
        if self.function is None:
            raise ObjectiveError(f"objective {self.ref} names no function")
        return self.function.split(",")

    @property
    def builtin_name(self) -> str | None:
        if self.kind != "builtin":
            return None
        return _parse_builtin(self.ref)[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _parse_builtin(text: str) -> tuple[str, dict]:
    body = text[len("builtin:") :].strip()
    try:
        node = ast.parse(body, mode="eval").body
    except SyntaxError as exc:
        raise ObjectiveError(f"cannot parse objective {text!r}: {exc.msg}") from None
    kwargs: dict[str, Any] = {}
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        name = node.func.id
        for kw in node.keywords:
            if kw.arg is None:
                raise ObjectiveError(f"objective {text!r}: **kwargs are not allowed; name each argument")
            try:
                kwargs[kw.arg] = ast.literal_eval(kw.value)
            except ValueError:
                raise ObjectiveError(f"objective {text!r}: argument {kw.arg} must be a literal") from None
    else:
        raise ObjectiveError(f"cannot parse objective {text!r}: expected builtin:NAME or builtin:NAME(arg=value)")
    if name not in BUILTINS:
        raise ObjectiveError(f"unknown built-in objective {name!r}; choose one of {', '.join(sorted(BUILTINS))}")
    return name, kwargs


def _user_chosen_paths() -> list[str]:
    """The entries of sys.path the user chose for this process: PYTHONPATH and the current folder."""
    import os

    chosen = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    chosen.append(os.getcwd())
    return [str(Path(p).absolute()) for p in chosen]


def _module_import_root(top_level: str, import_root: str | None) -> str | None:
    """The user-chosen folder the top-level package or module `top_level` is found in (None when installed)."""
    from importlib.machinery import PathFinder

    candidates = [import_root] if import_root else _user_chosen_paths()
    for folder in candidates:
        if PathFinder.find_spec(top_level, [folder]) is not None:
            return folder
    return None


def objective_import_root(text: str) -> str | None:
    """The import root parse_objective would record for `text`, found without importing or running anything (for
    a process that starts the objective's process but must not run user code itself); None when there is none."""
    text = text.strip()
    target, sep, _function = text.rpartition(":")
    if text.startswith("builtin:") or not sep or not target:
        return None
    if target.endswith(".py") or "/" in target or "\\" in target:
        return str(Path(target).expanduser().absolute().parent)
    top_level = target.split(".")[0]
    return _module_import_root(top_level, None) if top_level.isidentifier() else None


def parse_objective(text: str, *, import_root: str | None = None) -> ObjectiveRef:
    """Resolve what the user typed. Files must exist (their hash is taken now); modules are not imported yet.

    import_root: the folder a module objective was recorded with (searched first, as the objective's process
    will)."""
    text = text.strip()
    if text.startswith("builtin:"):
        name, kwargs = _parse_builtin(text)
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return ObjectiveRef("builtin", f"builtin:{name}({args})" if kwargs else f"builtin:{name}")
    target, sep, function = text.rpartition(":")
    if not sep or not target or not function:
        raise ObjectiveError(f"objective {text!r} must be FILE.py:FUNCTION, package.module:FUNCTION or builtin:NAME")
    if not all(part.isidentifier() for part in function.split(",")) or function.count(",") > 1:
        raise ObjectiveError(
            f"objective {text!r}: {function!r} is not a function name (or a pair search_space,evaluate)"
        )
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).expanduser().absolute()
        if not path.is_file():
            raise ObjectiveError(f"objective file {path} does not exist")
        return ObjectiveRef("file", f"{path}:{function}", str(path), function, _sha256(path), str(path.parent))
    if not all(part.isidentifier() for part in target.split(".")):
        raise ObjectiveError(f"objective {text!r}: {target!r} is neither a .py file nor a module name")
    sha = None
    root = _module_import_root(target.split(".")[0], import_root)
    with _import_root_on_path(root):
        spec = importlib.util.find_spec(target.split(".")[0])
        if spec is None:
            raise ObjectiveError(f"objective module {target!r} cannot be found (is it installed or on PYTHONPATH?)")
        try:
            full = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            full = None
    if full is not None and full.origin and Path(full.origin).is_file():
        sha = _sha256(Path(full.origin))
    return ObjectiveRef("module", f"{target}:{function}", full.origin if full else None, function, sha, root)


class _import_root_on_path:
    """sys.path with the objective's import root first, for the duration of a with block (nothing when None)."""

    def __init__(self, root: str | None):
        self.root = root

    def __enter__(self):
        if self.root:
            sys.path.insert(0, self.root)

    def __exit__(self, *exc_info):
        if self.root:
            try:
                sys.path.remove(self.root)
            except ValueError:
                pass


def load_objective(ref: ObjectiveRef) -> Callable:
    """Import (or build) the objective. Raises ObjectiveError with a specific message on every failure."""
    if ref.kind == "builtin":
        name, kwargs = _parse_builtin(ref.ref)
        try:
            return BUILTINS[name](**kwargs)
        except TypeError as exc:
            raise ObjectiveError(f"objective {ref.ref}: {exc}") from None
    if ref.kind == "file":
        path = ref.file_path
        if not path.is_file():
            raise ObjectiveError(f"objective file {path} does not exist")
        module_name = f"optgui_objective_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:  # a name Python does not import as source (not *.py)
            raise ObjectiveError(f"objective file {path} cannot be imported as a Python module")
        loader = spec.loader
        module = importlib.util.module_from_spec(spec)
        try:
            # The import root (the file's folder unless recorded otherwise) lets it import its sibling modules.
            with _import_root_on_path(ref.import_root or str(path.parent)):
                loader.exec_module(module)
        except SyntaxError as exc:
            raise ObjectiveError(f"objective file {path} has a syntax error at line {exc.lineno}: {exc.msg}") from None
        except Exception as exc:  # noqa: BLE001 - any import-time failure of user code
            raise ObjectiveError(f"importing objective file {path} failed: {exc.__class__.__name__}: {exc}") from None
        sys.modules[module_name] = module
    else:
        module_name = ref.ref.rpartition(":")[0]
        try:
            with _import_root_on_path(ref.import_root):
                module = importlib.import_module(module_name)
        except SyntaxError as exc:
            raise ObjectiveError(
                f"objective module {module_name} has a syntax error at line {exc.lineno}: {exc.msg}"
            ) from None
        except Exception as exc:  # noqa: BLE001
            raise ObjectiveError(
                f"importing objective module {module_name} failed: {exc.__class__.__name__}: {exc}"
            ) from None
    funcs = []
    for name in ref.function_names:
        func = getattr(module, name, None)
        if func is None:
            raise ObjectiveError(f"objective {ref.ref}: no function {name!r} in {ref.path or module_name}")
        if not callable(func):
            raise ObjectiveError(f"objective {ref.ref}: {name!r} is not callable")
        funcs.append(func)
    if len(funcs) == 2:
        return SplitObjective(*funcs)
    return funcs[0]


def check_against_record(
    given: ObjectiveRef | None, recorded: dict, *, accept_change: bool
) -> tuple[ObjectiveRef, dict | None]:
    """Pick the objective for a resume and say what changed.

    Returns (objective to use, change note or None). A recorded file that moved can be re-pointed with a file of
    the same hash; a file whose content changed is refused unless accept_change.
    """
    rec = ObjectiveRef.from_record(recorded)
    if given is None:
        if rec.kind == "file":
            path = rec.file_path
            if not path.is_file():
                raise ObjectiveError(
                    f"the recorded objective file {path} no longer exists; pass --objective "
                    "NEWPATH.py:"
                    f"{rec.function} to re-point it (its content must be unchanged)"
                )
            current = ObjectiveRef("file", rec.ref, rec.path, rec.function, _sha256(path), rec.import_root)
        elif rec.kind == "module":
            current = parse_objective(rec.ref, import_root=rec.import_root)
        else:
            return rec, None
    else:
        current = given
        if current.kind != rec.kind or (rec.kind == "builtin" and current.ref != rec.ref):
            raise ObjectiveError(f"--objective {current.ref} differs from the study's recorded objective {rec.ref}")
        if current.function != rec.function:
            raise ObjectiveError(
                f"--objective {current.ref} names function {current.function!r}, but the study "
                f"was run with {rec.function!r} ({rec.ref})"
            )
    if rec.sha256 is not None and current.sha256 != rec.sha256:
        if not accept_change:
            raise ObjectiveError(
                f"objective {current.path or current.ref} changed since the run started "
                f"(sha256 {rec.sha256[:12]}… recorded, {str(current.sha256)[:12]}… now); "
                "rerun with --accept-objective-change to continue anyway (recorded)"
            )
        return current, {"objective_changed": {"recorded": rec.sha256, "now": current.sha256}}
    if current.path != rec.path:
        return current, {"objective_moved": {"recorded": rec.path, "now": current.path}}
    return current, None
