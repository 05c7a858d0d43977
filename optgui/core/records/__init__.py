"""What optgui stores in a study: typed records, their keys and how they are read and written.

Everything lives in the study's own storage as Optuna system attributes whose keys start with `optgui:`, so the
database stays a valid Optuna database that `optuna` and optuna-dashboard read unchanged, and a copied file carries
its state. Each record is a frozen dataclass with `to_json()` (the JSON object stored, in the key order optgui has
always written) and `from_json()` (checked: a malformed record raises MetadataError naming the key and what is
wrong; keys a newer version added are kept and written back unchanged). Closed vocabularies are StrEnums that
compare equal to the strings stored. docs/storage-format.md is generated from these classes
(`python -m optgui.core.records > docs/storage-format.md`).

>>> from optgui.core.records import EndReason, Segment, SegmentStart
>>> segment = Segment.from_json({"index": 0, "start_trial": 0, "resumed_by": "start",
...                              "end": {"reason": "paused", "last_trial": 9, "states": "10C"}})
>>> segment.resumed_by is SegmentStart.START, segment.end.reason is EndReason.PAUSED, segment.end.saved_state
(True, True, True)
>>> Segment.from_json(segment.to_json()) == segment
True
>>> Segment.from_json({"index": 0, "start_trial": -1}, "optgui:segment:0")
Traceback (most recent call last):
...
optgui.core.records._base.RecordError: optgui:segment:0 has 'start_trial' = -1, not a trial number
"""

from __future__ import annotations

from optgui.core.records._base import MAX_TRIAL_NUMBER, MetadataError, RecordError, now_iso
from optgui.core.records._dashboard import (
    ARTIFACT_PREFIX,
    DASHBOARD_PREFIX,
    NOTE_CHUNK_LENGTH,
    NOTE_KEY,
    ArtifactRecord,
    note_chunk_prefix,
    note_chunks,
    note_version_key,
)
from optgui.core.records._fleet import AskedBy, Claim, ControlRecord, FleetRecord, TrialResult, WorkerRecord
from optgui.core.records._history import HistoryRecord, write_history
from optgui.core.records._keys import (
    CHECKPOINT_SECONDS,
    KEY_CHECKPOINT,
    KEY_CONTROL,
    KEY_FLEET,
    KEY_HISTORY,
    KEY_LEASE,
    KEY_RUN,
    KEY_SCHEMA,
    KEY_SEGMENT,
    KEY_STATE,
    KEY_TARGET,
    KEY_TRUSTED_PICKLES,
    KEY_WORKER,
    PREFIX,
    SCHEMA_VERSION,
    TRIAL_ABANDONED,
    TRIAL_ASKED_BY,
    TRIAL_CLAIM,
    TRIAL_ERROR,
    TRIAL_PICKLE_SIGNATURE,
    TRIAL_RECOVERED,
    TRIAL_RESULT,
    claim_key,
    segment_key,
    state_key,
    worker_key,
)
from optgui.core.records._lease import COPIED_LEASE, LeaseRecord
from optgui.core.records._run import RunRecord, Target, write_run, write_target
from optgui.core.records._segment import (
    STATE_LETTERS,
    Segment,
    SegmentEnd,
    decode_states,
    encode_states,
    write_segment,
)
from optgui.core.records._state import (
    Checkpoint,
    SavedState,
    incremental_study_attrs,
    resolve_state_chain,
    write_checkpoint,
    write_state,
)
from optgui.core.records._study import StudyMetadata, read_metadata, sampler_owned_study_attrs
from optgui.core.records._trial import Abandoned, Recovered, TrialError
from optgui.core.records._vocabulary import (
    ENDED_WITH_STATE,
    Direction,
    EndReason,
    FleetCommand,
    FleetMode,
    RecoveryHandling,
    ResultState,
    RunOrigin,
    RunState,
    SegmentStart,
    WorkerState,
)

__all__ = [
    # the study's records, parsed and checked
    "StudyMetadata",
    "read_metadata",
    "sampler_owned_study_attrs",
    "MetadataError",
    "RecordError",
    # records
    "RunRecord",
    "Target",
    "Segment",
    "SegmentEnd",
    "SavedState",
    "Checkpoint",
    "LeaseRecord",
    "COPIED_LEASE",
    "HistoryRecord",
    "TrialError",
    "Abandoned",
    "Recovered",
    "FleetRecord",
    "ControlRecord",
    "WorkerRecord",
    "Claim",
    "TrialResult",
    "AskedBy",
    # vocabularies
    "RunState",
    "EndReason",
    "ENDED_WITH_STATE",
    "SegmentStart",
    "RunOrigin",
    "Direction",
    "RecoveryHandling",
    "FleetMode",
    "FleetCommand",
    "WorkerState",
    "ResultState",
    # writers (one per record)
    "write_run",
    "write_target",
    "write_segment",
    "write_state",
    "write_checkpoint",
    "write_history",
    # saved states stored incrementally
    "resolve_state_chain",
    "incremental_study_attrs",
    # segment end.states
    "encode_states",
    "decode_states",
    "STATE_LETTERS",
    # keys
    "SCHEMA_VERSION",
    "PREFIX",
    "KEY_SCHEMA",
    "KEY_RUN",
    "KEY_TARGET",
    "KEY_SEGMENT",
    "KEY_STATE",
    "KEY_CHECKPOINT",
    "KEY_LEASE",
    "KEY_FLEET",
    "KEY_CONTROL",
    "KEY_WORKER",
    "KEY_TRUSTED_PICKLES",
    "KEY_HISTORY",
    "TRIAL_ERROR",
    "TRIAL_ABANDONED",
    "TRIAL_RECOVERED",
    "TRIAL_CLAIM",
    "TRIAL_RESULT",
    "TRIAL_ASKED_BY",
    "TRIAL_PICKLE_SIGNATURE",
    "segment_key",
    "state_key",
    "worker_key",
    "claim_key",
    "CHECKPOINT_SECONDS",
    "MAX_TRIAL_NUMBER",
    "now_iso",
    # optuna-dashboard's notes and Optuna's artifact metadata (foreign keys optgui reads; notes also written)
    "ArtifactRecord",
    "ARTIFACT_PREFIX",
    "DASHBOARD_PREFIX",
    "NOTE_CHUNK_LENGTH",
    "NOTE_KEY",
    "note_chunk_prefix",
    "note_chunks",
    "note_version_key",
]
