"""`optgui run … --history REF[@0-99,120]`: start a new study from finished trials of earlier studies (a warm
start), then run it as usual. `--n-trials` is the new study's total, the copied trials included (also on reruns:
the count copied is recorded in the study)."""

from __future__ import annotations

import dataclasses
import sys

from optgui.core.errors import OptguiError


def add_history_argument(parser) -> None:
    parser.add_argument(
        "--history",
        action="append",
        metavar="REF[@SEL]",
        help="new study only: first add the finished trials of another study (FILE, FILE#STUDY, URL#STUDY; "
        "@0-99,120 selects trial numbers); repeatable; --n-trials then counts the copied trials",
    )


def apply_history(args, request):
    """Copy the --history trials into the new study (before the runner sees it) and turn --n-trials, the study's
    total, into the run's own target. Returns the request to run."""
    from optgui.core.engine import copied_trial_count

    if getattr(args, "history", None):
        n_copied = _warm_start(args, request)
    elif request.n_trials is not None:
        n_copied = copied_trial_count(request.storage, request.study_name)
    else:
        return request
    if n_copied and request.n_trials is not None:
        target = max(request.n_trials - n_copied, 0)
        print(
            f"optgui: --n-trials {request.n_trials} includes the {n_copied} copied trials: "
            f"this run's target is {target}",
            file=sys.stderr,
        )
        request = dataclasses.replace(request, n_trials=target)
    return request


def _warm_start(args, request) -> int:
    from optgui.core.engine import parse_objective, parse_spec, plan_history, start_from_history

    if args.demo or args.workers is not None:
        raise OptguiError("--history starts a new single-process study: not with --demo or --workers")
    if not request.objective:
        raise OptguiError("--history makes a new study: it needs --objective")
    # Checked before anything is written, so a typo leaves no half-made study behind.
    parse_objective(request.objective, import_root=request.objective_import_root)
    parse_spec(request.sampler or "tpe", "sampler")
    if request.pruner:
        parse_spec(request.pruner, "pruner")
    plan = plan_history(args.history, request.directions)
    for skipped in plan.skipped:
        print(f"optgui: not copied: {skipped.describe()}", file=sys.stderr)
    if not plan.trials:
        raise OptguiError("none of the --history trials can be copied (see above); nothing was written")
    created = start_from_history(
        request.storage, request.study_name, plan, metric_names=request.metric_names, create_storage=True
    )
    if created:
        print(f"optgui: created {request.storage}", file=sys.stderr)
    sources = ", ".join(
        f"{s['storage'].rstrip('/').rsplit('/', 1)[-1]}#{s['study']} ({len(s['trials'])})"
        for s in plan.sources
        if s["trials"]
    )
    print(
        f"optgui: study {request.study_name!r} starts from {len(plan.trials)} copied trials: {sources}",
        file=sys.stderr,
    )
    return len(plan.trials)
