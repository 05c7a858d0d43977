"""The public, Qt-free read layer: open any Optuna storage read-only and read it as numpy columns.

    from optgui.core.storage import open_reader

    with open_reader("study.db") as reader:            # a path or an Optuna storage URL
        for summary in reader.studies():               # one pass over the storage, all studies
            print(summary.name, summary.n_trials, summary.best_values)
        table = reader.trials("my-study")              # TrialTable: numpy columns + params
        best = table.best_so_far()                     # convergence line
        delta = reader.poll("my-study", None)          # first poll: everything (delta.is_full)
        ...
        delta = reader.poll("my-study", delta.watermark)   # later: only new/changed trials, O(new)
        table = table.with_rows_replaced(delta.table)

Guarantees:
- Nothing is created or written. A missing path is an error. SQLite files are opened read-only (see
  optgui.core.storage._readonly_db for WAL files); the file's bytes, mtime and neighbours are unchanged by any amount of
  reading. Optuna's RDBStorage is never constructed here (it writes to old or empty files) and nothing is
  unpickled.
- Reads are chunked so no statement keeps a SQLite file locked for more than ~50 ms: a concurrent Optuna writer
  does not fail with "database is locked".
- Results equal what Optuna reads from the same storage (values, states, params and distributions, user
  attributes, intermediate values; datetimes as UTC where Optuna's FrozenTrial shows naive local time).
- Errors are StorageError with a one-line message saying what is wrong with the storage.

Results are frozen dataclasses of read-only numpy arrays (optgui.core.storage._tables), safe to hand to another thread.
A reader object itself is not meant to be shared by threads at once (each call is serialised on its
connection).
"""

from __future__ import annotations

from optgui.core.storage._journal_reader import JournalStudyReader
from optgui.core.storage._naming import StorageRef, resolve_for_reading
from optgui.core.storage._rdb_reader import RdbStudyReader
from optgui.core.storage._readonly_db import DEFAULT_BUSY_TIMEOUT, open_readonly_db
from optgui.core.storage._schema import read_schema
from optgui.core.storage._study_reader import StudyReader

__all__ = ["StudyReader", "open_reader"]


def open_reader(storage: str | StorageRef, *, busy_timeout: float | None = None) -> StudyReader:
    """Open a storage read-only: a path to a SQLite or journal file (detected by content), or a `sqlite:///`,
    `postgresql://` or `mysql://` URL. Raises StorageError with a specific message when it cannot be read.

    busy_timeout: seconds to wait for a SQLite file that another process holds locked (default 5 s, as Optuna),
    or the PostgreSQL lock timeout.
    """

    ref = resolve_for_reading(storage)
    if ref.kind == "journal":
        assert ref.path is not None
        return JournalStudyReader(ref.path)

    db = open_readonly_db(ref, busy_timeout=DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout)
    try:
        schema = read_schema(db)
    except BaseException:
        db.close()
        raise
    return RdbStudyReader(db, schema, ref.display)
