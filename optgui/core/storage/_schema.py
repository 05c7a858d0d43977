"""Which Optuna schema a database has, whether optgui can read it, and upgrading it (with a backup first).

Optuna records its schema in two places: the alembic revision (`alembic_version.version_num`, head `v3.2.0.a`
since Optuna 3.2) and the library that created the file (the `library_version` column of `version_info`). Files from
Optuna 0.9 predate alembic and have only `version_info` (schema_version 11).

Reading needs the multi-objective layout (`study_directions`, `trial_values.objective`), which arrived with
revision v2.4.0.a (Optuna 2.4). Files from v2.4.0.a to v3.0.0.d read normally, with a warning that they are
old. Older ones are described and refused. Optuna's RDBStorage refuses every old file until it is upgraded,
and opening one with RDBStorage writes to it; so this module never constructs RDBStorage except inside
upgrade_with_backup(), which the user asks for explicitly.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from optgui.core.errors import StorageError
from optgui.core.storage._naming import StorageRef, resolve_for_reading, sqlite_side_files
from optgui.core.storage._readonly_db import ReadOnlyDb, open_readonly_db

HEAD_REVISION = "v3.2.0.a"
#: Optuna's alembic revisions, oldest first (optuna/storages/_rdb/alembic/versions).
KNOWN_REVISIONS = (
    "v0.9.0.a",
    "v1.2.0.a",
    "v1.3.0.a",
    "v2.4.0.a",
    "v2.6.0.a",
    "v3.0.0.a",
    "v3.0.0.b",
    "v3.0.0.c",
    "v3.0.0.d",
    HEAD_REVISION,
)
OLDEST_READABLE_REVISION = "v2.4.0.a"
#: Tables every readable Optuna database has.
REQUIRED_TABLES = frozenset(
    {
        "studies",
        "study_directions",
        "trials",
        "trial_params",
        "trial_values",
        "trial_intermediate_values",
        "trial_user_attributes",
        "study_system_attributes",
    }
)
#: Tables that make a database look like Optuna's, even when some are missing.
OPTUNA_MARKER_TABLES = frozenset({"studies", "trials", "trial_params", "version_info"})


@dataclass(frozen=True)
class SchemaInfo:
    """The schema of an Optuna database that optgui can read.

    revision: alembic revision (e.g. "v3.2.0.a"); optuna_version: the Optuna version that created the file (as
    recorded by it; may be None); is_current: revision == HEAD_REVISION. has_value_type /
    has_intermediate_value_type: whether ±inf (and NaN) are encoded in type columns (revisions v3.0.0.d / v3.0.0.c
    and later); older files store the float itself.
    """

    revision: str
    optuna_version: str | None
    is_current: bool
    has_value_type: bool
    has_intermediate_value_type: bool

    @property
    def description(self) -> str:
        """E.g. "created by Optuna 3.0.0, schema v3.0.0.d"."""
        made_by = f"created by Optuna {self.optuna_version}" if self.optuna_version else "created by Optuna"
        return f"{made_by}, schema {self.revision}"

    @property
    def warning(self) -> str | None:
        """For an old schema, what the user should be told (and offered); None for the current schema."""
        if self.is_current:
            return None
        return (
            f"old Optuna schema ({self.description}; current is {HEAD_REVISION}): it is read as it is, "
            "but Optuna 5 refuses to open it until it is upgraded; `optgui inspect STORAGE --upgrade` "
            "upgrades it after writing a backup copy"
        )

    def as_dict(self) -> dict:
        return {
            "revision": self.revision,
            "library_version": self.optuna_version,
            "current": self.is_current,
            "head": HEAD_REVISION,
        }


def _library_version(db: ReadOnlyDb, tables: set[str]) -> tuple[int | None, str | None]:
    if "version_info" not in tables:
        return None, None
    rows = db.rows("SELECT schema_version, library_version FROM version_info")
    if not rows:
        return None, None
    schema_version, library_version = rows[0]
    return schema_version, library_version


def read_schema(db: ReadOnlyDb) -> SchemaInfo:
    """Check that `db` is an Optuna database optgui can read; raise StorageError saying why not."""
    tables = db.table_names()
    where = db.display
    if not tables:
        raise StorageError(f"{where} is a SQL database with no tables: not an Optuna study database")
    if not tables & OPTUNA_MARKER_TABLES:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StorageError(f"{where} is not an Optuna study database (its tables are: {shown})")
    schema_version, library_version = _library_version(db, tables)
    revisions = (
        [r for (r,) in db.rows("SELECT version_num FROM alembic_version")] if "alembic_version" in tables else []
    )
    made_by = f" (created by Optuna {library_version})" if library_version else ""
    if not revisions:
        if schema_version is not None and schema_version < 12:
            raise StorageError(
                f"{where} was created by Optuna {library_version or '0.x'} before schemas were versioned "
                f"(schema {schema_version}): optgui cannot read it; upgrade it with "
                "`optgui inspect STORAGE --upgrade` (a backup copy is written first)"
            )
        raise StorageError(
            f"{where} has Optuna-like tables but no alembic schema stamp{made_by}: "
            "it was not written by a released Optuna, or its creation was interrupted"
        )
    revision = revisions[0]
    if revision not in KNOWN_REVISIONS:
        raise StorageError(
            f"{where} has schema {revision}{made_by}, which is newer than or unknown to the "
            f"installed Optuna (latest known: {HEAD_REVISION}); update optuna and optgui"
        )
    if KNOWN_REVISIONS.index(revision) < KNOWN_REVISIONS.index(OLDEST_READABLE_REVISION):
        raise StorageError(
            f"{where} has the Optuna schema {revision}{made_by}, from before multi-objective support: "
            "optgui cannot read it; upgrade it with `optgui inspect STORAGE --upgrade` "
            "(a backup copy is written first)"
        )
    missing = REQUIRED_TABLES - tables
    if missing:
        raise StorageError(
            f"{where} claims Optuna schema {revision} but lacks the table(s) "
            f"{', '.join(sorted(missing))}: the file is damaged or was not written by Optuna"
        )
    return SchemaInfo(
        revision=revision,
        optuna_version=library_version,
        is_current=revision == HEAD_REVISION,
        has_value_type="value_type" in db.column_names("trial_values"),
        has_intermediate_value_type="intermediate_value_type" in db.column_names("trial_intermediate_values"),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upgrade_with_backup(storage: str | StorageRef, backup: str | Path | None = None) -> Path:
    """Upgrade an old-schema SQLite study to the current Optuna schema, after writing a verified backup copy.

    This is the one place where optgui changes a study file for the reader, and only when the user asks. Steps:
    check that the file has a known, older schema (a current, newer or unknown one raises StorageError and nothing
    is written); copy the file to `backup` (default: `NAME.<revision>-backup-<timestamp>.db` next to it, never
    overwriting) and check the copy's SHA-256; then run Optuna's own migration (`RDBStorage.upgrade()`, the same
    as `optuna storage upgrade`). Returns the backup path. Server databases are refused: back them up with the
    server's tools, then run `optuna storage upgrade --storage URL`.
    """

    ref = resolve_for_reading(storage)
    if ref.kind != "sqlite" or ref.path is None:
        raise StorageError(
            f"{ref.display}: optgui upgrades SQLite files only; back up a server database with "
            "its own tools, then run `optuna storage upgrade --storage URL`"
        )
    path = ref.path
    revision, library_version = _revision_for_upgrade(ref, open_readonly_db)
    if revision == HEAD_REVISION:
        raise StorageError(f"{path} already has the current schema {HEAD_REVISION}: nothing to upgrade")
    if sqlite_side_files(path):
        raise StorageError(
            f"{path} is in use by another process (its journal/WAL files exist): "
            "close every program using it, then upgrade"
        )
    backup_path = (
        Path(backup).expanduser().absolute()
        if backup is not None
        else path.with_name(f"{path.stem}.{revision}-backup-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix or '.db'}")
    )
    if backup_path.exists():
        raise StorageError(f"backup file {backup_path} already exists; nothing was changed")
    original_hash = _sha256(path)
    shutil.copy2(path, backup_path)
    if _sha256(backup_path) != original_hash:
        backup_path.unlink()
        raise StorageError(f"{path} changed while it was being copied; nothing was changed, try again")

    import optuna
    from optuna.storages import RDBStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage_obj = None
    try:
        storage_obj = RDBStorage(f"sqlite:///{path}", skip_compatibility_check=True, skip_table_creation=True)
        storage_obj.upgrade()
        if storage_obj.get_current_version() != storage_obj.get_head_version():
            raise StorageError(
                f"upgrading {path} stopped at {storage_obj.get_current_version()}; the original is in {backup_path}"
            )
    except StorageError:
        raise
    except Exception as exc:  # noqa: BLE001 - alembic/SQLAlchemy errors vary; the backup is what matters
        raise StorageError(
            f"upgrading {path} failed ({exc.__class__.__name__}: {exc}); the original is in {backup_path}"
        ) from None
    finally:
        if storage_obj is not None:
            storage_obj.engine.dispose()
    return backup_path


def _revision_for_upgrade(ref: StorageRef, open_readonly_db) -> tuple[str, str | None]:
    db = open_readonly_db(ref)
    try:
        tables = db.table_names()
        if not tables & OPTUNA_MARKER_TABLES:
            raise StorageError(f"{ref.display} is not an Optuna study database; nothing to upgrade")
        _, library_version = _library_version(db, tables)
        revisions = (
            [r for (r,) in db.rows("SELECT version_num FROM alembic_version")] if "alembic_version" in tables else []
        )
    finally:
        db.close()
    if not revisions:
        if library_version is None:
            raise StorageError(f"{ref.display} has no Optuna schema stamp; optgui will not guess how to upgrade it")
        return "v0.9.0.a", library_version  # pre-alembic Optuna 0.9: Optuna's migration handles it
    if revisions[0] not in KNOWN_REVISIONS:
        raise StorageError(
            f"{ref.display} has schema {revisions[0]}, unknown to the installed Optuna; "
            "update optuna instead of upgrading the file"
        )
    return revisions[0], library_version
