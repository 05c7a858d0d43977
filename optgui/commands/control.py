"""`optgui control STORAGE --study NAME pause|resume|stop|status`: steer every process of a parallel run.

The command is written into the study itself (`optgui:control`), so it reaches workers on every machine that can
reach the storage. Workers finish their trial in flight, then wait (pause) or exit (stop).
"""

from __future__ import annotations

import json

from optgui.core.errors import StudyStateError


def add_arguments(parser) -> None:
    parser.add_argument("storage", metavar="STORAGE", help="the shared storage URL or journal file")
    parser.add_argument("--study", metavar="NAME", required=True, help="study name")
    parser.add_argument(
        "action",
        metavar="pause|resume|stop|status",
        choices=("pause", "resume", "stop", "status"),
        help="pause: finish trials in flight and wait; resume; stop: finish and exit; status: show the fleet",
    )
    parser.add_argument("--json", action="store_true", help='status as JSON (with a "schema" field)')


def execute(args) -> int:
    # imported on use, not with this module: start-up time
    from optgui.core import fleet as fl
    from optgui.core.storage import open_for_run, parse_storage

    ref = parse_storage(args.storage)
    storage, _ = open_for_run(ref, create=False)
    try:
        study_id = storage.get_study_id_from_name(args.study)
    except KeyError:
        raise StudyStateError(f"no study {args.study!r} in {ref.display}") from None
    store = fl.fleet_store(storage, study_id, ref)
    if args.action != "status":
        record = fl.send_command(store, args.action)
        print(f"optgui: sent {args.action} (#{record['seq']}) to the fleet of study {args.study!r}")
        return 0
    status = fl.read_status(store)
    if args.json:
        print(
            json.dumps(
                {
                    "schema": "optgui-fleet-status-1",
                    "mode": status.mode,
                    "state": status.state,
                    "command": status.command,
                    "running_trials": list(status.running_trials),
                    "workers": [w.__dict__ for w in status.workers],
                },
                indent=2,
            )
        )
        return 0
    print(
        f"fleet: mode {status.mode or '-'}, state {status.state or '-'}, command {status.command}, "
        f"running trials {list(status.running_trials) or '-'}"
    )
    for w in status.workers:
        trial = "-" if w.trial is None else w.trial
        print(
            f"  worker {w.index:>3} {w.state:<9} {w.host}:{w.pid} trial {trial} evaluated {w.n_evaluated} "
            f"heartbeat {w.heartbeat_age:.0f}s ago"
        )
    return 0
