"""The run engine (StudyRunner) in a child process, driven over a pipe.

Why a process and not a thread: a CPU-bound engine thread shares the GIL with the GUI thread. Every time the GUI
thread lets go of the GIL (Qt calls release it, a repaint makes hundreds of them) it waits up to a switch interval
to get it back, so one repaint took 80-160 ms during a run; and the engine's heap made the GUI's garbage
collections long. In its own process the engine shares neither, and the GUI only receives small event objects.

Parent:  engine = EngineProcess(request, objective_ref=None).start()
         engine.receive(timeout) -> [("event", event), ..., ("ended", kind, *payload)]
         engine.pause() / resume() / stop(reason) / abandon();  engine.join()
Ending kinds: ("ended", "outcome", RunOutcome), ("ended", "interrupted"), ("ended", "lease", message),
("ended", "pickles", message, [trial numbers]) when the study holds pickles optgui did not write and the request did
not trust them, ("ended", "error", message) for another OptguiError, ("ended", "failed", message, details) for
anything else, including a child that died without saying so.

Control keeps StudyRunner's own semantics: pause/resume/stop act at the next trial boundary, abandon interrupts the
trial in flight as a crash would (the next resume recovers it). `objective_ref` runs the objective in a further
child process (optgui.core.engine._child_objective) so that abandon stops even a trial that never calls back. If the
parent disappears, the run stops after the trial in flight with its state saved, as a CLI Ctrl-C does.

Child:   python -P -s -m optgui.core.engine._engine_process --connection FD (optgui.core.engine._child_process: an
         isolated import path; the request arrives as the first message).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import threading
import traceback
from typing import TYPE_CHECKING

from optgui.core.engine._child_objective import ChildProcessObjective
from optgui.core.engine._child_process import connection_from_argument, start_connected
from optgui.core.engine._objectives import objective_import_root
from optgui.core.engine._pickle_trust import ForeignPicklesError
from optgui.core.engine._priority import lower_priority
from optgui.core.engine._runner import RunInterrupted, RunRequest, StudyRunner
from optgui.core.errors import LeaseHeldError, OptguiError
from optgui.core.optuna_logs import quiet_optuna_logging

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


def _child_main(
    request: RunRequest, objective_ref: str | None, conn, niceness: int = 0, import_root: str | None = None
) -> None:

    lower_priority(niceness)

    quiet_optuna_logging()  # this process's stderr is the terminal the app was started from

    lock = threading.Lock()  # the runner's thread and the control thread both send (request_pause emits)

    def send(message) -> None:
        with lock:
            try:
                conn.send(message)
            except (OSError, EOFError):
                pass  # the parent is gone; the control thread has asked the run to stop

    objective = None
    if objective_ref:
        objective = ChildProcessObjective(objective_ref, import_root=import_root)
    runner = StudyRunner(request, lambda event: send(("event", event)), objective)

    def control() -> None:
        while True:
            try:
                command, *args = conn.recv()
            except (EOFError, OSError):
                runner.request_stop("paused")
                return
            if command == "pause":
                runner.request_pause()
            elif command == "resume":
                runner.request_resume()
            elif command == "stop":
                runner.request_stop(*args)
            elif command == "abandon":
                runner.abandon_trial()
                if objective is not None:
                    objective.abort()

    threading.Thread(target=control, name="optgui-engine-control", daemon=True).start()
    ending: tuple = ("failed", "the engine ended without a result", "")
    try:
        runner.prepare()
        ending = ("outcome", runner.run())
    except LeaseHeldError as exc:
        ending = ("lease", str(exc))
    except RunInterrupted:
        ending = ("interrupted",)
    except ForeignPicklesError as exc:
        ending = ("pickles", str(exc), list(exc.trials))
    except OptguiError as exc:
        ending = ("error", str(exc))
    except BaseException as exc:  # noqa: BLE001 - storage errors and bugs end the run and are reported
        ending = ("failed", f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
    finally:
        if objective is not None:
            objective.close()
        send(("ended", *ending))
    # Everything is committed and the parent has the result: skip the interpreter's teardown of optuna, SQLAlchemy
    # and numpy (seconds on a loaded machine, during which a closing window would wait).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class EngineProcess:
    """One run of StudyRunner in a child process. receive() is for one thread, the control calls for another."""

    def __init__(self, request: RunRequest, objective_ref: str | None = None, *, niceness: int = 0):
        """niceness: run the engine (and the objective's process) this much below the caller's priority."""
        self.request = request
        self.objective_ref = objective_ref
        self.niceness = niceness
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._send_lock = threading.Lock()
        self.ended = False

    def start(self) -> EngineProcess:
        # A fresh interpreter, not a fork: a forked copy of a GUI process (Qt, its threads and locks) is not safe to
        # run. Not multiprocessing's spawn either: its child imports from the current folder (child_process).

        # Resolved here, with the caller's path: the engine's and the objective process's paths are isolated.
        import_root = objective_import_root(self.objective_ref) if self.objective_ref else None
        self._proc, self._conn = start_connected("optgui.core.engine._engine_process")
        self._conn.send((self.request, self.objective_ref, self.niceness, import_root))
        return self

    def _started(self) -> tuple[subprocess.Popen, Connection]:
        """The child process and the connection to it; the control calls are for a started engine only."""
        if self._proc is None or self._conn is None:
            raise RuntimeError("the engine process was not started")
        return self._proc, self._conn

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def receive(self, timeout: float) -> list[tuple]:
        """Messages from the engine, waiting up to `timeout` seconds for the first; ends with an "ended" message
        (made up here when the child died without sending one)."""
        if self.ended:
            return []
        messages: list[tuple] = []
        proc, conn = self._started()
        try:
            ready = conn.poll(timeout)
            while ready:
                messages.append(conn.recv())
                if messages[-1][0] == "ended":
                    self.ended = True
                    return messages
                ready = conn.poll(0)
        except (EOFError, OSError):
            self._wait(5)
            self.ended = True
            messages.append(
                ("ended", "failed", f"the engine process exited unexpectedly (exit code {proc.returncode})", "")
            )
        return messages

    def _send(self, *command: object) -> None:
        _, conn = self._started()
        with self._send_lock:
            try:
                conn.send(command)
            except (OSError, EOFError, ValueError):
                pass  # the engine has already ended

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self, reason: str = "stopped") -> None:
        self._send("stop", reason)

    def abandon(self) -> None:
        self._send("abandon")

    def join(self, timeout: float | None = 30.0) -> None:
        """Wait for the child to exit (it exits right after its "ended" message); kill it after `timeout`."""
        if self._proc is not None and not self._wait(timeout):
            self._proc.kill()
            self._wait(5)
        if self._conn is not None and (self._proc is None or self._proc.poll() is not None):
            self._conn.close()

    def _wait(self, timeout: float | None) -> bool:
        """Wait up to `timeout` seconds for the child to exit; whether it has."""
        proc, _ = self._started()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optgui.core.engine._engine_process")
    parser.add_argument("--connection", required=True)
    args = parser.parse_args(argv)

    conn = connection_from_argument(args.connection)
    try:
        request, objective_ref, niceness, import_root = conn.recv()
    except (EOFError, OSError):
        return 1  # the parent went away before sending the run
    if import_root and request.objective_import_root is None:
        request = dataclasses.replace(request, objective_import_root=import_root)
    _child_main(request, objective_ref, conn, niceness, import_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
