"""Parallel runs: the fleet's records and store, the coordinator (deterministic: every sampler call in one
process), the workers, and the recovery of a dead coordinator. Builds on the engine; independent of the
verifier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.fleet._coordinator import Coordinator, FleetOptions, FreeRunSetup
    from optgui.core.fleet._recovery import plan_coordinator_recovery
    from optgui.core.fleet._store import (
        COMMANDS,
        HEARTBEAT_SECONDS,
        KEY_CONTROL,
        KEY_FLEET,
        KEY_WORKER,
        MODES,
        STALE_SECONDS,
        TRIAL_ASKED_BY,
        TRIAL_CLAIM,
        TRIAL_RESULT,
        FleetStatus,
        FleetStore,
        RunningTrial,
        WorkerRegistration,
        WorkerStatus,
        claim_key,
        dispose_fleet_store,
        effective_command,
        evaluating_trials,
        fleet_store,
        iter_worker_records,
        live_claimer,
        open_fleet_store,
        read_status,
        require_parallel_storage,
        send_command,
        worker_is_alive,
        worker_key,
    )
    from optgui.core.fleet._worker import FleetWorker, WorkerOutcome

__all__ = [
    "COMMANDS",
    "Coordinator",
    "FleetOptions",
    "FleetStatus",
    "FleetStore",
    "FleetWorker",
    "FreeRunSetup",
    "HEARTBEAT_SECONDS",
    "KEY_CONTROL",
    "KEY_FLEET",
    "KEY_WORKER",
    "MODES",
    "RunningTrial",
    "STALE_SECONDS",
    "TRIAL_ASKED_BY",
    "TRIAL_CLAIM",
    "TRIAL_RESULT",
    "WorkerOutcome",
    "WorkerRegistration",
    "WorkerStatus",
    "claim_key",
    "dispose_fleet_store",
    "effective_command",
    "evaluating_trials",
    "fleet_store",
    "iter_worker_records",
    "live_claimer",
    "open_fleet_store",
    "plan_coordinator_recovery",
    "read_status",
    "require_parallel_storage",
    "send_command",
    "worker_is_alive",
    "worker_key",
]

_EXPORTS = {
    "COMMANDS": "optgui.core.fleet._store",
    "FleetStatus": "optgui.core.fleet._store",
    "FleetStore": "optgui.core.fleet._store",
    "HEARTBEAT_SECONDS": "optgui.core.fleet._store",
    "KEY_CONTROL": "optgui.core.fleet._store",
    "KEY_FLEET": "optgui.core.fleet._store",
    "KEY_WORKER": "optgui.core.fleet._store",
    "MODES": "optgui.core.fleet._store",
    "RunningTrial": "optgui.core.fleet._store",
    "STALE_SECONDS": "optgui.core.fleet._store",
    "TRIAL_ASKED_BY": "optgui.core.fleet._store",
    "TRIAL_CLAIM": "optgui.core.fleet._store",
    "TRIAL_RESULT": "optgui.core.fleet._store",
    "WorkerRegistration": "optgui.core.fleet._store",
    "WorkerStatus": "optgui.core.fleet._store",
    "claim_key": "optgui.core.fleet._store",
    "dispose_fleet_store": "optgui.core.fleet._store",
    "effective_command": "optgui.core.fleet._store",
    "evaluating_trials": "optgui.core.fleet._store",
    "fleet_store": "optgui.core.fleet._store",
    "iter_worker_records": "optgui.core.fleet._store",
    "live_claimer": "optgui.core.fleet._store",
    "open_fleet_store": "optgui.core.fleet._store",
    "read_status": "optgui.core.fleet._store",
    "require_parallel_storage": "optgui.core.fleet._store",
    "send_command": "optgui.core.fleet._store",
    "worker_is_alive": "optgui.core.fleet._store",
    "worker_key": "optgui.core.fleet._store",
    "Coordinator": "optgui.core.fleet._coordinator",
    "FleetOptions": "optgui.core.fleet._coordinator",
    "FreeRunSetup": "optgui.core.fleet._coordinator",
    "FleetWorker": "optgui.core.fleet._worker",
    "WorkerOutcome": "optgui.core.fleet._worker",
    "plan_coordinator_recovery": "optgui.core.fleet._recovery",
}


# Lazy: `import optgui.core.fleet` loads nothing until a name is used, so the CLI and the GUI start fast.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
