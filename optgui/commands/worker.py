"""`optgui worker STORAGE --study NAME`: evaluate trials of a parallel run, on this or any other machine.

The study (created by `optgui run --workers N`) says everything: the objective, the sampler spec and the mode.
Ctrl-C or SIGTERM finishes the trial in flight and exits 0; a second Ctrl-C exits at once (130): the trial is then
claimed again by another worker (deterministic mode) or told FAIL (free-running mode).
"""

from __future__ import annotations

import os
import signal
import sys

from optgui.commands.fleet_run import FLEET_SESSION_ENV
from optgui.commands.output import print_line
from optgui.core.engine import TrialFinished


def add_arguments(parser) -> None:
    parser.add_argument(
        "storage",
        metavar="STORAGE",
        help="the shared storage: a postgresql:// or mysql:// URL, or an Optuna journal file",
    )
    parser.add_argument("--study", metavar="NAME", required=True, help="study name")
    parser.add_argument(
        "--accept-version-change",
        action="store_true",
        help="no longer needed (kept for old scripts): a changed package version is recorded in the worker's "
        "record and the worker evaluates",
    )
    parser.add_argument(
        "--accept-objective-change",
        action="store_true",
        help="evaluate although the objective file changed since the run started",
    )
    parser.add_argument(
        "--trust-pickles",
        action="store_true",
        help="free mode with CMA-ES: load optimizer pickles this optgui did not write (can run any code)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="run the objective in this Python (the project's venv, conda env...) through optgui's bridge; "
        "default: the interpreter the study recorded, else optgui's own",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per trial")


def execute(args) -> int:
    import optuna

    # imported on use, not with this module (it loads Optuna): start-up time
    from optgui.core.fleet import FleetWorker

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def listener(event):
        if isinstance(event, TrialFinished) and not args.quiet:
            values = ", ".join(f"{v:.6g}" for v in event.values) if event.values else "-"
            print_line(
                f"worker {worker.index}: trial {event.number} {event.state} value {values} ({event.duration:.2f}s)",
                on_closed=worker.request_stop,  # output closed: stop after this trial rather than die in the next
            )

    # imported on use, not with this module (it loads Optuna): start-up time
    from optgui.core.engine import TrialAbandoned, worker_objective

    objective = worker_objective(args.storage, args.study, args.python, abandoned=TrialAbandoned)
    worker = FleetWorker(
        args.storage,
        args.study,
        listener,
        objective=objective,
        accept_objective_change=args.accept_objective_change,
        accept_version_change=args.accept_version_change,
        trust_pickles=args.trust_pickles,
        fleet_session=os.environ.get(FLEET_SESSION_ENV),
    )
    interrupts = {"count": 0}

    def on_signal(signum, frame):
        interrupts["count"] += 1
        if interrupts["count"] == 1:
            print(
                "\noptgui: worker stopping after the current trial… (Ctrl-C again exits at once)",
                file=sys.stderr,
                flush=True,
            )
            worker.request_stop()
        else:
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.prepare()
        for note in worker.notes:
            print(f"optgui: {note}", file=sys.stderr, flush=True)
        print(
            f"optgui: worker {worker.index} ({worker.mode} mode) on study {args.study!r}", file=sys.stderr, flush=True
        )
        outcome = worker.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if objective is not None:
            objective.close()
    print(
        f"optgui: worker {outcome.index} {outcome.reason} after evaluating {outcome.n_evaluated} trials",
        file=sys.stderr,
    )
    return 0
