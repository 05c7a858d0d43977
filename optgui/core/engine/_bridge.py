"""The objective in another Python (`--python PATH`): the engine's side of optgui's bridge.

`BridgeObjective(python, objective_ref, import_root)` is a callable objective for StudyRunner. It starts
`PYTHON -I -u optgui_bridge.py serve` (optgui/resources/bridge/optgui_bridge.py, standard library only) with a
socket for the protocol, and for each trial performs the calls the bridge's trial forwards (suggest_*, report,
should_prune, set_user_attr, the trial's properties, the study's read-only view) on the real optuna.Trial, in the
order the objective makes them: the sampler, the storage and the RNG state never leave the engine, so a run is
the same as in-process.

- What the objective prints (sys.stdout / sys.stderr in the bridge) arrives as messages and is written to this
  thread's stdout/stderr, which the engine's trial capture logs with the trial.
- The bridge's own stderr (a crash's traceback, C code's output) is read into a tail; a bridge that dies fails the
  trial (a PythonCrashed error with that tail), and the next trial starts a fresh bridge.
- abort() (Abort trial) kills the process at once and the trial is abandoned as a crash would be
  (TrialAbandoned); the next trial starts a fresh bridge.
- An objective exception fails the trial with the objective's exception type name and message, as
  `optimize(catch=(Exception,))` does; its traceback (from the bridge) goes to the trial's output log.
- report() and set_user_attr() return nothing, so the bridge does not wait for them (a process round trip costs
  a scheduler wake-up on each side, milliseconds on a loaded machine): they are performed in order, and an error
  one raises is raised in the objective at its next call (which is then not performed) or fails the trial.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from optgui.core.engine._objectives import ObjectiveRef, _module_import_root, _sha256, parse_objective
from optgui.core.engine._python_env import (
    PythonEnvironmentError,
    _check_version,
    _clean_env,
    bridge_command,
    check_objective,
    interpreter_path,
    locate_module,
    own_interpreter,
)
from optgui.core.errors import ObjectiveError

PROTOCOL_VERSION = 3
_STDERR_TAIL_BYTES = 4000
_STUDY_PROPERTIES = ("study_name", "directions", "direction", "user_attrs", "best_value", "best_params", "best_trial")
_TRIAL_PROPERTIES = (
    "number",
    "params",
    "distributions",
    "user_attrs",
    "system_attrs",
    "datetime_start",
    "constraints",
    "relative_params",
)
_TRIAL_METHODS = (
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


# Calls that return nothing: the bridge sends them without waiting for an answer (one process round trip less per
# report); an error they raise here reaches the objective at its next call, or fails the trial if there is none.
_NO_REPLY_METHODS = ("report", "set_user_attr")


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": exc.__class__.__name__, "message": str(exc)}


class _AbortRequested(Exception):
    pass


class BridgeObjectiveError(Exception):
    """An exception the objective raised in its own Python; the class is renamed after the objective's exception
    type (see _objective_exception), so the trial's recorded error names that type."""


class PythonCrashed(Exception):
    """The objective's interpreter died during a trial; the message ends with the tail of its stderr."""


def _objective_exception(type_name: str, message: str) -> BridgeObjectiveError:
    cls = type(type_name if type_name.isidentifier() else "ObjectiveError", (BridgeObjectiveError,), {})
    return cls(message)


def _plain(value: Any) -> Any:
    """A trial or study property as JSON data (datetimes as ISO text, a FrozenTrial as a dict)."""
    import optuna

    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, optuna.trial.FrozenTrial):
        return {
            "number": value.number,
            "state": value.state.name,
            "values": value.values,
            "params": value.params,
            "user_attrs": value.user_attrs,
            "intermediate_values": {str(k): v for k, v in value.intermediate_values.items()},
            "datetime_start": _plain(value.datetime_start),
            "datetime_complete": _plain(value.datetime_complete),
        }
    if hasattr(value, "name") and value.__class__.__name__ == "StudyDirection":
        return value.name
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Stream:
    """A socket read as JSON lines."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        message["v"] = PROTOCOL_VERSION
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def take_line(self) -> dict[str, Any] | None:
        """A complete message already read, if any."""
        line, sep, rest = self._buffer.partition(b"\n")
        if not sep:
            return None
        self._buffer = rest
        return json.loads(line)

    def read_some(self) -> bool:
        """Read what is there; False at end of stream."""
        data = self.sock.recv(65536)
        if not data:
            return False
        self._buffer += data
        return True


class BridgeObjective:
    """A callable objective for StudyRunner(objective=...) that runs the user's objective in `python`.

    One bridge process per run, reused across trials, restarted after an abort or a crash."""

    def __init__(
        self,
        python: str,
        objective_ref: str,
        *,
        import_root: str | None = None,
        abandoned: type[BaseException] = KeyboardInterrupt,
    ) -> None:
        """abandoned: what the engine raises to abandon a trial (StudyRunner's TrialAbandoned): raised here on abort,
        and let through when a forwarded call raises it."""
        self.python = python
        self._abandoned = abandoned
        self.objective_ref = objective_ref
        self.import_root = import_root
        self._abort = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stream: _Stream | None = None
        self._stderr_tail: collections.deque[bytes] = collections.deque()
        self._stderr_reader: threading.Thread | None = None

    # --- the bridge process -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the bridge and load the objective; PythonEnvironmentError with the objective's import error."""
        parent_sock, child_sock = socket.socketpair()
        args = ["serve", "--objective", self.objective_ref]
        if self.import_root:
            args += ["--import-root", self.import_root]
        try:
            if os.name == "nt":
                proc = subprocess.Popen(
                    bridge_command(self.python, *args, "--connection", "stdin"),
                    stdin=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=_clean_env(),
                )
                assert proc.stdin is not None
                proc.stdin.write(child_sock.share(proc.pid))  # type: ignore[attr-defined]  # Windows only
                proc.stdin.close()
            else:
                fd = child_sock.fileno()
                proc = subprocess.Popen(
                    bridge_command(self.python, *args, "--connection", str(fd)),
                    pass_fds=(fd,),
                    stdin=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=_clean_env(),
                )
        except OSError as exc:
            parent_sock.close()
            raise PythonEnvironmentError(f"--python {self.python}: cannot be started ({exc.strerror or exc})") from None
        finally:
            child_sock.close()
        parent_sock.settimeout(0.05)  # (how often a wait for the objective looks at abort())
        self._proc, self._stream = proc, _Stream(parent_sock)
        self._stderr_tail.clear()
        self._stderr_reader = threading.Thread(
            target=self._read_stderr, args=(proc,), name="optgui-bridge-stderr", daemon=True
        )
        self._stderr_reader.start()
        message = self._receive()
        if message.get("op") == "load_error":
            self.close()
            raise PythonEnvironmentError(f"{message.get('message')} (in {self.python})")
        if message.get("op") != "ready":
            self.close()
            raise PythonEnvironmentError(f"--python {self.python}: the bridge did not start ({message})")

    def _read_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        """Keep the tail of the bridge's own stderr, and pass it on to ours (the terminal, as before)."""
        assert proc.stderr is not None
        fd = proc.stderr.fileno()
        try:
            self._copy_stderr(fd)
        except OSError:
            pass  # closed by close()

    def _copy_stderr(self, fd: int) -> None:
        size = 0
        for chunk in iter(lambda: os.read(fd, 4096), b""):
            self._stderr_tail.append(chunk)
            size += len(chunk)
            while size > _STDERR_TAIL_BYTES and len(self._stderr_tail) > 1:
                size -= len(self._stderr_tail.popleft())
            try:
                sys.__stderr__.write(chunk.decode(errors="replace"))  # type: ignore[union-attr]
            except (AttributeError, OSError, ValueError):
                pass

    def _crash(self) -> PythonCrashed:
        proc = self._proc
        code = proc.wait() if proc is not None else None
        if self._stderr_reader is not None:
            self._stderr_reader.join(2)
        tail = b"".join(self._stderr_tail).decode(errors="replace").strip()
        tail_lines = "\n".join(tail.splitlines()[-10:])
        self.close()
        return PythonCrashed(
            f"the objective's Python ({self.python}) died (exit code {code})" + (f":\n{tail_lines}" if tail else "")
        )

    def _receive(self) -> dict[str, Any]:
        stream, proc = self._stream, self._proc
        assert stream is not None and proc is not None
        while True:
            message = stream.take_line()
            if message is not None:
                return message
            if self._abort.is_set():
                raise _AbortRequested()
            try:
                alive = stream.read_some()
            except TimeoutError:
                continue
            except OSError:
                alive = False
            if not alive:
                raise self._crash()

    # --- one trial ------------------------------------------------------------------------------------------------

    def __call__(self, trial: Any) -> Any:
        import optuna

        self._abort.clear()
        # A parallel run's coordinator runs a one-function objective only up to its first use of the trial other than
        # a suggest (SuggestOnlyTrial raises there): every call is answered then, so that the objective can be told
        # to end right there instead of going on, unseen, in its own process.
        suggest_only = bool(getattr(type(trial), "suggest_phase_only", False))
        try:
            if self._proc is None or self._proc.poll() is not None:
                self.start()
            assert self._stream is not None
            start: dict[str, Any] = {"op": "trial", "number": trial.number}
            if suggest_only:
                start["suggest_only"] = True
            self._stream.send(start)
            deferred: Exception | None = None  # the error of a call made without waiting for its answer
            while True:
                message = self._receive()
                op = message.get("op")
                if deferred is not None and op in ("return", "pruned", "raise"):
                    raise deferred  # in-process it would have ended the objective where it was made
                if op == "return":
                    return message.get("value")
                if op == "pruned":
                    raise optuna.TrialPruned(message.get("message", ""))
                if op == "raise":
                    sys.stderr.write(message.get("traceback", ""))
                    raise _objective_exception(str(message.get("type")), str(message.get("message")))
                if op == "output":
                    stream = sys.stdout if message.get("stream") == "stdout" else sys.stderr
                    stream.write(str(message.get("text", "")))
                    continue
                if message.get("reply") is False:  # report, set_user_attr: the objective went on without waiting
                    if deferred is None:
                        deferred = self._perform_quietly(trial, message)
                    continue
                if deferred is not None:  # its error is what the objective meets at its next call (not performed)
                    answer, deferred = {"error": _error(deferred)}, None
                else:
                    try:
                        answer = self._answer(trial, message)
                    except self._abandoned:
                        raise
                    except BaseException:  # the suggest phase ended at this call (or an interrupt)
                        if suggest_only:
                            self._end_trial()
                        else:
                            self.close()
                        raise
                self._stream.send(answer)
        except _AbortRequested:
            self.close()
            raise self._abandoned() from None
        except self._abandoned:
            self.close()  # the engine abandoned the trial inside a call: the objective must not go on
            raise

    def _end_trial(self) -> None:
        """Answer the objective's pending call with "end" and wait until it has unwound (what it prints meanwhile
        is passed on); the bridge is then ready for the next trial. A bridge that does not end is stopped."""
        assert self._stream is not None
        try:
            self._stream.send({"end": True})
            while True:
                message = self._receive()
                op = message.get("op")
                if op in ("ended", "return", "pruned", "raise"):
                    return
                if op == "output":
                    stream = sys.stdout if message.get("stream") == "stdout" else sys.stderr
                    stream.write(str(message.get("text", "")))
                elif op in ("call", "get", "study") and message.get("reply") is not False:
                    self._stream.send({"end": True})  # (an objective that caught the first one asks again)
        except BaseException:
            self.close()
            raise

    def _perform_quietly(self, trial: Any, message: dict[str, Any]) -> Exception | None:
        """Perform a call the objective did not wait for (report, set_user_attr); its exception, if any."""
        name = str(message.get("name"))
        try:
            if message.get("op") != "call" or name not in _NO_REPLY_METHODS:
                raise AttributeError(f"optgui's bridge: {name!r} needs an answer")
            getattr(trial, name)(*message.get("args", []), **message.get("kwargs", {}))
        except self._abandoned:
            raise
        except Exception as exc:  # noqa: BLE001 - raised in the objective at its next call, or fails the trial
            return exc
        return None

    def _answer(self, trial: Any, message: dict[str, Any]) -> dict[str, Any]:
        """Perform one forwarded call on the real trial; its result, or the exception the objective should see."""
        op, name = message.get("op"), str(message.get("name"))
        try:
            if op == "call" and name in _TRIAL_METHODS:
                result = getattr(trial, name)(*message.get("args", []), **message.get("kwargs", {}))
            elif op == "get" and name in _TRIAL_PROPERTIES:
                result = getattr(trial, name)
                if name == "distributions":
                    import optuna

                    result = {k: optuna.distributions.distribution_to_json(d) for k, d in result.items()}
            elif op == "study" and name in _STUDY_PROPERTIES:
                result = getattr(trial.study, name)
            else:
                raise AttributeError(f"optgui's bridge: no trial attribute {name!r}")
            return {"ok": _plain(result)}
        except self._abandoned:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a bad suggest: re-raised inside the objective
            return {"error": _error(exc)}

    def abort(self) -> None:
        self._abort.set()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if self._stderr_reader is not None:
                self._stderr_reader.join(1)
            if proc.stderr is not None:
                proc.stderr.close()
        if self._stream is not None:
            self._stream.sock.close()
            self._stream = None


def parse_objective_in(python: str, text: str, *, import_root: str | None = None) -> ObjectiveRef:
    """parse_objective for an objective that runs in `python`: a file is hashed here; a module is looked up by
    that interpreter (it may exist only there) and its file hashed here. Built-ins run in optgui's own Python."""
    text = text.strip()
    if text.startswith("builtin:"):
        raise PythonEnvironmentError(
            f"--python runs a file or module objective; {text} is one of optgui's built-ins (leave out --python)"
        )
    target, sep, function = text.rpartition(":")
    if not sep or not target or not function or target.endswith(".py") or "/" in target or "\\" in target:
        return parse_objective(text, import_root=import_root)
    if not all(part.isidentifier() for part in target.split(".")):
        return parse_objective(text, import_root=import_root)  # its error message
    if not all(part.isidentifier() for part in function.split(",")) or function.count(",") > 1:
        return parse_objective(text, import_root=import_root)
    root = _module_import_root(target.split(".")[0], import_root)
    origin = locate_module(python, target, root)
    sha = _sha256(Path(origin)) if origin and Path(origin).is_file() else None
    return ObjectiveRef("module", f"{target}:{function}", origin, function, sha, root)


def try_objective(python: str | None, text: str, *, import_root: str | None = None) -> str:
    """Import the objective in `python` (None: optgui's own interpreter), in a child process, before a run
    starts (the GUI's "Test objective"): its success message, or PythonEnvironmentError / ObjectiveError with
    the one-line reason (a missing or too old interpreter, a missing file, the objective's exact import error).
    Nothing of the objective runs in this process."""
    text = text.strip()
    if not text:
        raise ObjectiveError("no objective given")
    if text.startswith("builtin:"):
        if python is not None and interpreter_path(python) != interpreter_path(own_interpreter()):
            raise PythonEnvironmentError(
                f"{text} is one of optgui's built-ins: it runs in optgui's own Python (choose that one)"
            )
        parse_objective(text)
        return f"objective {text} is one of optgui's built-ins"
    path = interpreter_path(python or own_interpreter())
    _check_version(path)
    objective = parse_objective_in(path, text, import_root=import_root)
    return check_objective(path, objective.ref, objective.import_root)


def worker_objective(
    storage_text: str, study_name: str, python: str | None, *, abandoned: type[BaseException]
) -> BridgeObjective | None:
    """The objective of a fleet worker (`optgui worker --python PATH`) through the bridge: in `python`, else in
    the interpreter the study recorded; None when neither (the worker runs it in-process, as before). Started, so
    an import error is one line before the worker joins."""
    from optgui.core import records
    from optgui.core.engine._python_env import probe_environment, recorded_environment
    from optgui.core.errors import StudyStateError
    from optgui.core.storage import open_for_run, parse_storage

    storage, _ = open_for_run(parse_storage(storage_text), create=False)
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        raise StudyStateError(f"no study {study_name!r} in {storage_text}") from None
    meta = records.read_metadata(storage, study_id)
    if meta.run is None:
        return None
    python = python or (recorded_environment(meta.run, meta.segments) or {}).get("executable")
    if python is None:
        return None
    environment = probe_environment(python)
    objective = ObjectiveRef.from_record(meta.run["objective"])
    if objective.kind == "builtin":
        raise PythonEnvironmentError(f"--python runs a file or module objective; {objective.ref} is a built-in")
    bridge = BridgeObjective(
        environment.executable, objective.ref, import_root=objective.import_root, abandoned=abandoned
    )
    bridge.start()
    return bridge
