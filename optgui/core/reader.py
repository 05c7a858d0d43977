"""The public, Qt-free read layer: open any Optuna storage read-only and read it as numpy columns.

    from optgui.core.reader import open_reader

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
  optgui.core.readonly_db for WAL files); the file's bytes, mtime and neighbours are unchanged by any amount of
  reading. Optuna's RDBStorage is never constructed here (it writes to old or empty files) and nothing is
  unpickled.
- Reads are chunked so no statement keeps a SQLite file locked for more than ~50 ms: a concurrent Optuna writer
  does not fail with "database is locked".
- Results equal what Optuna reads from the same storage (values, states, params and distributions, user
  attributes, intermediate values; datetimes as UTC where Optuna's FrozenTrial shows naive local time).
- Errors are StorageError with a one-line message saying what is wrong with the storage.

Results are frozen dataclasses of read-only numpy arrays (optgui.core.tables), safe to hand to another thread.
A reader object itself is not meant to be shared by threads at once (each call is serialised on its
connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optgui.core.storage import StorageRef, resolve_for_reading
from optgui.core.tables import IntermediateValues, StudySummary, TrialDelta, TrialTable, Watermark

__all__ = ["StudyReader", "open_reader"]


class StudyReader:
    """Read-only access to the studies of one storage. Use as a context manager, or call close().

    Attributes: kind ("sqlite", "journal" or "rdb"); display (a name safe to show: passwords removed);
    schema (optgui.core.schema.SchemaInfo for SQL databases, None for journal files); notes (warnings to show the
    user, e.g. an old schema that Optuna will refuse until upgraded).
    """

    kind: str
    display: str
    schema: Any = None
    notes: tuple[str, ...] = ()

    def study_names(self) -> list[str]:
        """Names of all studies, in creation order."""
        raise NotImplementedError

    def studies(self) -> list[StudySummary]:
        """A summary of every study (names, directions, metric names, counts by state, best values, first and last
        activity, optgui metadata), read in one pass."""
        raise NotImplementedError

    def trials(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> TrialTable:
        """All trials of a study as columns.

        `params=False`, `user_attrs=False` and `datetimes=False` skip those columns (empty params/user_attrs,
        NaT datetimes) for speed: a convergence plot needs only numbers, states and values.
        """
        raise NotImplementedError

    def trials_with_watermark(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> tuple[TrialTable, Watermark]:
        """All trials, as trials() with the same column options, and the watermark for the next poll().

        What a view that opens a study and then follows it needs: the first read can skip columns it does not
        show (a first poll() reads them all) and later polls stay O(new trials). Trials still unfinished in the
        table are returned once more by the next poll (their fingerprints are not taken here).
        """
        delta = self.poll(study_name, None)
        return delta.table, delta.watermark

    def poll(self, study_name: str, watermark: Watermark | None = None) -> TrialDelta:
        """Trials added or changed since `watermark` (all trials when it is None), and the next watermark.

        Cost is proportional to the number of new trials plus the unfinished (RUNNING/WAITING) ones, not to the
        size of the study. A trial that finishes, or gains params, values, intermediate values or user
        attributes while unfinished, is returned again. Merge with TrialTable.with_rows_replaced().
        """
        raise NotImplementedError

    def intermediate_values(self, study_name: str, numbers: Sequence[int] | None = None) -> IntermediateValues:
        """Every reported intermediate value of the study (long format, sorted by trial and step); only of the
        trials numbered `numbers` when given (read without scanning the whole study)."""
        raise NotImplementedError

    def trial_system_attrs(
        self, study_name: str, prefix: str = "optgui:", numbers: Sequence[int] | None = None
    ) -> dict[int, dict[str, Any]]:
        """{trial number: {key: value}} of trial system attributes whose key starts with `prefix`; only of the
        trials numbered `numbers` when given.

        Values are JSON-decoded, never unpickled.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release the file or connection. Reading after close is an error."""

    def __enter__(self) -> StudyReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_reader(storage: str | StorageRef, *, busy_timeout: float | None = None) -> StudyReader:
    """Open a storage read-only: a path to a SQLite or journal file (detected by content), or a `sqlite:///`,
    `postgresql://` or `mysql://` URL. Raises StorageError with a specific message when it cannot be read.

    busy_timeout: seconds to wait for a SQLite file that another process holds locked (default 5 s, as Optuna),
    or the PostgreSQL lock timeout.
    """
    from optgui.core.readonly_db import DEFAULT_BUSY_TIMEOUT, open_readonly_db

    ref = resolve_for_reading(storage)
    if ref.kind == "journal":
        from optgui.core.journal_reader import JournalStudyReader

        assert ref.path is not None
        return JournalStudyReader(ref.path)
    from optgui.core.rdb_reader import RdbStudyReader
    from optgui.core.schema import read_schema

    db = open_readonly_db(ref, busy_timeout=DEFAULT_BUSY_TIMEOUT if busy_timeout is None else busy_timeout)
    try:
        schema = read_schema(db)
    except BaseException:
        db.close()
        raise
    return RdbStudyReader(db, schema, ref.display)
