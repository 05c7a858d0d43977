"""`optgui run --workers N [--mode deterministic|free] [--batch K] [--pipeline]`: a parallel run.

Deterministic mode runs the coordinator in this process and starts N local workers; free-running mode records the
run and starts N local workers. Workers on other machines join with `optgui worker STORAGE --study NAME`.
Ctrl-C or SIGTERM stops the fleet (the trials already asked are finished and told, every worker exits) and exits 0;
rerunning the command resumes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from optgui.commands import interrupts
from optgui.commands.output import print_line
from optgui.core.engine import RunStarted, TrialFinished
from optgui.core.errors import OptguiError

WORKER_EXIT_SECONDS = 30.0
FLEET_SESSION_ENV = "OPTGUI_FLEET_SESSION"  # the fleet session a local worker was started for


def start_local_workers(
    storage: str, study: str, n: int, *, fleet_session: str, quiet: bool = True
) -> list[subprocess.Popen]:
    """N `optgui worker` processes of this Python, each in its own session (a terminal's Ctrl-C reaches only the
    coordinator, which then stops the fleet in order). They import optgui with an isolated path
    (optgui.core.engine._child_process); each adds the objective's recorded import root when it loads the objective.
    `fleet_session` is the fleet they were started for: a worker that starts only after that fleet finished exits
    at once instead of waiting for the next one (and holding this command for WORKER_EXIT_SECONDS)."""
    # imported on use, not with this module: start-up time
    from optgui.core.engine import isolated_environment, python_command

    cmd = python_command("optgui", "worker", storage, "--study", study) + (["--quiet"] if quiet else [])
    env = isolated_environment()
    env[FLEET_SESSION_ENV] = fleet_session
    return [subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL, env=env) for _ in range(n)]


def wait_workers(processes: list[subprocess.Popen], timeout: float = WORKER_EXIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    for proc in processes:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def execute_fleet(args, request, format_trial) -> int:
    # imported on use, not with this module (it loads Optuna, numpy): start-up time
    from optgui.core.fleet import Coordinator, FleetOptions, FreeRunSetup

    explicit = frozenset(
        k for k, v in (("mode", args.mode), ("batch", args.batch), ("pipeline", args.pipeline)) if v is not None
    )
    n_workers = args.workers if args.workers is not None else 0
    if n_workers < 0:
        raise OptguiError(f"--workers must be >= 0, got {n_workers}")
    # imported on use, not with this module: start-up time
    from optgui.commands.run_shared import _recorded_fleet, print_drawn_seed

    recorded = _recorded_fleet(request) or {}
    mode = args.mode or recorded.get("mode") or "deterministic"
    if recorded and args.mode and args.mode != recorded.get("mode"):
        raise OptguiError(f"--mode {args.mode} differs from the study's recorded mode {recorded.get('mode')}")

    def output_closed():  # `optgui run … | head`: stop at the next boundary instead of dying mid-batch
        print_line("optgui: output closed; stopping the fleet after the trials in flight", err=True)
        coordinator.request_stop("paused")

    def listener(event):
        if isinstance(event, TrialFinished) and not args.quiet:
            print_line(format_trial(event), on_closed=output_closed)
        elif isinstance(event, RunStarted):
            for note in event.notes:
                print_line(f"optgui: {note}", err=True, on_closed=output_closed)

    if mode == "free":
        setup = FreeRunSetup(request, explicit)
        setup.prepare()
        if setup.created_storage:
            print(f"optgui: created {request.storage}", file=sys.stderr)
        print_drawn_seed(setup)
        if n_workers == 0:
            print(
                "optgui: free-running study ready; start workers with optgui worker STORAGE --study NAME",
                file=sys.stderr,
            )
            return 0
        free_workers = start_local_workers(
            request.storage, request.study_name, n_workers, fleet_session=setup.session, quiet=args.quiet
        )
        stop = {"sent": False}

        def on_signal(signum, frame):
            if not stop["sent"]:
                # imported on use, not with this module: start-up time
                from optgui.core import fleet as fl

                stop["sent"] = True
                print("\noptgui: stopping the fleet after the trials in flight…", file=sys.stderr, flush=True)
                fl.send_command(setup.store, "stop")

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            codes = [proc.wait() for proc in free_workers]
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        setup.set_state("stopped" if stop["sent"] else "completed")
        print(f"optgui: {len(free_workers)} workers finished (exit codes {codes})", file=sys.stderr)
        return 0 if all(c == 0 for c in codes) else 3

    batch = args.batch if args.batch is not None else recorded.get("batch") or max(1, n_workers)
    pipeline = bool(args.pipeline) if args.pipeline is not None else bool(recorded.get("pipeline", False))
    coordinator = Coordinator(
        request, FleetOptions("deterministic", batch, pipeline), listener, explicit_options=explicit
    )
    previous = interrupts.stop_on_first_interrupt(
        "stopping the fleet: the trials already asked are finished first…", lambda: coordinator.request_stop("paused")
    )
    workers: list[subprocess.Popen] = []
    try:
        coordinator.prepare()
        if coordinator.created_storage:
            print(f"optgui: created {request.storage}", file=sys.stderr)
        print_drawn_seed(coordinator)
        workers = start_local_workers(
            request.storage, request.study_name, n_workers, fleet_session=coordinator.session, quiet=args.quiet
        )
        if n_workers == 0:
            print("optgui: coordinating; start workers with optgui worker STORAGE --study NAME", file=sys.stderr)
        outcome = coordinator.run()
    finally:
        interrupts.restore(previous)
        wait_workers(workers)
    target = f" of {outcome.n_target}" if outcome.n_target is not None else ""
    if outcome.reason == "nothing-to-do":
        print(f"optgui: nothing to do: {outcome.n_finished}{target} trials already finished", file=sys.stderr)
    elif outcome.reason in ("completed", "exhausted"):
        print(f"optgui: done: {outcome.n_finished}{target} trials finished", file=sys.stderr)
    else:
        print(
            f"optgui: {outcome.reason} after {outcome.n_finished}{target} trials; run the same command again to resume",
            file=sys.stderr,
        )
    return 0
