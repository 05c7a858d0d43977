"""Reading a study for verification without modifying its storage.

Everything the verifier reads goes through `read_study` / `study_names`, so that the fast columnar reader can
replace Optuna's storages here later without touching the verifier. SQLite files are opened through a read-only
`file:...?mode=ro` URI (Optuna's RDBStorage constructor otherwise creates tables and stamps versions on empty or old
files); journal files through a backend that refuses to append (Optuna's own backend creates a missing file).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial

from optgui.core import json_text
from optgui.core.errors import StorageError, StudyStateError
from optgui.core.storage import StorageRef, parse_storage


@dataclass(frozen=True)
class StudySnapshot:
    """One study as read at one moment: what the verifier needs, nothing written back."""

    storage: str  # what the user named (display form, without passwords)
    name: str
    directions: tuple[str, ...]
    system_attrs: dict[str, Any]
    trials: tuple[FrozenTrial, ...]  # in number order


def _sqlite_ro_url(ref: StorageRef) -> str:
    assert ref.path is not None
    return f"sqlite:///file:{quote(str(ref.path))}?mode=ro&uri=true"


def _open_readonly(ref: StorageRef):
    from optuna.storages import RDBStorage
    from optuna.storages.journal import JournalStorage

    if ref.path is not None and not ref.path.is_file():
        raise StorageError(f"{ref.path} does not exist")
    if ref.path is not None and not os.access(ref.path, os.R_OK):
        raise StorageError(f"{ref.path} is not readable by you")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if ref.kind == "journal":
                return JournalStorage(_ReadOnlyJournalBackend(str(ref.path)))
            url = _sqlite_ro_url(ref) if ref.kind == "sqlite" else ref.url
            return RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True)
    except Exception as exc:  # noqa: BLE001 - driver errors come in many types; the message is what matters
        raise StorageError(f"cannot open {ref.display}: {exc.__class__.__name__}: {exc}") from None


class _ReadOnlyJournalBackend(JournalFileBackend):
    """Optuna's journal file backend minus every write: no file creation, no lock files, no appends."""

    def __init__(self, file_path: str) -> None:  # noqa: D107 - deliberately skips the parent's file creation
        self._file_path = file_path
        self._lock = None
        self._log_number_offset = {0: 0}

    def append_logs(self, logs) -> None:
        raise StorageError("the study is open read-only for verification; nothing may be written to it")


def _read_failure(what: str, ref: StorageRef, exc: Exception) -> StorageError:
    if json_text.is_too_deep(exc):  # Optuna decodes attribute values with plain json
        reason = f"a stored value holds {json_text.TOO_DEEP}; the file was crafted or is damaged"
    else:
        reason = f"{exc.__class__.__name__}: {exc}"
    return StorageError(f"cannot read {what} from {ref.display}: {reason}")


def study_names(storage_text: str) -> list[str]:
    ref = parse_storage(storage_text)
    storage = _open_readonly(ref)
    try:
        return [s.study_name for s in storage.get_all_studies()]
    except Exception as exc:  # noqa: BLE001
        raise _read_failure("studies", ref, exc) from None
    finally:
        _close(storage)


def resolve_study_name(storage_text: str, study_name: str | None) -> str:
    """The study to verify: the one named, or the only one in the storage."""
    names = study_names(storage_text)
    if study_name is not None:
        if study_name not in names:
            listed = ", ".join(repr(n) for n in names) or "none"
            raise StudyStateError(
                f"no study named {study_name!r} in {parse_storage(storage_text).display} (studies: {listed})"
            )
        return study_name
    if len(names) == 1:
        return names[0]
    if not names:
        raise StudyStateError(f"{parse_storage(storage_text).display} contains no study")
    raise StudyStateError(
        f"{parse_storage(storage_text).display} has {len(names)} studies; choose one with --study "
        f"({', '.join(repr(n) for n in names)})"
    )


def read_study(storage_text: str, study_name: str) -> StudySnapshot:
    ref = parse_storage(storage_text)
    storage = _open_readonly(ref)
    try:
        try:
            study_id = storage.get_study_id_from_name(study_name)
        except KeyError:
            raise StudyStateError(f"no study named {study_name!r} in {ref.display}") from None
        directions = tuple(d.name.lower() for d in storage.get_study_directions(study_id))
        attrs = storage.get_study_system_attrs(study_id)
        trials = storage.get_all_trials(study_id, deepcopy=False)
    except (StudyStateError, StorageError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise _read_failure(f"study {study_name!r}", ref, exc) from None
    finally:
        _close(storage)
    trials = sorted(trials, key=lambda t: (t.number, t._trial_id))
    return StudySnapshot(ref.display, study_name, directions, dict(attrs), tuple(trials))


def _close(storage) -> None:
    engine = getattr(storage, "engine", None)
    if engine is not None:
        storage.scoped_session.remove()
        engine.dispose()
