"""The attribute keys optgui stores under (study and trial system attributes, all prefixed `optgui:`)."""

from __future__ import annotations

SCHEMA_VERSION = 1
PREFIX = "optgui:"

# Study system attributes
KEY_SCHEMA = "optgui:schema"
KEY_RUN = "optgui:run"
KEY_TARGET = "optgui:target"
KEY_SEGMENT = "optgui:segment:"  # + segment index
KEY_STATE = "optgui:state:"  # + boundary
KEY_CHECKPOINT = "optgui:checkpoint"
KEY_LEASE = "optgui:lease"
KEY_FLEET = "optgui:fleet"
KEY_CONTROL = "optgui:control"
KEY_WORKER = "optgui:worker:"  # + worker index
KEY_TRUSTED_PICKLES = "optgui:trusted_pickles"
KEY_HISTORY = "optgui:history"  # a warm start's provenance

# Trial system attributes
TRIAL_ERROR = "optgui:error"
TRIAL_ABANDONED = "optgui:abandoned"
TRIAL_RECOVERED = "optgui:recovered"
TRIAL_CLAIM = "optgui:claim:"  # + attempt
TRIAL_RESULT = "optgui:result"
TRIAL_ASKED_BY = "optgui:asked_by"
TRIAL_PICKLE_SIGNATURE = "optgui:pickle_sig"

CHECKPOINT_SECONDS = 60.0  # a crash-recovery checkpoint at most this often


def segment_key(index: int) -> str:
    return f"{KEY_SEGMENT}{index}"


def state_key(boundary: int) -> str:
    return f"{KEY_STATE}{boundary}"


def worker_key(index: int) -> str:
    return f"{KEY_WORKER}{index}"


def claim_key(attempt: int) -> str:
    return f"{TRIAL_CLAIM}{attempt}"


def suffix_number(key: str, prefix: str) -> int | None:
    """The number after `prefix` in `key` (a segment index, a boundary), None when it is not a plain number."""
    suffix = key[len(prefix) :]
    return int(suffix) if suffix.isascii() and suffix.isdigit() and len(suffix) <= 10 else None
