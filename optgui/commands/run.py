"""`optgui run`: run a study headless. Ctrl-C or SIGTERM pauses cleanly (exit 0); rerunning the same command resumes.

A second Ctrl-C abandons the trial in flight, as a crash would, and exits 130; the next run recovers it.
"""

from __future__ import annotations

import sys

from optgui.commands import interrupts
from optgui.commands.output import print_line
from optgui.commands.run_history import add_history_argument, apply_history
from optgui.commands.run_shared import _recorded_fleet, print_drawn_seed
from optgui.core.engine import (
    DEMO_OBJECTIVE,
    DEMO_SAMPLER,
    DEMO_STUDY,
    DEMO_TRIALS,
    RecoveryPerformed,
    RunStarted,
    TrialFinished,
)
from optgui.core.errors import OptguiError, StorageError
from optgui.core.paths import demo_study_path


def add_arguments(parser) -> None:
    parser.add_argument(
        "storage",
        nargs="?",
        metavar="STORAGE",
        help="study file (created if missing; .log/.jsonl makes a journal file) or storage URL",
    )
    parser.add_argument("--study", metavar="NAME", help="study name (required unless --demo)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"run the demo study (in the app data directory; {DEMO_OBJECTIVE}, {DEMO_SAMPLER})",
    )
    parser.add_argument(
        "--objective", metavar="REF", help="FILE.py:FUNCTION, package.module:FUNCTION or builtin:NAME[(args)]"
    )
    parser.add_argument("--sampler", metavar="SPEC", help="e.g. tpe, 'TPESampler(seed=42, multivariate=False)'")
    parser.add_argument("--pruner", metavar="SPEC", help="e.g. 'MedianPruner(n_startup_trials=5)' (default)")
    parser.add_argument("--seed", type=int, metavar="N", help="sampler seed (drawn and recorded if omitted)")
    parser.add_argument(
        "--direction",
        action="append",
        metavar="D",
        help="minimize or maximize (repeat per objective; new studies only)",
    )
    parser.add_argument("--metric-name", action="append", metavar="M", help="objective name (repeatable)")
    parser.add_argument(
        "--n-trials",
        type=int,
        metavar="N",
        help="total target of finished trials for the run (a rerun does the remainder)",
    )
    parser.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds (this invocation only)")
    parser.add_argument(
        "--accept-version-change",
        action="store_true",
        help="no longer needed (kept for old scripts): a changed package version is recorded with the new segment "
        "and checked by the verifier, and the run continues",
    )
    parser.add_argument(
        "--accept-objective-change",
        action="store_true",
        help="resume although the objective file changed since the run started (recorded)",
    )
    parser.add_argument(
        "--trust-pickles",
        action="store_true",
        help="load CMA-ES optimizer pickles this optgui did not write (from plain Optuna, another account or "
        "machine, or tampered): unpickling can run any code, so only for a file you trust (recorded)",
    )
    parser.add_argument(
        "--recipe",
        metavar="FILE",
        help="create the study from a recipe (optgui recipe): its sampler, seed, pruner, objective, directions "
        "and target; --seed S makes a replicate with another seed (recorded), --n-trials overrides the target",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="run the objective in this Python (a venv's, conda's, pyenv's...) through optgui's bridge; default: "
        "optgui's own, or the one the study recorded",
    )
    parser.add_argument(
        "--accept-environment-change",
        action="store_true",
        help="resume although the objective's Python or its installed packages changed since the run started "
        "(recorded)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per trial")
    add_history_argument(parser)
    fleet = parser.add_argument_group("parallel runs (PostgreSQL/MySQL URL or journal file)")
    fleet.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="start N local worker processes (more can join from any machine: optgui worker)",
    )
    fleet.add_argument(
        "--mode",
        choices=("deterministic", "free"),
        help="deterministic (default): one coordinator samples, workers evaluate, results told in "
        "trial-number order; free: classic Optuna, each worker samples (not reproducible)",
    )
    fleet.add_argument(
        "--batch",
        type=int,
        metavar="K",
        help="deterministic mode: trials asked per batch "
        "(default: the number of workers); part of the run's definition",
    )
    fleet.add_argument(
        "--pipeline",
        action="store_true",
        default=None,
        help="deterministic mode: ask the next batch while the current one is evaluated",
    )


def _request_from_args(args):
    # imported on use, not with this module (it loads Optuna, numpy): start-up time
    from optgui.core.engine import RunRequest

    if args.demo:
        path = demo_study_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return RunRequest(
            storage=args.storage or str(path),
            study_name=args.study or DEMO_STUDY,
            objective=args.objective or DEMO_OBJECTIVE,
            sampler=args.sampler or (None if path.exists() else DEMO_SAMPLER),
            pruner=args.pruner,
            seed=args.seed,
            n_trials=args.n_trials or DEMO_TRIALS,
            timeout=args.timeout,
        )
    if not args.storage:
        raise OptguiError("run needs STORAGE (a study file or URL), or --demo")
    if not args.study:
        raise OptguiError("run needs --study NAME")
    if args.n_trials is not None and args.n_trials < 0:
        raise OptguiError(f"--n-trials must be >= 0, got {args.n_trials}")
    if args.recipe:
        return _request_from_recipe(args)
    return RunRequest(
        storage=args.storage,
        study_name=args.study,
        objective=args.objective,
        sampler=args.sampler,
        pruner=args.pruner,
        seed=args.seed,
        directions=args.direction,
        metric_names=args.metric_name,
        n_trials=args.n_trials,
        timeout=args.timeout,
        accept_version_change=args.accept_version_change,
        accept_objective_change=args.accept_objective_change,
        trust_pickles=args.trust_pickles,
        python=args.python,
        accept_environment_change=args.accept_environment_change,
    )


def _request_from_recipe(args):
    """The request creating --study from --recipe; how the environment differs is said before anything runs."""
    # imported on use, not with this module (it loads Optuna): start-up time
    from optgui.core.share import RecipeOptions, read_recipe, recipe_request

    options = RecipeOptions(
        objective=args.objective,
        sampler=args.sampler,
        pruner=args.pruner,
        seed=args.seed,
        directions=args.direction,
        metric_names=args.metric_name,
        n_trials=args.n_trials,
        accept_objective_change=args.accept_objective_change,
    )
    recipe = read_recipe(args.recipe)
    request, notes = recipe_request(recipe, args.storage, args.study, options, recipe_file=args.recipe)
    for note in notes:
        print(f"optgui: recipe: {note}", file=sys.stderr)
    request.timeout = args.timeout
    request.trust_pickles = args.trust_pickles
    return request


def _format_trial(event: TrialFinished) -> str:
    target = f"/{event.n_target}" if event.n_target is not None else ""
    values = ", ".join(f"{v:.6g}" for v in event.values) if event.values else "-"
    line = f"trial {event.number} {event.state} value {values} ({event.duration:.2f}s) [{event.n_finished}{target}]"
    if event.error:
        line += f" error: {event.error.splitlines()[0] if event.error else ''}"
    return line


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__


def execute(args) -> int:
    import optuna

    # imported on use, not with this module (it loads Optuna, numpy): start-up time
    from optgui.core.engine import RunInterrupted, StudyRunner
    from optgui.core.optuna_logs import quiet_optuna_logging

    quiet_optuna_logging()  # optgui prints its own line per trial
    request = apply_history(args, _request_from_args(args))
    fleet_args = (args.workers, args.mode, args.batch, args.pipeline)
    if any(a is not None for a in fleet_args) or _recorded_fleet(request) is not None:
        # imported on use, not with this module: start-up time
        from optgui.commands.fleet_run import execute_fleet

        return execute_fleet(args, request, _format_trial)

    def output_closed():
        # `optgui run … | head`: stop cleanly at the next boundary, as a first Ctrl-C does, instead of dying
        # inside the engine with the trial half-recorded.
        print_line("optgui: output closed; pausing after the current trial", err=True)
        runner.request_stop("paused")

    def listener(event):
        if isinstance(event, TrialFinished) and not args.quiet:
            print_line(_format_trial(event), on_closed=output_closed)
        elif isinstance(event, RecoveryPerformed):
            print_line(
                f"optgui: recovered a run that died (segment {event.dead_segment}); "
                f"{'equivalent' if event.equivalent else 'NOT equivalent: ' + event.reason}",
                err=True,
                on_closed=output_closed,
            )
        elif isinstance(event, RunStarted):
            for note in event.notes:
                print_line(f"optgui: {note}", err=True, on_closed=output_closed)

    runner = StudyRunner(request, listener)
    previous = interrupts.stop_on_first_interrupt(
        "pausing after the current trial… (Ctrl-C again abandons it)", lambda: runner.request_stop("paused")
    )
    try:
        try:
            runner.prepare()
        except KeyboardInterrupt:
            # A second Ctrl-C while opening or recovering: every step of recovery leaves a study the next run
            # recovers the same way, so stopping here loses nothing.
            raise RunInterrupted(
                "interrupted while preparing the run; run the same command again to continue"
            ) from None
        if runner.created_storage:
            print(f"optgui: created {request.storage}", file=sys.stderr)
        print_drawn_seed(runner)
        outcome = runner.run()
    except optuna.exceptions.StorageInternalError as exc:
        # e.g. "database is locked": another process holds SQLite's write lock (stopped or stuck in a write).
        raise StorageError(f"writing to {request.storage} failed: {_root_cause(exc)}") from None
    finally:
        interrupts.restore(previous)
        runner.close_objective()
    target = f" of {outcome.n_target}" if outcome.n_target is not None else ""
    if outcome.reason == "nothing-to-do":
        met = f" (target {outcome.n_target})" if outcome.n_target is not None else ""
        print(f"optgui: nothing to do: {outcome.n_finished} trials already finished{met}", file=sys.stderr)
        for note in outcome.notes:
            print(f"optgui: {note}", file=sys.stderr)
    elif outcome.reason == "completed":
        print(f"optgui: done: {outcome.n_finished}{target} trials finished", file=sys.stderr)
    else:
        how = "run the same command again to resume"
        print(f"optgui: {outcome.reason} after {outcome.n_finished}{target} trials; {how}", file=sys.stderr)
    return 0
