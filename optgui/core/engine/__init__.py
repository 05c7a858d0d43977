"""Running a study: the request, the ask/tell runner and its child process, objectives, sampler specs and
their saved state, crash recovery and replay, the lease, the events, captured trial output, versions.

Depends on the records and the storage layer; the verifier and the fleet build on it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optgui.core.engine._bridge import BridgeObjective, try_objective, worker_objective
    from optgui.core.engine._builtin_objectives import BUILTINS, DEFAULT_DIRECTIONS
    from optgui.core.engine._child_process import isolated_environment, python_command
    from optgui.core.engine._demo import DEMO_OBJECTIVE, DEMO_SAMPLER, DEMO_STUDY, DEMO_TRIALS
    from optgui.core.engine._engine_process import EngineProcess
    from optgui.core.engine._events import (
        RecoveryPerformed,
        RunFailed,
        RunStarted,
        RunStateChanged,
        TrialFinished,
        TrialStarted,
    )
    from optgui.core.engine._lease import Lease, describe_lease, lease_is_live
    from optgui.core.engine._objectives import (
        ObjectiveRef,
        check_against_record,
        load_objective,
        objective_import_root,
        parse_objective,
    )
    from optgui.core.engine._pickle_trust import (
        TRIAL_PICKLE_SIGNATURE,
        ForeignPicklesError,
        PickleRecorder,
        foreign_pickle_trials,
        signature,
        signing_key,
        spec_uses_cmaes,
    )
    from optgui.core.engine._priority import lower_priority
    from optgui.core.engine._python_env import (
        EnvironmentCheck,
        InterpreterCandidate,
        InterpreterInfo,
        PythonEnvironment,
        PythonEnvironmentError,
        check_environment_for_run,
        check_objective,
        describe_interpreter,
        find_interpreters,
        own_interpreter,
        probe_environment,
        recorded_environment,
    )
    from optgui.core.engine._recovery import RecoveryError, choose_start_state, plan_recovery, reset_zombie_rdb
    from optgui.core.engine._replay import Reenactor, ReplayError, float_bits
    from optgui.core.engine._rng_state import SamplerStateError, restore
    from optgui.core.engine._runner import (
        RunInterrupted,
        RunOutcome,
        RunRequest,
        StudyRunner,
        TrialAbandoned,
    )
    from optgui.core.engine._samplers import (
        DEFAULT_PRUNER,
        PRUNER_CLASSES,
        SAMPLER_CLASSES,
        Spec,
        draw_seed,
        parse_spec,
        resolve_seed,
    )
    from optgui.core.engine._segment_plan import ENDED_WITH_STATE, SegmentPlan, plan_segment
    from optgui.core.engine._split_objective import SplitObjective, fix_suggests, run_suggest_phase
    from optgui.core.engine._study_admin import (
        CopyCancelled,
        copy_study_with_metadata,
        delete_study,
        enqueue_params,
        rename_study,
        upgrade_schema,
    )
    from optgui.core.engine._trial_output import LogTail, read_trial_output, strip_engine_frames
    from optgui.core.engine._trial_store import StoreChange, TrialStore
    from optgui.core.engine._versions import (
        current_versions,
        describe_differences,
        used_packages,
        version_differences,
        versions_for,
    )
    from optgui.core.engine._warm_start import (
        HistoryPlan,
        SkippedTrial,
        copied_trial_count,
        plan_history,
        start_from_history,
        trials_digest,
    )

__all__ = [
    "HistoryPlan",
    "SkippedTrial",
    "copied_trial_count",
    "plan_history",
    "start_from_history",
    "trials_digest",
    "BUILTINS",
    "CopyCancelled",
    "DEFAULT_DIRECTIONS",
    "DEFAULT_PRUNER",
    "DEMO_OBJECTIVE",
    "DEMO_SAMPLER",
    "DEMO_STUDY",
    "DEMO_TRIALS",
    "ENDED_WITH_STATE",
    "EngineProcess",
    "ForeignPicklesError",
    "Lease",
    "LogTail",
    "ObjectiveRef",
    "PRUNER_CLASSES",
    "PickleRecorder",
    "RecoveryError",
    "RecoveryPerformed",
    "Reenactor",
    "ReplayError",
    "RunFailed",
    "RunInterrupted",
    "RunOutcome",
    "RunRequest",
    "RunStarted",
    "RunStateChanged",
    "BridgeObjective",
    "EnvironmentCheck",
    "InterpreterCandidate",
    "InterpreterInfo",
    "PythonEnvironment",
    "PythonEnvironmentError",
    "SAMPLER_CLASSES",
    "SamplerStateError",
    "SegmentPlan",
    "Spec",
    "SplitObjective",
    "StoreChange",
    "StudyRunner",
    "TRIAL_PICKLE_SIGNATURE",
    "TrialAbandoned",
    "TrialFinished",
    "TrialStarted",
    "TrialStore",
    "check_against_record",
    "check_environment_for_run",
    "check_objective",
    "describe_interpreter",
    "find_interpreters",
    "own_interpreter",
    "try_objective",
    "probe_environment",
    "recorded_environment",
    "worker_objective",
    "choose_start_state",
    "copy_study_with_metadata",
    "current_versions",
    "delete_study",
    "describe_differences",
    "describe_lease",
    "draw_seed",
    "enqueue_params",
    "fix_suggests",
    "float_bits",
    "foreign_pickle_trials",
    "isolated_environment",
    "lease_is_live",
    "load_objective",
    "lower_priority",
    "objective_import_root",
    "parse_objective",
    "parse_spec",
    "plan_recovery",
    "plan_segment",
    "python_command",
    "read_trial_output",
    "rename_study",
    "reset_zombie_rdb",
    "resolve_seed",
    "restore",
    "run_suggest_phase",
    "signature",
    "signing_key",
    "spec_uses_cmaes",
    "strip_engine_frames",
    "upgrade_schema",
    "used_packages",
    "version_differences",
    "versions_for",
]

_EXPORTS = {
    "ENDED_WITH_STATE": "optgui.core.engine._segment_plan",
    "SegmentPlan": "optgui.core.engine._segment_plan",
    "plan_segment": "optgui.core.engine._segment_plan",
    "HistoryPlan": "optgui.core.engine._warm_start",
    "SkippedTrial": "optgui.core.engine._warm_start",
    "copied_trial_count": "optgui.core.engine._warm_start",
    "plan_history": "optgui.core.engine._warm_start",
    "start_from_history": "optgui.core.engine._warm_start",
    "trials_digest": "optgui.core.engine._warm_start",
    "RunInterrupted": "optgui.core.engine._runner",
    "RunOutcome": "optgui.core.engine._runner",
    "RunRequest": "optgui.core.engine._runner",
    "StudyRunner": "optgui.core.engine._runner",
    "TrialAbandoned": "optgui.core.engine._runner",
    "BridgeObjective": "optgui.core.engine._bridge",
    "worker_objective": "optgui.core.engine._bridge",
    "try_objective": "optgui.core.engine._bridge",
    "EnvironmentCheck": "optgui.core.engine._python_env",
    "InterpreterInfo": "optgui.core.engine._python_env",
    "check_environment_for_run": "optgui.core.engine._python_env",
    "describe_interpreter": "optgui.core.engine._python_env",
    "own_interpreter": "optgui.core.engine._python_env",
    "PythonEnvironment": "optgui.core.engine._python_env",
    "PythonEnvironmentError": "optgui.core.engine._python_env",
    "check_objective": "optgui.core.engine._python_env",
    "probe_environment": "optgui.core.engine._python_env",
    "find_interpreters": "optgui.core.engine._python_env",
    "InterpreterCandidate": "optgui.core.engine._python_env",
    "recorded_environment": "optgui.core.engine._python_env",
    "EngineProcess": "optgui.core.engine._engine_process",
    "RecoveryPerformed": "optgui.core.engine._events",
    "RunFailed": "optgui.core.engine._events",
    "RunStarted": "optgui.core.engine._events",
    "RunStateChanged": "optgui.core.engine._events",
    "TrialFinished": "optgui.core.engine._events",
    "TrialStarted": "optgui.core.engine._events",
    "DEFAULT_PRUNER": "optgui.core.engine._samplers",
    "PRUNER_CLASSES": "optgui.core.engine._samplers",
    "SAMPLER_CLASSES": "optgui.core.engine._samplers",
    "Spec": "optgui.core.engine._samplers",
    "draw_seed": "optgui.core.engine._samplers",
    "parse_spec": "optgui.core.engine._samplers",
    "resolve_seed": "optgui.core.engine._samplers",
    "BUILTINS": "optgui.core.engine._builtin_objectives",
    "DEFAULT_DIRECTIONS": "optgui.core.engine._builtin_objectives",
    "ObjectiveRef": "optgui.core.engine._objectives",
    "check_against_record": "optgui.core.engine._objectives",
    "load_objective": "optgui.core.engine._objectives",
    "objective_import_root": "optgui.core.engine._objectives",
    "parse_objective": "optgui.core.engine._objectives",
    "SplitObjective": "optgui.core.engine._split_objective",
    "fix_suggests": "optgui.core.engine._split_objective",
    "run_suggest_phase": "optgui.core.engine._split_objective",
    "isolated_environment": "optgui.core.engine._child_process",
    "python_command": "optgui.core.engine._child_process",
    "lower_priority": "optgui.core.engine._priority",
    "StoreChange": "optgui.core.engine._trial_store",
    "TrialStore": "optgui.core.engine._trial_store",
    "DEMO_OBJECTIVE": "optgui.core.engine._demo",
    "DEMO_SAMPLER": "optgui.core.engine._demo",
    "DEMO_STUDY": "optgui.core.engine._demo",
    "DEMO_TRIALS": "optgui.core.engine._demo",
    "Lease": "optgui.core.engine._lease",
    "describe_lease": "optgui.core.engine._lease",
    "lease_is_live": "optgui.core.engine._lease",
    "RecoveryError": "optgui.core.engine._recovery",
    "choose_start_state": "optgui.core.engine._recovery",
    "plan_recovery": "optgui.core.engine._recovery",
    "reset_zombie_rdb": "optgui.core.engine._recovery",
    "Reenactor": "optgui.core.engine._replay",
    "ReplayError": "optgui.core.engine._replay",
    "float_bits": "optgui.core.engine._replay",
    "SamplerStateError": "optgui.core.engine._rng_state",
    "restore": "optgui.core.engine._rng_state",
    "ForeignPicklesError": "optgui.core.engine._pickle_trust",
    "PickleRecorder": "optgui.core.engine._pickle_trust",
    "TRIAL_PICKLE_SIGNATURE": "optgui.core.engine._pickle_trust",
    "foreign_pickle_trials": "optgui.core.engine._pickle_trust",
    "signature": "optgui.core.engine._pickle_trust",
    "signing_key": "optgui.core.engine._pickle_trust",
    "spec_uses_cmaes": "optgui.core.engine._pickle_trust",
    "LogTail": "optgui.core.engine._trial_output",
    "read_trial_output": "optgui.core.engine._trial_output",
    "strip_engine_frames": "optgui.core.engine._trial_output",
    "current_versions": "optgui.core.engine._versions",
    "describe_differences": "optgui.core.engine._versions",
    "used_packages": "optgui.core.engine._versions",
    "version_differences": "optgui.core.engine._versions",
    "versions_for": "optgui.core.engine._versions",
    "CopyCancelled": "optgui.core.engine._study_admin",
    "copy_study_with_metadata": "optgui.core.engine._study_admin",
    "delete_study": "optgui.core.engine._study_admin",
    "enqueue_params": "optgui.core.engine._study_admin",
    "rename_study": "optgui.core.engine._study_admin",
    "upgrade_schema": "optgui.core.engine._study_admin",
}


def __getattr__(name: str) -> object:
    # Lazy: `import optgui.core.engine` loads nothing until a name is used, so the CLI and the GUI start fast.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
