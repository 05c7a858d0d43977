"""`optgui verify`: replay a study's sampler over its recorded history and say whether every trial reproduces.

Exit codes (docs/cli.md): 0 verified, 1 diverged (or an objective check that did not reproduce), 2 unverifiable,
3 error, 4 verified but only replayable under --require-equivalent. The replay runs in a child process with a
different PYTHONHASHSEED; the study is only read, and the verdict is cached in the app cache directory.
"""

from __future__ import annotations

import json
import sys

from optgui.commands.output import print_line
from optgui.core.errors import EXIT_DIVERGED, EXIT_OK, EXIT_ONLY_REPLAYABLE, EXIT_UNVERIFIABLE, OptguiError


def add_arguments(parser) -> None:
    parser.add_argument("storage", metavar="STORAGE", help="study file (SQLite or journal) or storage URL; read only")
    parser.add_argument("--study", metavar="NAME", help="study to verify (optional when STORAGE has exactly one)")
    parser.add_argument(
        "--spec",
        metavar="SPEC",
        help="sampler the study was made with, for studies not run by optgui, e.g. 'TPESampler(seed=42)'",
    )
    parser.add_argument(
        "--objective-check",
        type=int,
        metavar="K",
        default=0,
        help="also re-evaluate K recorded trials (the best one and a random sample) with the "
        "recorded objective: this RUNS the objective's code",
    )
    parser.add_argument(
        "--objective",
        metavar="REF",
        help="objective for --objective-check on a study not run by optgui (FILE.py:FUNCTION, "
        "module:FUNCTION, builtin:NAME)",
    )
    parser.add_argument(
        "--rtol",
        type=float,
        metavar="R",
        help="relative tolerance for --objective-check (default: values must be identical)",
    )
    parser.add_argument(
        "--require-equivalent",
        action="store_true",
        help="exit 4 unless the study is equivalent to an uninterrupted run",
    )
    parser.add_argument("--json", action="store_true", help="print the full verdict as JSON")
    parser.add_argument("--no-cache", action="store_true", help="replay even if a cached verdict exists")


def _exit_code(verdict, require_equivalent: bool) -> int:
    if verdict.kind in ("unverifiable", "not-reproducible"):
        return EXIT_UNVERIFIABLE
    if verdict.kind == "diverged":
        return EXIT_DIVERGED
    if verdict.objective_check is not None and not verdict.objective_check.ok:
        return EXIT_DIVERGED
    if require_equivalent and not verdict.equivalent:
        return EXIT_ONLY_REPLAYABLE
    return EXIT_OK


def _announce_objective(info: dict) -> None:
    """Say which code the objective check is about to run (it is the user's, not optgui's)."""
    where = info.get("file") or info.get("objective")
    root = f"; importing from {info['import_root']}" if info.get("import_root") else ""
    print(f"optgui: objective check: running {where} ({info.get('objective')}{root})", file=sys.stderr, flush=True)


def execute(args) -> int:
    # imported on use, not with this module (it loads Optuna): start-up time
    from optgui.core.verify import VerifyJob, run_objective_check

    # Nothing here imports Optuna: the child process reads the study (and reports a bad STORAGE, --study or
    # --spec as an error), so the parent stays light and the replay runs with a fresh hash seed.
    if args.objective_check < 0:
        raise OptguiError(f"--objective-check must be >= 0, got {args.objective_check}")
    if args.rtol is not None and not args.rtol >= 0:
        raise OptguiError(f"--rtol must be >= 0, got {args.rtol}")
    job = VerifyJob(args.storage, args.study, args.spec, use_cache=not args.no_cache)
    show_progress = sys.stderr.isatty() and not args.json
    try:
        for message in job:
            if show_progress and message.progress is not None:
                print(f"\roptgui: {message.progress.describe()}   ", end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        job.cancel()
        raise
    if show_progress:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    if job.verdict is None:
        error = OptguiError(job.error or "verification failed")
        error.exit_code = job.error_code or error.exit_code
        raise error
    verdict = job.verdict
    if args.objective_check:
        verdict = verdict.with_objective_check(
            run_objective_check(
                args.storage,
                verdict.study,
                args.objective_check,
                rtol=args.rtol,
                objective=args.objective,
                announce=_announce_objective,
            )
        )
    text = json.dumps(verdict.to_json_obj(), indent=2) if args.json else "\n".join(verdict.summary())
    print_line(text)  # `optgui verify ... | head -1`: the exit code still carries the verdict
    return _exit_code(verdict, args.require_equivalent)
