"""Running the verifier in a separate process, off the GUI thread and cancellable.

The child is a fresh interpreter that imports optgui with an isolated path (optgui.core.engine._child_process: neither
the current folder nor PYTHONPATH can put a module in front of optgui, optuna or numpy) and a PYTHONHASHSEED
different from ours: a sampler whose suggestions depend on
set or dict-of-str iteration order (hash randomisation) then fails to reproduce instead of passing by luck. It
streams JSON lines on stdout:

  {"event": "started", "study": NAME, "hash_seed": "123"}
  {"event": "progress", "checked": k, "total": n, "first_trial": a, "last_trial": b}
  {"event": "verdict", "verdict": {... Verdict.to_json_obj() ...}}
  {"event": "error", "message": "...", "exit_code": 3}

Child:  python -m optgui.core.verify._process STORAGE [--study NAME] [--spec SPEC] [--no-cache]
Parent: VerifyJob(storage, study, spec).start(); poll() / iterate progress; wait() -> Verdict; cancel().
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from optgui.core.engine import isolated_environment, lower_priority, python_command
from optgui.core.errors import EXIT_ERROR, OptguiError
from optgui.core.verify._verdict import Progress, Verdict


@dataclass(frozen=True)
class JobMessage:
    event: str  # started | progress | verdict | error | exited
    data: dict

    @property
    def progress(self) -> Progress | None:
        if self.event != "progress":
            return None
        d = self.data
        return Progress(d["checked"], d["total"], d.get("first_trial"), d.get("last_trial"))


def different_hash_seed(current: str | None = None) -> str:
    """A random PYTHONHASHSEED that differs from this interpreter's (when that one is known)."""
    current = os.environ.get("PYTHONHASHSEED") if current is None else current
    while True:
        seed = str(random.SystemRandom().randint(1, 2**32 - 1))
        if seed != current:
            return seed


def child_environment(extra: dict | None = None) -> dict:
    """Our environment without PYTHON* variables (PYTHONPATH decides nothing), with a different hash seed."""

    return isolated_environment({"PYTHONHASHSEED": different_hash_seed(), **(extra or {})})


class VerifyJob:
    """One verification in a child process. poll() never blocks; iterating blocks until the child is done."""

    def __init__(
        self,
        storage: str,
        study_name: str | None = None,
        spec: str | None = None,
        *,
        use_cache: bool = True,
        python: str | None = None,
        env: dict | None = None,
        niceness: int = 0,
    ):
        self.storage = storage
        self.study_name = study_name
        self.spec = spec
        self.use_cache = use_cache
        self._python = python or sys.executable
        self._extra_env = env
        self.niceness = niceness  # the child runs this much below our priority
        self._proc: subprocess.Popen | None = None
        self._queue: queue.Queue[JobMessage] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._stderr: list[str] = []
        self.hash_seed: str | None = None
        self.verdict: Verdict | None = None
        self.error: str | None = None
        self.error_code: int | None = None
        self.cancelled = False
        self.last_progress: Progress | None = None
        self._finished = threading.Event()  # set once the final "exited" message is queued
        self._started = False

    def command(self) -> list[str]:

        cmd = python_command("optgui.core.verify._process", self.storage)
        if self._python != sys.executable:
            cmd[0] = self._python
        if self.study_name is not None:
            cmd += ["--study", self.study_name]
        if self.spec is not None:
            cmd += ["--spec", self.spec]
        if not self.use_cache:
            cmd.append("--no-cache")
        if self.niceness > 0:
            cmd += ["--nice", str(self.niceness)]
        return cmd

    def start(self, *, background: bool = False) -> VerifyJob:
        """Start the child. background=True returns at once and starts it from a thread: starting a process from
        the GUI's (large) process took 2-10 ms, a stall the GUI cannot afford 10 times a second."""
        self._started = True
        if background:
            threading.Thread(target=self._start_process, name="optgui-verify-start", daemon=True).start()
        else:
            self._start_process()
        return self

    def _start_process(self) -> None:
        if self.cancelled:
            self._finish(None)
            return
        env = child_environment(self._extra_env)
        self.hash_seed = env["PYTHONHASHSEED"]
        try:
            self._proc = subprocess.Popen(
                self.command(),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
        except OSError as exc:
            self._queue.put(
                JobMessage("error", {"message": f"cannot start the verifier: {exc}", "exit_code": EXIT_ERROR})
            )
            self._finish(None)
            return
        self._reader = threading.Thread(target=self._read_stdout, name="optgui-verify-reader", daemon=True)
        self._reader.start()
        threading.Thread(target=self._read_stderr, name="optgui-verify-stderr", daemon=True).start()
        if self.cancelled:  # cancel() ran while the process was starting: it saw no process to stop
            self._terminate(wait=False)

    def _finish(self, returncode: int | None) -> None:
        self._queue.put(JobMessage("exited", {"returncode": returncode}))
        self._finished.set()

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            self._queue.put(JobMessage(obj.pop("event", "?"), obj))
        self._finish(self._proc.wait())

    def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line.rstrip("\n"))
            del self._stderr[:-50]  # the tail is enough to explain a crash

    def _handle(self, message: JobMessage) -> None:
        if message.event == "started":
            pass
        elif message.event == "progress":
            self.last_progress = message.progress
        elif message.event == "verdict":
            self.verdict = Verdict.from_json_obj(message.data["verdict"])
        elif message.event == "error":
            self.error = message.data.get("message")
            self.error_code = message.data.get("exit_code", EXIT_ERROR)
        elif message.event == "exited":
            code = message.data["returncode"]
            if self.verdict is None and self.error is None:
                if self.cancelled:
                    self.error = "verification cancelled"
                else:
                    tail = next((line for line in reversed(self._stderr) if line.strip()), "")
                    self.error = f"the verification process exited with code {code}" + (f": {tail}" if tail else "")
                self.error_code = EXIT_ERROR

    @property
    def done(self) -> bool:
        return self._finished.is_set() and self._queue.empty()

    def poll(self) -> list[JobMessage]:
        """The messages that arrived since the last call, without blocking."""
        out: list[JobMessage] = []
        while True:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                return out
            self._handle(message)
            out.append(message)

    def __iter__(self) -> Iterator[JobMessage]:
        """Every message until the child has exited (blocking)."""
        if not self._started:
            self.start()
        while True:
            message = self._queue.get()
            self._handle(message)
            yield message
            if message.event == "exited":
                return

    def wait(self, timeout: float | None = None) -> Verdict:
        """Block until done; the verdict, or OptguiError with the child's error."""
        if not self._started:
            self.start()
        done = threading.Event()

        def drain():
            for _ in self:
                pass
            done.set()

        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        if not done.wait(timeout):
            self.cancel()
            raise OptguiError(f"verification did not finish within {timeout} s")
        if self.verdict is None:
            raise OptguiError(self.error or "verification failed")
        return self.verdict

    def cancel(self, *, wait: bool = True) -> None:
        """Stop the child now (it only reads the study, so killing it loses nothing but the work in flight).
        wait=False returns at once; a thread reaps the child."""
        self.cancelled = True
        self._terminate(wait)

    def _terminate(self, wait: bool) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()

        def reap():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

        if wait:
            reap()
        else:
            threading.Thread(target=reap, name="optgui-verify-reap", daemon=True).start()


# --- child ------------------------------------------------------------------------------------------------------
def _emit(stream, event: str, **data) -> None:
    stream.write(json.dumps({"event": event, **data}) + "\n")
    stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optgui.core.verify._process")
    parser.add_argument("storage")
    parser.add_argument("--study")
    parser.add_argument("--spec")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority by this much")
    args = parser.parse_args(argv)

    lower_priority(args.nice)
    # Our JSON lines own stdout; anything else that prints (libraries) goes to stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import optuna

    # imported on use, not with this module (it loads Optuna, numpy): start-up time
    from optgui.core.verify._verifier import verify_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:

        def started(name: str) -> None:
            _emit(out, "started", study=name, hash_seed=os.environ.get("PYTHONHASHSEED"))

        def progress(p: Progress) -> None:
            _emit(out, "progress", checked=p.checked, total=p.total, first_trial=p.first_trial, last_trial=p.last_trial)

        verdict = verify_study(
            args.storage, args.study, args.spec, progress=progress, use_cache=not args.no_cache, on_study=started
        )
        _emit(out, "verdict", verdict=verdict.to_json_obj())
        return 0
    except OptguiError as exc:
        _emit(out, "error", message=str(exc), exit_code=exc.exit_code)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - report anything as one line; the traceback goes to stderr
        import traceback

        traceback.print_exc()
        _emit(out, "error", message=f"{exc.__class__.__name__}: {exc}", exit_code=EXIT_ERROR)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
