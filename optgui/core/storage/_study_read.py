"""Reading a study for verification exactly as carefully as `optgui inspect` reads it, without touching its storage.

Everything the verifier reads goes through `read_study` / `study_names`:

1. The storage is named and checked the way inspect checks it (optgui.core.storage._naming.resolve_for_reading, then
   optgui.core.storage._reader.open_reader: read-only connections, the schema check that refuses unknown or future
   alembic versions, the journal parser that names a corrupt line), so every bad input is one StorageError line in the
   same words as inspect's.
2. A SQLite or journal file is read from a private snapshot, never in place: a folder only this user can open
   (under the app cache directory) receives a copy, and every reader, optgui's and Optuna's, opens the copy. A WAL
   database is copied with its `-wal` file, so the copy holds the WAL's committed transactions (an `immutable=1`
   read would ignore them, and a plain read-only connection creates `-wal`/`-shm` files beside the study); a
   rollback-journal database is copied with SQLite's backup API from a `mode=ro` connection, which waits for a
   writer's lock like inspect does. Nothing is created beside the study, and a study in a read-only folder reads.
3. Optuna's storage classes, which the replay needs (FrozenTrials with distributions and system attributes), are
   opened over the snapshot, or over a server URL with the driver inspect would use. Nothing is written back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
from optuna.trial import FrozenTrial

from optgui.core import _optuna_internals as oi
from optgui.core import json_text
from optgui.core.errors import StorageError, StudyStateError
from optgui.core.paths import cache_dir
from optgui.core.storage._naming import StorageRef, resolve_for_reading, sqlite_uses_wal
from optgui.core.storage._readonly_db import DEFAULT_BUSY_TIMEOUT, _sqlite_message, server_url_with_driver

SNAPSHOT_ATTEMPTS = 5  # copies of a WAL database retried while a writer checkpoints under our feet


@dataclass(frozen=True)
class StudySnapshot:
    """One study as read at one moment: what the verifier needs, nothing written back."""

    storage: str  # what the user named (display form, without passwords)
    name: str
    directions: tuple[str, ...]
    system_attrs: dict[str, Any]
    trials: tuple[FrozenTrial, ...]  # in number order


# --------------------------------------------------------------------------------------------- snapshots
def _scratch_parent() -> str | None:
    """A folder for private snapshots: the app cache directory, or the system temporary folder."""

    folder = cache_dir() / "snapshots"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return str(folder) if os.access(folder, os.W_OK | os.X_OK) else None


def _file_signature(path: Path) -> tuple:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (None,)
    with open(path, "rb") as handle:
        return stat.st_size, stat.st_mtime_ns, handle.read(32)


def _copy_wal_database(ref: StorageRef, copy: Path) -> None:
    """Byte copies of the database and its -wal; retried when a writer changed them between the two copies."""
    assert ref.path is not None
    wal = Path(f"{ref.path}-wal")
    for _ in range(SNAPSHOT_ATTEMPTS):
        before = (_file_signature(ref.path), _file_signature(wal))
        shutil.copyfile(ref.path, copy)
        if wal.exists():
            shutil.copyfile(wal, f"{copy}-wal")
        if (_file_signature(ref.path), _file_signature(wal)) == before:
            break
        Path(f"{copy}-wal").unlink(missing_ok=True)
    else:
        raise StorageError(
            f"{ref.display} kept changing while it was copied for reading (a writer is busy); try again in a moment"
        )
    # Merge the WAL into the private copy: every later reader sees one self-contained file.
    conn = sqlite3.connect(copy)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchall()
    finally:
        conn.close()


def _backup_rollback_database(ref: StorageRef, copy: Path, busy_timeout: float) -> None:
    """A consistent copy through SQLite's backup API from a read-only connection (it honours a writer's lock)."""
    from urllib.parse import quote

    assert ref.path is not None
    source = sqlite3.connect(f"file:{quote(str(ref.path))}?mode=ro", uri=True, timeout=busy_timeout)
    target = sqlite3.connect(copy)
    try:
        source.execute("SELECT count(*) FROM sqlite_master").fetchall()
        source.backup(target)
    except sqlite3.Error as exc:
        raise StorageError(_sqlite_message(ref.display, exc)) from None
    finally:
        source.close()
        target.close()


def _snapshot_sqlite(ref: StorageRef, folder: Path, busy_timeout: float) -> Path:

    assert ref.path is not None
    copy = folder / "study.db"
    try:
        if sqlite_uses_wal(ref.path):
            _copy_wal_database(ref, copy)
        else:
            _backup_rollback_database(ref, copy, busy_timeout)
    except sqlite3.Error as exc:
        raise StorageError(_sqlite_message(ref.display, exc)) from None
    except OSError as exc:
        raise StorageError(f"cannot read {ref.display}: {exc.strerror or exc}") from None
    return copy


def _snapshot_journal(ref: StorageRef, folder: Path) -> Path:
    assert ref.path is not None
    copy = folder / "study.log"
    try:
        shutil.copyfile(ref.path, copy)
    except OSError as exc:
        raise StorageError(f"cannot read {ref.display}: {exc.strerror or exc}") from None
    return copy


@contextlib.contextmanager
def _named_as(ref: StorageRef, copy: Path | None) -> Iterator[None]:
    """Errors about the private copy name the user's storage instead."""
    try:
        yield
    except StorageError as exc:
        if copy is None:
            raise
        raise exc.__class__(str(exc).replace(str(copy), ref.display)) from None


# ------------------------------------------------------------------------------------------- reading
@contextlib.contextmanager
def opened_for_verification(storage_text: str, *, busy_timeout: float | None = None) -> Iterator[tuple]:
    """(ref, study names, Optuna storage) of a storage checked as inspect checks it, read from a private snapshot.

    The snapshot is deleted when the block ends."""
    # imported on use, not with this module (it loads numpy): start-up time
    from optgui.core.storage._reader import open_reader

    timeout = DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    ref = resolve_for_reading(storage_text)
    with tempfile.TemporaryDirectory(prefix="optgui-verify-", dir=_scratch_parent()) as scratch:
        copy = None
        if ref.kind == "sqlite":
            copy = _snapshot_sqlite(ref, Path(scratch), timeout)
        elif ref.kind == "journal":
            copy = _snapshot_journal(ref, Path(scratch))
        with _named_as(ref, copy):
            # For a journal, opening parses every line: a corrupt one is named here, before Optuna reads it.
            with open_reader(str(copy) if copy else ref, busy_timeout=timeout) as reader:
                names = reader.study_names()
            storage = _open_optuna_storage(ref, copy)
        try:
            yield ref, names, storage
        finally:
            _close(storage)


def _open_optuna_storage(ref: StorageRef, copy: Path | None):
    from optuna.storages import RDBStorage
    from optuna.storages.journal import JournalStorage

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if ref.kind == "journal":
                return JournalStorage(_ReadOnlyJournalBackend(str(copy)))
            url = f"sqlite:///{copy}" if copy is not None else server_url_with_driver(ref.rdb_url)
            return RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True)
    except Exception as exc:  # noqa: BLE001 - driver errors come in many types; the message is what matters
        raise StorageError(f"cannot open {ref.display}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".rstrip(": ")


class _RefusingLock(JournalFileOpenLock):
    """The read-only backend's lock: Optuna takes it only to append, and taking it would create a lock file."""

    def acquire(self) -> bool:
        raise StorageError("the study is open read-only for verification; nothing may be written to it")

    def release(self) -> None:
        pass


class _ReadOnlyJournalBackend(JournalFileBackend):
    """Optuna's journal file backend minus every write: no file creation, no lock files, no appends."""

    def __init__(self, file_path: str) -> None:  # noqa: D107 - deliberately skips the parent's file creation
        self._file_path = file_path
        self._lock = _RefusingLock(file_path)
        self._log_number_offset = {0: 0}

    def append_logs(self, logs) -> None:
        raise StorageError("the study is open read-only for verification; nothing may be written to it")


def _read_failure(what: str, ref: StorageRef, exc: Exception) -> StorageError:
    if json_text.is_too_deep(exc):  # Optuna decodes attribute values with plain json
        reason = f"a stored value holds {json_text.TOO_DEEP}; the file was crafted or is damaged"
    else:
        reason = _first_line(exc)
    return StorageError(f"cannot read {what} from {ref.display}: {reason}")


def study_names(storage_text: str) -> list[str]:
    with opened_for_verification(storage_text) as (_ref, names, _storage):
        return names


def _chosen_study(ref: StorageRef, names: list[str], study_name: str | None) -> str:
    """The study to verify: the one named, or the only one in the storage."""
    if study_name is not None:
        if study_name not in names:
            listed = ", ".join(repr(n) for n in names) or "none"
            raise StudyStateError(f"no study named {study_name!r} in {ref.display} (studies: {listed})")
        return study_name
    if len(names) == 1:
        return names[0]
    if not names:
        raise StudyStateError(f"{ref.display} contains no study")
    raise StudyStateError(
        f"{ref.display} has {len(names)} studies; choose one with --study ({', '.join(repr(n) for n in names)})"
    )


def resolve_study_name(storage_text: str, study_name: str | None) -> str:
    """The study to verify: the one named, or the only one in the storage."""
    with opened_for_verification(storage_text) as (ref, names, _storage):
        return _chosen_study(ref, names, study_name)


def read_study(storage_text: str, study_name: str | None) -> StudySnapshot:
    """The study named (or the only one) as one snapshot."""
    with opened_for_verification(storage_text) as (ref, names, storage):
        name = _chosen_study(ref, names, study_name)
        try:
            study_id = storage.get_study_id_from_name(name)
            directions = tuple(d.name.lower() for d in storage.get_study_directions(study_id))
            attrs = storage.get_study_system_attrs(study_id)
            trials = storage.get_all_trials(study_id, deepcopy=False)
        except (StudyStateError, StorageError):
            raise
        except Exception as exc:  # noqa: BLE001
            raise _read_failure(f"study {name!r}", ref, exc) from None
    trials = sorted(trials, key=lambda t: (t.number, oi.trial_id(t)))
    return StudySnapshot(ref.display, name, directions, dict(attrs), tuple(trials))


def _close(storage) -> None:
    engine = getattr(storage, "engine", None)
    if engine is not None:
        storage.scoped_session.remove()
        engine.dispose()
