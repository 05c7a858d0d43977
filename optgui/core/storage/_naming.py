"""Naming a storage: a plain path or an Optuna storage URL, and opening it for a run.

The kind of a local file is told by its content, not its extension: SQLite files start with the 16-byte
header "SQLite format 3\\0", Optuna journal files are JSON lines of journal operations. Only `run` may create a
missing file (SQLite, or a journal file when the suffix is .log/.jsonl), and only inside an existing folder.
Read-only inspection lives in optgui.core.storage._reader and never goes through Optuna's RDBStorage constructor, which
creates tables and stamps versions on empty or old files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from optgui.core import json_text
from optgui.core.errors import StorageError

if TYPE_CHECKING:  # optuna is imported where a storage is opened: inspecting a path must not pay for it
    from optuna.storages import BaseStorage

SQLITE_HEADER = b"SQLite format 3\x00"
JOURNAL_SUFFIXES = (".log", ".jsonl")
RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")

StorageKind = Literal["sqlite", "journal", "rdb"]

# A journal's first line is short (a CREATE_STUDY record); reading more than this to sniff is pointless.
_JOURNAL_SNIFF_LIMIT = 1 << 20
_JOURNAL_START = re.compile(rb'\{\s*"op_code"\s*:\s*\d')


@dataclass(frozen=True)
class StorageRef:
    """What a user named: the kind, the SQLAlchemy URL (sqlite/rdb), the local file (sqlite/journal)."""

    kind: StorageKind
    text: str
    url: str | None = None
    path: Path | None = None

    @property
    def display(self) -> str:
        """A name safe to show, log and store in settings: passwords are removed."""
        if self.path is not None:
            return str(self.path)
        return redact_url(self.url or self.text)

    @property
    def exists(self) -> bool:
        return self.path is None or self.path.exists()

    @property
    def rdb_url(self) -> str:
        """The SQLAlchemy URL of a SQLite or server database (a journal file has none)."""
        if self.url is None:
            raise StorageError(f"{self.display} is a journal file, not a database")
        return self.url


def redact_url(url: str) -> str:
    """`postgresql://u:secret@h/db` -> `postgresql://u:***@h/db`."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    if ":" in creds:
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def _scheme(text: str) -> str | None:
    head, sep, _ = text.partition("://")
    if not sep:
        return None
    return head.split("+", 1)[0].lower()


def sniff_file_kind(path: Path) -> StorageKind | None:
    """Tell SQLite from an Optuna journal by content; None if neither (or empty).

    A journal's first line is a JSON object with an integer "op_code" (Optuna writes compact JSON, but any
    spacing is accepted). A first line without its newline is still a journal when it starts like one: a
    writer may be appending it right now.
    """
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
        if head.startswith(SQLITE_HEADER):
            return "sqlite"
        handle.seek(0)
        first_line = handle.readline(_JOURNAL_SNIFF_LIMIT)
    stripped = first_line.lstrip()
    if not stripped.startswith(b"{"):
        return None
    try:
        record = json_text.loads(first_line)
    except ValueError:
        complete = first_line.endswith(b"\n")
        return "journal" if not complete and _JOURNAL_START.match(stripped) else None
    if isinstance(record, dict) and isinstance(record.get("op_code"), int):
        return "journal"
    return None


def parse_storage(text: str) -> StorageRef:
    """Parse what the user typed. Touches the filesystem only to read a few header bytes."""
    text = text.strip()
    if not text:
        raise StorageError("no storage given: name a study file or an Optuna storage URL")
    scheme = _scheme(text)
    if scheme is not None:
        if scheme not in RDB_SCHEMES:
            raise StorageError(
                f"unsupported storage URL scheme {scheme!r} in {redact_url(text)!r}; "
                "use a file path, sqlite:///, postgresql:// or mysql://"
            )
        if scheme == "sqlite":
            raw = text.split("://", 1)[1]
            # sqlite:///relative.db and sqlite:////abs.db; strip query (?mode=ro etc.).
            raw = raw[1:] if raw.startswith("/") else raw
            raw = raw.split("?", 1)[0]
            if raw.startswith("file:"):
                raw = raw[5:]
            if raw in ("", ":memory:"):
                raise StorageError("an in-memory SQLite URL has no study to open")
            path = Path(unquote(raw)).expanduser()
            return StorageRef("sqlite", text, url=text, path=path.absolute())
        return StorageRef("rdb", text, url=text)
    path = Path(text).expanduser().absolute()
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a study file")
    if path.exists():
        kind = _existing_file_kind(path)
    else:
        kind = "journal" if path.suffix.lower() in JOURNAL_SUFFIXES else "sqlite"
    url = f"sqlite:///{path}" if kind == "sqlite" else None
    return StorageRef(kind, text, url=url, path=path)


def _existing_file_kind(path: Path) -> StorageKind:
    if not path.is_file():
        raise StorageError(f"{path} is not a regular file")
    try:
        kind = sniff_file_kind(path)
    except PermissionError:
        raise StorageError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if kind is None:
        if path.stat().st_size == 0:
            raise StorageError(f"{path} is empty: not an Optuna study database")
        raise StorageError(f"{path} is neither a SQLite database nor an Optuna journal file")
    return kind


def resolve_for_reading(storage: str | StorageRef) -> StorageRef:
    """Name a storage that must already exist, for read-only inspection. Never creates anything.

    Accepts what the user typed or a StorageRef. Raises StorageError, with a message naming the problem, for a
    missing path, a directory, an unreadable or empty file, or a file that is neither SQLite nor an Optuna
    journal. Server URLs are returned as they are (they are checked when connecting).
    """
    ref = parse_storage(storage) if isinstance(storage, str) else storage
    if ref.path is None:
        return ref
    path = ref.path
    if not path.exists():
        if not path.parent.is_dir():
            raise StorageError(f"{path} does not exist (nor does its folder {path.parent})")
        raise StorageError(f"{path} does not exist")
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a study file")
    kind = _existing_file_kind(path)
    if ref.kind == "sqlite" and kind != "sqlite":
        raise StorageError(f"{path} is an Optuna journal file, not SQLite: open it by its path, without sqlite:///")
    return StorageRef(kind, ref.text, url=ref.url if kind == "sqlite" else None, path=path)


def sqlite_uses_wal(path: Path) -> bool:
    """True when the database file is in WAL mode (header bytes 18 and 19, read/write format versions, are 2)."""
    with open(path, "rb") as handle:
        header = handle.read(20)
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def sqlite_side_files(path: Path) -> list[Path]:
    """The journal/WAL companions of a SQLite file that exist right now."""
    return [p for p in (Path(f"{path}{suffix}") for suffix in ("-journal", "-wal", "-shm")) if p.exists()]


def snapshot_copy(storage: str | StorageRef, dest: str | Path | None = None) -> Path:
    """Copy a SQLite study (including unmerged WAL content) into a self-contained file and return its path.

    This is the fallback for WAL databases that cannot be read in place without creating side files next to
    them. The original is only read: its files are copied byte for byte into a private temporary folder, and the
    copy (never the original) is opened by SQLite, which merges the WAL into it; the result is written to `dest`
    (default: a new file in the system temporary folder) in rollback-journal mode. A copy taken while another
    process writes may miss that process's last transaction, never more.
    """
    import shutil
    import sqlite3
    import tempfile

    ref = resolve_for_reading(storage)
    if ref.kind != "sqlite" or ref.path is None:
        raise StorageError(f"{ref.display}: only SQLite files can be copied to a snapshot")
    if dest is None:
        handle, name = tempfile.mkstemp(prefix=f"{ref.path.stem}-snapshot-", suffix=".db")
        os.close(handle)
        os.unlink(name)
        dest_path = Path(name)
    else:
        dest_path = Path(dest).expanduser().absolute()
        if dest_path.exists():
            raise StorageError(f"{dest_path} already exists; choose a new file for the snapshot")
    with tempfile.TemporaryDirectory(prefix="optgui-snapshot-") as scratch:
        staged = Path(scratch) / "study.db"
        shutil.copyfile(ref.path, staged)
        wal = Path(f"{ref.path}-wal")
        if wal.exists():
            shutil.copyfile(wal, f"{staged}-wal")
        source = sqlite3.connect(staged)
        target = sqlite3.connect(dest_path)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.DatabaseError as exc:
            target.close()
            dest_path.unlink(missing_ok=True)
            raise StorageError(f"cannot copy {ref.display}: {exc}") from None
        finally:
            source.close()
            target.close()
    return dest_path


def _dangles(link: str) -> bool:
    """Whether `link` is a symbolic link to a missing file. One readlink answers "is it a link" and "to what" at
    once: a lock another process releases between two separate checks (is a link, does not resolve) is no
    dangling link. (That race failed a parallel run's writes now and then under load.)"""
    try:
        target = os.readlink(link)
    except OSError:
        return False  # not a link, or no longer there: released
    return not os.path.exists(os.path.join(os.path.dirname(link), target))


def _journal_lock(path: str):
    """Optuna's symlink lock for a journal file, except that a dangling lock symlink is refused at once.

    Optuna's JournalFileSymlinkLock stats the lock (following the link) to age it; on a dangling link the stat
    fails and it retries at once, forever: 100% CPU, no grace period, and a Ctrl-C that only asks the run to stop
    is never acted on. A lock made with an absolute path points at the journal file itself, so a dangling one is
    debris or planted (or made by a process given a relative path into another folder, which Optuna cannot wait
    on either)."""
    from optuna.storages.journal import JournalFileSymlinkLock

    class RefusingDanglingSymlinkLock(JournalFileSymlinkLock):
        def acquire(self) -> bool:
            lock = self._lock_file
            if _dangles(lock):
                raise StorageError(
                    f"the journal lock {lock} is a dangling symbolic link, which Optuna cannot wait on: if no "
                    "other process is writing the study, remove it and run again"
                )
            return super().acquire()

    return RefusingDanglingSymlinkLock(path)


def open_for_run(ref: StorageRef, *, create: bool):
    """An Optuna storage opened read-write for running. Creates a missing file only when `create`.

    Returns (storage, created). The caller says "created FILE" on stderr when created is True.
    """
    import optuna
    from optuna.storages import RDBStorage
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage: BaseStorage
    created = False
    if ref.path is not None and not ref.path.exists():
        if not create:
            raise StorageError(f"{ref.path} does not exist")
        if not ref.path.parent.is_dir():
            raise StorageError(f"cannot create {ref.path}: folder {ref.path.parent} does not exist")
        if not os.access(ref.path.parent, os.W_OK):
            raise StorageError(f"cannot create {ref.path}: folder {ref.path.parent} is not writable")
        created = True
    if ref.path is not None and ref.path.exists() and not os.access(ref.path, os.R_OK | os.W_OK):
        raise StorageError(f"{ref.path} is not readable and writable by you; running a study writes to it")
    try:
        if ref.kind == "journal":
            assert ref.path is not None
            storage = JournalStorage(JournalFileBackend(str(ref.path), lock_obj=_journal_lock(str(ref.path))))
        else:
            storage = optuna.storages.get_storage(RDBStorage(ref.rdb_url))
    except RuntimeError as exc:  # Optuna's schema compatibility check
        raise StorageError(f"{ref.display}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - driver errors come in many types; the message is what matters
        raise StorageError(f"cannot open {ref.display}: {exc.__class__.__name__}: {exc}") from None
    return storage, created
