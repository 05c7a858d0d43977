"""Saving an optuna-dashboard note on a study or a trial, in exactly the dashboard's format.

optuna_dashboard's `save_note` writes the version counter (the stored one plus one), then the body's chunks, then
sets to "" the chunks a longer earlier note left beyond the new ones (optgui.core.records._dashboard). This does
the same through Optuna's storage API, after the checks every write of optgui makes: the study is not run by
another live process (a run of this app's own engine, named by `own_pids`, writes beside it), and the note was not
changed since the user began editing it (its version is still `expected_version`, the dashboard's own check).
Nothing is written when a check fails.
"""

from __future__ import annotations

import socket
import warnings
from collections.abc import Collection
from typing import Any

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine import describe_lease, lease_is_live
from optgui.core.errors import LeaseHeldError, StudyStateError
from optgui.core.storage import StorageRef, open_for_run, parse_storage


class NoteConflictError(StudyStateError):
    """The note was saved by someone else (optuna-dashboard, another window) since editing began."""


def save_note(
    storage: str | StorageRef,
    study_name: str,
    trial_number: int | None,
    body: str,
    *,
    expected_version: int,
    own_pids: Collection[int] = (),
) -> int:
    """Save `body` as the study's note (trial_number None) or a trial's; returns the note's new version.

    Raises LeaseHeldError when another live process runs the study, NoteConflictError when the stored version is
    no longer `expected_version`, StudyStateError for a study or trial that does not exist.
    """
    ref = storage if isinstance(storage, StorageRef) else parse_storage(storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental-feature warnings are not the user's business here
        backend, _ = open_for_run(ref, create=False)
        try:
            return _save(backend, ref, study_name, trial_number, body, expected_version, own_pids)
        finally:
            engine = oi.sql_engine(backend)
            if engine is not None:
                engine.dispose()  # release the file: the window keeps only read-only connections


def _save(
    backend: Any,
    ref: StorageRef,
    study_name: str,
    trial_number: int | None,
    body: str,
    expected_version: int,
    own_pids: Collection[int],
) -> int:
    try:
        study_id = backend.get_study_id_from_name(study_name)
    except KeyError:
        raise StudyStateError(f"no study named {study_name!r} in {ref.display}") from None
    attrs = backend.get_study_system_attrs(study_id)
    lease = attrs.get(records.KEY_LEASE)
    if isinstance(lease, dict) and lease_is_live(lease) and not _is_own(lease, own_pids):
        raise LeaseHeldError(
            f"study {study_name!r} is being run by {describe_lease(lease)}; save the note when the run is over"
        )
    trial_id = None
    if trial_number is not None:
        try:
            trial_id = backend.get_trial_id_from_study_id_trial_number(study_id, trial_number)
        except KeyError:
            raise StudyStateError(f"study {study_name!r} has no trial {trial_number}") from None
    stored = attrs.get(records.note_version_key(trial_id), 0)
    if isinstance(stored, bool) or not isinstance(stored, int):
        what = "the study's note" if trial_id is None else f"the note of trial {trial_number}"
        raise StudyStateError(
            f"{what} has a malformed version ({str(stored)[:40]!r}, not an integer): optuna-dashboard cannot save "
            "it either; nothing was written"
        )
    if stored != expected_version:
        what = "the study's note" if trial_id is None else f"the note of trial {trial_number}"
        raise NoteConflictError(
            f"{what} was saved elsewhere since you began editing it (version {stored}, you edited version "
            f"{expected_version}); copy your text, reopen the note and edit it again"
        )
    version = int(stored) + 1
    # The dashboard's save_note_with_version, step by step.
    backend.set_study_system_attr(study_id, records.note_version_key(trial_id), version)
    chunks = records.note_chunks(body, trial_id)
    for key, text in chunks.items():
        backend.set_study_system_attr(study_id, key, text)
    prefix = records.note_chunk_prefix(trial_id)
    stored_chunks = sum(1 for key in backend.get_study_system_attrs(study_id) if key.startswith(prefix))
    for index in range(len(chunks), stored_chunks):
        backend.set_study_system_attr(study_id, f"{prefix}{index}", "")
    return version


def _is_own(lease: dict[str, Any], own_pids: Collection[int]) -> bool:
    return lease.get("host") == socket.gethostname() and lease.get("pid") in set(own_pids)
