"""Run the objective in a child process, so that "Abort trial" stops a long trial at once.

The trial itself stays in the engine's thread: the child gets a proxy whose suggest/report/should_prune/... calls
travel over a pipe and are performed on the real trial, so the storage, the sampler and the engine see exactly
what an in-process objective would produce (same calls, same order). Aborting kills the child and abandons the
trial the way a crash would; the engine's recovery then keeps determinism.

Child:  python -P -s -m optgui.core.engine._child_objective --connection FD REF [--import-root DIR]
(optgui.core.engine._child_process: optgui is imported with an isolated path; this is the one process of a GUI run that
adds the objective's import root, the root the run record names.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

from optgui.core.engine._child_process import connection_from_argument, exit_with_parent, start_connected
from optgui.core.engine._objectives import load_objective, parse_objective

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# Reading the trial's state goes through these attribute names; everything else is a forwarded method call.
_PROPERTIES = ("number", "params", "distributions", "user_attrs", "system_attrs", "datetime_start")


class _AbortRequested(Exception):
    pass


class _TrialProxy:
    def __init__(self, conn):
        self._conn = conn

    def _request(self, message):
        self._conn.send(message)
        kind, payload = self._conn.recv()
        if kind == "ok":
            return payload
        if kind == "pruned":
            import optuna

            raise optuna.TrialPruned(payload)
        raise payload

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _PROPERTIES:
            return self._request(("get", name))
        return lambda *args, **kwargs: self._request(("call", name, args, kwargs))


def _child_main(objective_ref: str, conn, import_root: str | None = None) -> None:

    try:
        objective = load_objective(parse_objective(objective_ref, import_root=import_root))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the trial with it
        conn.send(("load_error", f"{exc.__class__.__name__}: {exc}"))
        return
    conn.send(("ready", None))
    proxy = _TrialProxy(conn)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the engine has gone
        if message is None:
            return
        import optuna

        try:
            result = objective(proxy)
            conn.send(("return", result))
        except optuna.TrialPruned as exc:
            conn.send(("pruned", str(exc)))
        except Exception as exc:  # noqa: BLE001 - an objective error becomes a FAIL trial in the parent
            import traceback

            conn.send(("raise", (exc.__class__.__name__, str(exc), traceback.format_exc())))


class ChildObjectiveError(Exception):
    """An exception raised by the objective in the child process (its type name and message are kept)."""


class ChildProcessObjective:
    """A callable objective for StudyRunner(objective=...). One child per run, reused across trials."""

    def __init__(self, objective_ref: str, *, import_root: str | None = None):
        self.objective_ref = objective_ref
        self.import_root = import_root
        self._abort = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None

    def _ensure_child(self) -> tuple[subprocess.Popen, Connection]:
        """The child process and the connection to it, started unless it is running."""
        if self._proc is not None and self._conn is not None and self._proc.poll() is None:
            return self._proc, self._conn

        args = [self.objective_ref] + (["--import-root", self.import_root] if self.import_root else [])
        proc, conn = start_connected("optgui.core.engine._child_objective", *args)
        self._proc, self._conn = proc, conn
        kind, payload = self._receive(proc, conn)
        if kind == "load_error":
            raise ChildObjectiveError(payload)
        return proc, conn

    def _receive(self, proc: subprocess.Popen, conn: Connection) -> Any:
        while not conn.poll(0.05):
            if self._abort.is_set():
                raise _AbortRequested()
            if proc.poll() is not None:
                raise ChildObjectiveError(f"the objective's process died (exit code {proc.returncode})")
        return conn.recv()

    def __call__(self, trial):
        import optuna

        # imported on use, not with this module (it loads Optuna, numpy): start-up time
        from optgui.core.engine._runner import TrialAbandoned

        self._abort.clear()
        try:
            proc, conn = self._ensure_child()
            conn.send(("trial", trial.number))
            while True:
                kind, *rest = self._receive(proc, conn)
                if kind == "return":
                    return rest[0]
                if kind == "pruned":
                    raise optuna.TrialPruned(rest[0])
                if kind == "raise":
                    name, message, _tb = rest[0]
                    raise ChildObjectiveError(f"{name}: {message}")
                if kind == "get":
                    conn.send(("ok", getattr(trial, rest[0])))
                elif kind == "call":
                    name, args, kwargs = rest
                    try:
                        conn.send(("ok", getattr(trial, name)(*args, **kwargs)))
                    except optuna.TrialPruned as exc:
                        conn.send(("pruned", str(exc)))
                    except TrialAbandoned:
                        raise
                    except Exception as exc:  # noqa: BLE001 - e.g. a bad suggest: re-raised inside the child
                        conn.send(("error", exc))
        except _AbortRequested:
            self.close()
            raise TrialAbandoned() from None

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
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optgui.core.engine._child_objective")
    parser.add_argument("--connection", required=True)
    parser.add_argument("objective")
    parser.add_argument("--import-root")
    args = parser.parse_args(argv)

    exit_with_parent()  # a long trial must not outlive an engine that died
    _child_main(args.objective, connection_from_argument(args.connection), args.import_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
