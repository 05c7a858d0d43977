"""What `optgui run` and its parallel form (fleet_run) both need: the drawn seed's line, the recorded fleet."""

from __future__ import annotations

import sys


def print_drawn_seed(runner) -> None:
    """The seed optgui drew for a new run without one: recorded in the study, and printed so it can be reused."""
    if runner.drawn_seed is not None:
        print(
            f"optgui: drew sampler seed {runner.drawn_seed} (recorded with the run; --seed repeats it)", file=sys.stderr
        )


def _recorded_fleet(request) -> dict | None:
    """The parallel-run definition recorded in an existing study, if any (read without creating anything)."""
    # imported on use, not with this module: start-up time
    from optgui.core import records
    from optgui.core.storage import open_for_run, parse_storage

    ref = parse_storage(request.storage)
    if ref.kind == "sqlite" or not ref.exists:
        return None
    storage, _ = open_for_run(ref, create=False)
    try:
        study_id = storage.get_study_id_from_name(request.study_name)
    except KeyError:
        return None
    return (records.read_metadata(storage, study_id).run or {}).get("fleet")
