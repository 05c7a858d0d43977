"""Naming a storage: a plain path or an Optuna storage URL, and opening it for a run.

The kind of a local file is told by its content, not its extension: SQLite files start with the 16-byte
header "SQLite format 3\\0", Optuna journal files are JSON lines of journal operations. Only `run` may create a
missing file (SQLite, or a journal file when the suffix is .log/.jsonl), and only inside an existing folder.
Read-only inspection lives in optgui.core.reader and never goes through Optuna's RDBStorage constructor, which
creates tables and stamps versions on empty or old files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from optgui.core.errors import StorageError

SQLITE_HEADER = b"SQLite format 3\x00"
JOURNAL_SUFFIXES = (".log", ".jsonl")
RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")

StorageKind = Literal["sqlite", "journal", "rdb"]


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
    """Tell SQLite from an Optuna journal by the first bytes; None if neither (or empty)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    if head.lstrip().startswith(b'{"op_code"') or head.lstrip().startswith(b'{"op_code'):
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
            raise StorageError(f"unsupported storage URL scheme {scheme!r} in {redact_url(text)!r}; "
                               "use a file path, sqlite:///, postgresql:// or mysql://")
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
        kind = sniff_file_kind(path) if path.is_file() else None
        if kind is None:
            if path.stat().st_size == 0:
                raise StorageError(f"{path} is empty: not an Optuna study database")
            raise StorageError(f"{path} is neither a SQLite database nor an Optuna journal file")
    else:
        kind = "journal" if path.suffix.lower() in JOURNAL_SUFFIXES else "sqlite"
    url = f"sqlite:///{path}" if kind == "sqlite" else None
    return StorageRef(kind, text, url=url, path=path)


def open_for_run(ref: StorageRef, *, create: bool):
    """An Optuna storage opened read-write for running. Creates a missing file only when `create`.

    Returns (storage, created). The caller says "created FILE" on stderr when created is True.
    """
    import optuna
    from optuna.storages import RDBStorage
    from optuna.storages.journal import JournalFileBackend, JournalStorage

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
            storage = JournalStorage(JournalFileBackend(str(ref.path)))
        else:
            storage = optuna.storages.get_storage(RDBStorage(ref.url))
    except RuntimeError as exc:  # Optuna's schema compatibility check
        raise StorageError(f"{ref.display}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - driver errors come in many types; the message is what matters
        raise StorageError(f"cannot open {ref.display}: {exc.__class__.__name__}: {exc}") from None
    return storage, created
