"""Recovering a deterministic fleet whose coordinator died.

Workers never sample, so everything the dead coordinator did is in the study: trials asked (with their complete
suggest phases up to `optgui:fleet`.asked_below), results posted, tells made in trial-number order. The sampler
state at the crash is rebuilt by re-enacting that history batch by batch from the segment's saved state
(optgui.core.replay), exactly as the coordinator interleaved asks and tells.
"""

from __future__ import annotations

from optgui.core.errors import StudyStateError


def recover_dead_coordinator(coordinator, meta) -> None:
    lease = meta.lease or {}
    raise StudyStateError(
        f"the previous coordinator of study {coordinator.request.study_name!r} (process {lease.get('pid')} on "
        f"{lease.get('host')}) died; restarting a crashed deterministic fleet is not supported yet")
