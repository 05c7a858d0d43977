"""Read-only SQL connections to Optuna databases: SQLite files and PostgreSQL/MySQL servers.

One job: run short SELECT statements and return plain tuples, turning every database error into a one-line
StorageError. Nothing here can write:

- SQLite files are opened through sqlite3 with `mode=ro` in autocommit mode, so each SELECT is its own short
  read transaction and a concurrent Optuna writer only ever waits for one statement (callers chunk their reads).
  A rollback-journal file opened this way gets no side files. A WAL file needs its `-shm` index: when the
  `-wal` and `-shm` files exist (a writer is connected) they are used as they are; when neither exists the file
  is read with `immutable=1`, which creates nothing, and each statement first checks that no writer has appeared
  since (if one has, the connection switches to `mode=ro` over the writer's side files). Any other WAL state
  cannot be read without creating a file: the error says so and points to a snapshot copy.
- Server URLs go through SQLAlchemy with a session marked read-only and autocommit (one transaction per
  statement). The driver packages are in the `server` extra.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from pathlib import Path
from urllib.parse import quote

import numpy as np

from optgui.core.errors import StorageError
from optgui.core.storage._naming import StorageRef, redact_url, sqlite_uses_wal

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds; the same as Optuna's own SQLite default


class ReadOnlyDb:
    """A read-only connection. `dialect` is "sqlite", "postgresql" or "mysql". SQL uses `?` placeholders."""

    dialect: str
    display: str
    #: Things the user should know about how the file is being read (e.g. immutable WAL reads).
    notes: tuple[str, ...] = ()

    def rows(self, sql: str, params: tuple | list = ()) -> list[tuple]:  # pragma: no cover - interface
        raise NotImplementedError

    def array(self, sql: str, params: tuple | list, dtype: np.dtype) -> np.ndarray:
        """The rows as one numpy structured array of `dtype` (one field per column; no column may be NULL)."""
        return np.array(self.rows(sql, params), dtype=dtype)

    def text_and_floats(self, text_sql: str, floats_sql: str, params: tuple) -> tuple[str | None, np.ndarray]:
        """In one read transaction: text_sql's first row (a text and the number of rows it stands for, e.g. a
        group_concat and a COUNT) and floats_sql's rows (one REAL column, no NULL) as float64. (SQLite only.)"""
        raise NotImplementedError  # pragma: no cover - interface

    def table_names(self) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def column_names(self, table: str) -> set[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def twin(self) -> ReadOnlyDb | None:
        """A second read-only connection to the same database for a statement run in parallel, or None where
        parallel reads would not pay (servers: the network is the cost)."""
        return None

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def open_readonly_db(ref: StorageRef, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> ReadOnlyDb:
    """Open `ref` (kind "sqlite" or "rdb") read-only. The SQLite file must exist (see resolve_for_reading)."""
    if ref.kind == "sqlite":
        assert ref.path is not None
        return SqliteReadOnlyDb(ref.path, busy_timeout=busy_timeout)
    if ref.kind == "rdb":
        assert ref.url is not None
        return ServerReadOnlyDb(ref.url, busy_timeout=busy_timeout)
    raise StorageError(f"{ref.display} is not a SQL database")


def _sqlite_message(display: str, exc: sqlite3.Error) -> str:
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{display} is locked by another process that is writing to it; try again in a moment (nothing was changed)"
        )
    if "not a database" in lowered:
        return f"{display} is damaged: its SQLite header is valid but the rest is not a database ({text})"
    if "malformed" in lowered or "corrupt" in lowered:
        return f"{display} is corrupt or truncated: SQLite reports '{text}'"
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return f"cannot open {display} read-only: {text}"
    return f"cannot read {display}: {exc.__class__.__name__}: {text}"


class SqliteReadOnlyDb(ReadOnlyDb):
    dialect = "sqlite"

    def __init__(self, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self.display = str(path)
        self._busy_timeout = busy_timeout
        # The GUI reads from a worker thread; the lock keeps one statement at a time on the connection.
        self._lock = threading.Lock()
        self._immutable = False
        self._conn = self._connect()

    def _side(self, suffix: str) -> Path:
        return Path(f"{self.path}{suffix}")

    def _connect(self) -> sqlite3.Connection:
        uri_path = quote(str(self.path))
        mode = "mode=ro"
        try:
            wal = sqlite_uses_wal(self.path)
        except OSError as exc:
            raise StorageError(f"cannot read {self.display}: {exc.strerror or exc}") from None
        if wal:
            has_wal, has_shm = self._side("-wal").exists(), self._side("-shm").exists()
            if not has_wal and not has_shm:
                # No connection is open (the last one to close removes both files), so the main file holds
                # everything. `immutable` reads it without creating -wal/-shm; _check_writer guards the rest.
                mode = "mode=ro&immutable=1"
                self._immutable = True
                self.notes = (
                    "WAL database read in place without locking (no writer was connected); "
                    "a writer that connects later is detected before the next read",
                )
            elif not (has_wal and has_shm):
                raise StorageError(
                    f"{self.display} is a WAL database with only its {'-wal' if has_wal else '-shm'} file "
                    "beside it: reading it in place would create the other one. Read a snapshot copy instead "
                    "(optgui inspect --snapshot, or snapshot_copy() in Python)"
                )
            else:
                self._immutable = False
        try:
            conn = sqlite3.connect(
                f"file:{uri_path}?{mode}",
                uri=True,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.Error as exc:
            raise StorageError(_sqlite_message(self.display, exc)) from None
        return conn

    def _check_writer(self) -> None:
        """An immutable read is only right while nobody writes: switch to shared reads once a writer appears."""
        if self._immutable and (self._side("-wal").exists() or self._side("-shm").exists()):
            if self._side("-wal").exists() and self._side("-shm").exists():
                self._conn.close()
                self._conn = self._connect()
                return
            raise StorageError(
                f"another process started writing to {self.display} while it was being read; "
                "open it again to see its changes"
            )

    def rows(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._lock:
            self._check_writer()
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(_sqlite_message(self.display, exc)) from None

    def array(self, sql: str, params: tuple | list, dtype: np.dtype) -> np.ndarray:
        # Straight from the cursor into the array: no list of row tuples (~40% less CPU than rows() and numpy
        # arrays built from it, measured on 1M values).
        with self._lock:
            self._check_writer()
            try:
                return np.fromiter(self._conn.execute(sql, params), dtype=dtype)
            except sqlite3.Error as exc:
                raise StorageError(_sqlite_message(self.display, exc)) from None

    def text_and_floats(self, text_sql: str, floats_sql: str, params: tuple) -> tuple[str | None, np.ndarray]:
        with self._lock:
            self._check_writer()
            try:
                self._conn.execute("BEGIN")  # one snapshot for both statements
                try:
                    ((text, count),) = self._conn.execute(text_sql, params).fetchall()
                    # A float per row, no row tuple kept: the cheapest way out of the sqlite3 module.
                    floats = np.fromiter(
                        (value for (value,) in self._conn.execute(floats_sql, params)), dtype=np.float64, count=count
                    )
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(_sqlite_message(self.display, exc)) from None
        return text, floats

    def twin(self) -> SqliteReadOnlyDb:
        # Same checks and mode as this connection (read-only, immutable for a WAL file without a writer).
        return SqliteReadOnlyDb(self.path, busy_timeout=self._busy_timeout)

    def table_names(self) -> set[str]:
        return {name for (name,) in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def column_names(self, table: str) -> set[str]:
        return {row[1] for row in self.rows(f"PRAGMA table_info({_quote_identifier(table)})")}

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def server_url_with_driver(url: str) -> str:
    """Use a driver that is installed when the URL names none (`postgresql://`, `mysql://`).

    SQLAlchemy's defaults are psycopg2 and mysqlclient; optgui's `server` extra ships psycopg (3) and PyMySQL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "+" in scheme:
        return url
    base = scheme.lower()
    if base in ("postgresql", "postgres"):
        if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is not None:
            return f"postgresql+psycopg://{rest}"
        return f"postgresql://{rest}"
    if base in ("mysql", "mariadb"):
        if importlib.util.find_spec("MySQLdb") is None and importlib.util.find_spec("pymysql") is not None:
            return f"{base}+pymysql://{rest}"
    return url


_DRIVER_PACKAGES = {"psycopg": "psycopg", "psycopg2": "psycopg2", "pymysql": "PyMySQL", "MySQLdb": "mysqlclient"}


class ServerReadOnlyDb(ReadOnlyDb):
    def __init__(self, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        self.display = redact_url(url)
        try:
            self._engine = sqlalchemy.create_engine(server_url_with_driver(url), poolclass=NullPool)
        except ModuleNotFoundError as exc:
            package = _DRIVER_PACKAGES.get(exc.name or "", exc.name)
            raise StorageError(
                f"{self.display}: the database driver {package} is not installed (pip install 'optgui[server]')"
            ) from None
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several types for a bad URL
            raise StorageError(f"{self.display}: not a usable database URL ({_first_line(exc)})") from None
        name = self._engine.dialect.name
        self.dialect = "postgresql" if name == "postgresql" else "mysql" if name in ("mysql", "mariadb") else name
        if self.dialect not in ("postgresql", "mysql"):
            raise StorageError(f"{self.display}: unsupported database {name!r}")
        self._lock = threading.Lock()
        try:
            self._pooled = self._engine.raw_connection()
            # The driver's own connection: setting attributes on SQLAlchemy's pool proxy would not reach it.
            conn = self._pooled.dbapi_connection
            if conn is None:  # SQLAlchemy's proxy drops it only when invalidated: a fresh one always has it
                raise StorageError("the database driver gave no connection")
            self._conn = conn
            # Autocommit makes every SELECT its own transaction: no snapshot is held between statements (MySQL's
            # REPEATABLE READ would otherwise hide new trials from polls) and no lock outlives a statement.
            if callable(getattr(conn, "autocommit", None)):
                conn.autocommit(True)  # PyMySQL
            else:
                conn.autocommit = True  # psycopg
            cursor = conn.cursor()
            if self.dialect == "postgresql":
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                cursor.execute(f"SET lock_timeout = {int(busy_timeout * 1000)}")
            else:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.close()
        except Exception as exc:  # noqa: BLE001 - driver errors come in many types; the message is what matters
            self._engine.dispose()
            raise StorageError(f"cannot connect to {self.display}: {_first_line(exc)}") from None

    def rows(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        statement = sql.replace("?", "%s")
        with self._lock:
            try:
                cursor = self._conn.cursor()
                try:
                    cursor.execute(statement, tuple(params))
                    return [tuple(row) for row in cursor.fetchall()]
                finally:
                    cursor.close()
            except Exception as exc:  # noqa: BLE001
                raise StorageError(f"cannot read {self.display}: {_first_line(exc)}") from None

    def table_names(self) -> set[str]:
        schema = "current_schema()" if self.dialect == "postgresql" else "DATABASE()"
        return {
            name
            for (name,) in self.rows(f"SELECT table_name FROM information_schema.tables WHERE table_schema = {schema}")
        }

    def column_names(self, table: str) -> set[str]:
        schema = "current_schema()" if self.dialect == "postgresql" else "DATABASE()"
        return {
            name
            for (name,) in self.rows(
                f"SELECT column_name FROM information_schema.columns WHERE table_schema = {schema} AND table_name = ?",
                (table,),
            )
        }

    def close(self) -> None:
        with self._lock:
            try:
                self._pooled.close()
            finally:
                self._engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".rstrip(": ")
