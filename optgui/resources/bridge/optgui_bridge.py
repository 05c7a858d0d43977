"""optgui's bridge: runs the user's objective in the user's own Python, for optgui's engine.

This one file is all that the user's environment sees of optgui. It imports nothing but the standard library and
is written for Python 3.9+ (tests/core/test_bridge_script.py checks both), so any interpreter the user picks (a
venv, a conda environment, a pyenv version, the system Python) can run it, whatever packages it holds.

The engine starts it as

    PYTHON -I -u optgui_bridge.py serve  --connection FD --objective REF [--import-root DIR]
    PYTHON -I -u optgui_bridge.py check  --objective REF [--import-root DIR]   (imports the objective, prints JSON)
    PYTHON -I -u optgui_bridge.py probe                                          (prints the environment as JSON)

`-I` keeps the current folder, PYTHONPATH and the user site-packages out of sys.path; the one folder the objective's
imports need (a file objective's folder, or the folder a module objective was found in) is put first on sys.path
explicitly with --import-root.

The sampler, the storage and every decision stay in the engine. The objective gets a `BridgeTrial` whose calls
travel as JSON lines over the connection (a socket, never stdout, so the objective may print freely) and are
performed on the engine's real `optuna.Trial`, in the order the objective makes them. Every message carries the
protocol version `v`:

    bridge -> engine  {"v": 3, "op": "ready"} | {"v": 3, "op": "load_error", "message": ...}
    engine -> bridge  {"v": 3, "op": "trial", "number": N}          (run the objective once)
                      {"v": 3, "op": "trial", "number": N, "suggest_only": true}   (a parallel run's coordinator:
                      every call is answered, report and set_user_attr too, and may be answered with "end")
    bridge -> engine  {"v": 3, "op": "call", "name": "suggest_float", "args": [...], "kwargs": {...}}
                      {"v": 3, "op": "get", "name": "params"}      {"v": 3, "op": "study", "name": "best_value"}
    engine -> bridge  {"v": 3, "ok": RESULT} | {"v": 3, "error": {"type": ..., "message": ...}}
                      | {"v": 3, "end": true}   (the engine needs no more of this run of the objective: the
                      objective is unwound, past its own `except Exception`, and the bridge says {"op": "ended"})
    bridge -> engine  {"v": 3, "op": "call", "name": "report", "args": [...], "kwargs": {...}, "reply": false}
                      (report and set_user_attr: no answer is sent or awaited; an error they raise in the engine
                      is the answer to the objective's next call, which is then not performed)
    bridge -> engine  {"v": 3, "op": "output", "stream": "stdout"|"stderr", "text": ...}   (what the objective prints)
    bridge -> engine  {"v": 3, "op": "return", "value": ...} | {"v": 3, "op": "pruned", "message": ...}
                      | {"v": 3, "op": "raise", "type": ..., "message": ..., "traceback": ...}
                      | {"v": 3, "op": "ended"}
    engine -> bridge  {"v": 3, "op": "exit"}

Pruning: `raise optuna.TrialPruned()` works where the environment has Optuna (any exception class named
TrialPruned counts, whichever Optuna version defined it). Without Optuna, raise `trial.TrialPruned()` (the same
class is `optgui_bridge.TrialPruned`).
"""

# ruff: noqa: UP006, UP032, UP035, UP045 - written for Python 3.9: typing's generics, str.format, Optional[...]

import argparse
import datetime
import hashlib
import importlib
import importlib.util
import json
import os
import socket
import sys
import traceback
from typing import Any, Callable, Dict, List, Optional

PROTOCOL_VERSION = 3

# Trial attributes read from the engine's trial (plain data); everything else the objective may use is a method.
_PROPERTIES = (
    "number",
    "params",
    "distributions",
    "user_attrs",
    "system_attrs",
    "datetime_start",
    "constraints",
    "relative_params",
)
_METHODS = (
    "suggest_float",
    "suggest_int",
    "suggest_categorical",
    "suggest_uniform",
    "suggest_loguniform",
    "suggest_discrete_uniform",
    "report",
    "should_prune",
    "set_user_attr",
    "set_constraint",
)
# Methods that return nothing: sent without waiting for the engine (see the protocol above).
_NO_REPLY = ("report", "set_user_attr")
_STUDY_PROPERTIES = (
    "study_name",
    "directions",
    "direction",
    "user_attrs",
    "best_value",
    "best_params",
    "best_trial",
)


class TrialPruned(Exception):
    """Raise it in an objective to prune the trial (in an environment without Optuna; optuna.TrialPruned works too)."""


class _TrialEnded(BaseException):
    """The engine ended this run of the objective (a BaseException: the objective's `except Exception` cannot keep
    it running)."""


class BridgeError(Exception):
    """The engine refused a call with an exception whose type is not a built-in one (its name is in the message)."""


class _Channel:
    """JSON lines over a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")

    def send(self, message: Dict[str, Any]) -> None:
        message["v"] = PROTOCOL_VERSION
        self._sock.sendall(json.dumps(message).encode("utf-8") + b"\n")

    def receive(self) -> Dict[str, Any]:
        line = self._reader.readline()
        if not line:
            raise EOFError("the engine closed the connection")
        message = json.loads(line.decode("utf-8"))
        if message.get("v") != PROTOCOL_VERSION:
            raise EOFError("protocol version {!r}; this bridge speaks {}".format(message.get("v"), PROTOCOL_VERSION))
        return message

    def request(self, message: Dict[str, Any]) -> Any:
        self.send(message)
        answer = self.receive()
        if answer.get("end"):
            raise _TrialEnded()
        if "error" in answer:
            raise _rebuilt_exception(answer["error"]["type"], answer["error"]["message"])
        return answer.get("ok")


def _rebuilt_exception(type_name: str, message: str) -> BaseException:
    """The engine's exception as the objective would have seen it in-process: same built-in type when it is one."""
    import builtins

    cls = getattr(builtins, type_name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return BridgeError("{}: {}".format(type_name, message))


class _StudyView:
    """The trial's study, read-only: its name, directions, user attributes and best trial as plain data."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def __getattr__(self, name: str) -> Any:
        if name not in _STUDY_PROPERTIES:
            raise AttributeError(
                "optgui's bridge: the study view has no attribute {!r} (it offers {})".format(
                    name, ", ".join(_STUDY_PROPERTIES)
                )
            )
        return self._channel.request({"op": "study", "name": name})

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        raise AttributeError("optgui's bridge: the study view is read-only ({!r} cannot be set)".format(name))


class BridgeTrial:
    """What the objective gets instead of optuna.Trial: the same public surface, performed on the engine's trial."""

    TrialPruned = TrialPruned

    def __init__(self, channel: _Channel, answer_every_call: bool = False) -> None:
        self._channel = channel
        self._study = _StudyView(channel)
        self._answer_every_call = answer_every_call

    @property
    def study(self) -> _StudyView:
        return self._study

    @property
    def datetime_start(self) -> Optional[datetime.datetime]:
        text = self._channel.request({"op": "get", "name": "datetime_start"})
        return datetime.datetime.fromisoformat(text) if text else None

    @property
    def distributions(self) -> Dict[str, Any]:
        plain = self._channel.request({"op": "get", "name": "distributions"})
        return _distributions_from_json(plain)

    def __getattr__(self, name: str) -> Any:
        if name in _PROPERTIES:
            return self._channel.request({"op": "get", "name": name})
        if name in _NO_REPLY and not self._answer_every_call:

            def send(*args: Any, **kwargs: Any) -> None:
                message = {"op": "call", "name": name, "args": list(args), "kwargs": kwargs, "reply": False}
                self._channel.send(message)

            send.__name__ = name
            return send
        if name in _METHODS:

            def call(*args: Any, **kwargs: Any) -> Any:
                return self._channel.request({"op": "call", "name": name, "args": list(args), "kwargs": kwargs})

            call.__name__ = name
            return call
        raise AttributeError(
            "optgui's bridge: the trial has no attribute {!r} (the objective runs in another "
            "Python; it offers Optuna's public Trial methods and properties)".format(name)
        )


def _distributions_from_json(plain: Dict[str, str]) -> Dict[str, Any]:
    """Optuna's distribution objects where the environment has Optuna, else their JSON as dicts."""
    try:
        from optuna.distributions import json_to_distribution  # type: ignore[import-not-found, unused-ignore]
    except Exception:  # noqa: BLE001 - no (usable) Optuna here: plain data
        return {name: json.loads(text) for name, text in plain.items()}
    return {name: json_to_distribution(text) for name, text in plain.items()}


class _Output:
    """sys.stdout / sys.stderr during a trial: the text goes to the engine, which logs it with the trial."""

    def __init__(self, channel: _Channel, stream: str, original: Any) -> None:
        self._channel = channel
        self._stream = stream
        self._original = original
        self.encoding = "utf-8"
        self.errors = "replace"

    def write(self, text: str) -> int:
        if text:
            self._channel.send({"op": "output", "stream": self._stream, "text": str(text)})
        return len(text)

    def writelines(self, lines: List[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return int(self._original.fileno())


def _plain_value(value: Any) -> Any:
    """The objective's return value as JSON: numbers (numpy's too) as floats, sequences as lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _plain_value(tolist())
    return repr(value)


def _is_pruned(exc: BaseException) -> bool:
    return any(cls.__name__ == "TrialPruned" for cls in type(exc).__mro__)


def _load_objective(ref: str, import_root: Optional[str]) -> Callable[..., Any]:
    target, _, function = ref.rpartition(":")
    if import_root:
        sys.path.insert(0, import_root)
    if target.endswith(".py") or "/" in target or "\\" in target:
        name = "optgui_objective_" + hashlib.sha1(target.encode("utf-8")).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(name, target)
        if spec is None or spec.loader is None:
            raise ImportError("objective file {} cannot be imported as a Python module".format(target))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    funcs = []
    for part in function.split(","):
        func = getattr(module, part, None)
        if func is None:
            raise AttributeError("no function {!r} in {}".format(part, target))
        if not callable(func):
            raise TypeError("{!r} in {} is not callable".format(part, target))
        funcs.append(func)
    if len(funcs) == 2:
        search_space, evaluate = funcs

        def split(trial: Any) -> Any:
            search_space(trial)
            return evaluate(trial)

        return split
    return funcs[0]


def _describe_load_error(ref: str, exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return "objective {} has a syntax error in {} at line {}: {}".format(ref, exc.filename, exc.lineno, exc.msg)
    return "importing objective {} failed: {}: {}".format(ref, exc.__class__.__name__, exc)


def _run_trial(channel: _Channel, objective: Callable[..., Any], suggest_only: bool = False) -> None:
    trial = BridgeTrial(channel, answer_every_call=suggest_only)
    saved = sys.stdout, sys.stderr
    sys.stdout = _Output(channel, "stdout", saved[0])
    sys.stderr = _Output(channel, "stderr", saved[1])
    try:
        value = objective(trial)
    except _TrialEnded:
        sys.stdout, sys.stderr = saved
        channel.send({"op": "ended"})
        return
    except Exception as exc:  # noqa: BLE001 - every objective error goes back to the engine
        sys.stdout, sys.stderr = saved
        if _is_pruned(exc):
            channel.send({"op": "pruned", "message": str(exc)})
        else:
            channel.send(
                {
                    "op": "raise",
                    "type": exc.__class__.__name__,
                    "message": str(exc),
                    "traceback": traceback.format_exc(),
                }
            )
        return
    finally:
        sys.stdout, sys.stderr = saved
    channel.send({"op": "return", "value": _plain_value(value)})


def _serve(connection: str, ref: str, import_root: Optional[str]) -> int:
    if connection == "stdin":  # Windows: the engine hands the socket over through stdin
        sock = socket.fromshare(sys.stdin.buffer.read())  # type: ignore[attr-defined, unused-ignore]
    else:
        sock = socket.socket(fileno=int(connection))
    channel = _Channel(sock)
    try:
        objective = _load_objective(ref, import_root)
    except BaseException as exc:  # noqa: BLE001 - reported to the engine, which says it in one line
        channel.send({"op": "load_error", "message": _describe_load_error(ref, exc)})
        return 3
    channel.send({"op": "ready"})
    while True:
        try:
            message = channel.receive()
        except (EOFError, OSError):
            return 0  # the engine has gone
        if message.get("op") != "trial":
            return 0
        _run_trial(channel, objective, suggest_only=bool(message.get("suggest_only")))


def _distribution(name: str) -> Optional[str]:
    try:
        from importlib import metadata

        return metadata.version(name)
    except Exception:  # noqa: BLE001 - not installed
        return None


def environment() -> Dict[str, Any]:
    """This interpreter: its path, Python and Optuna versions, and a digest of its installed distributions."""
    from importlib import metadata

    names = set()
    for dist in metadata.distributions():
        try:
            names.add("{}=={}".format(dist.metadata["Name"], dist.version))
        except Exception:  # noqa: BLE001 - a broken dist-info folder
            continue
    listing = "\n".join(sorted(names, key=str.lower))
    return {
        "executable": sys.executable,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "optuna": _distribution("optuna"),
        "distributions": len(names),
        "distributions_sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest(),
    }


def _check(ref: str, import_root: Optional[str]) -> int:
    """Import the objective and say whether it worked, as one JSON line on stdout."""
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # what the objective's module prints on import is not our answer
    try:
        _load_objective(ref, import_root)
    except BaseException as exc:  # noqa: BLE001
        answer = {"ok": False, "message": _describe_load_error(ref, exc)}
    else:
        answer = {"ok": True, "message": "objective {} imports".format(ref)}
    sys.stdout = real_stdout
    answer.update(environment())
    print(json.dumps(answer))
    return 0


def _locate(module: str, import_root: Optional[str]) -> int:
    """Where a module objective's file is, without importing it (for its content hash), as JSON on stdout."""
    if import_root:
        sys.path.insert(0, import_root)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    origin = spec.origin if spec is not None and spec.origin and os.path.isfile(spec.origin) else None
    print(json.dumps({"found": spec is not None, "origin": origin}))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    sys.modules.setdefault("optgui_bridge", sys.modules[__name__])  # `from optgui_bridge import TrialPruned`
    parser = argparse.ArgumentParser(prog="optgui_bridge")
    parser.add_argument("command", choices=("serve", "check", "probe", "locate"))
    parser.add_argument("--connection")
    parser.add_argument("--objective")
    parser.add_argument("--module")
    parser.add_argument("--import-root")
    args = parser.parse_args(argv)
    if args.command == "probe":
        print(json.dumps(environment()))
        return 0
    if args.command == "locate":
        return _locate(args.module, args.import_root)
    if args.command == "check":
        return _check(args.objective, args.import_root)
    return _serve(args.connection, args.objective, args.import_root)


if __name__ == "__main__":
    sys.exit(main())
