"""Columnar reads of Optuna's SQL schema (SQLite, PostgreSQL, MySQL) with plain SELECTs, never through Optuna.

Why direct SQL: building FrozenTrial objects costs ~0.6 ms and ~15 KB per trial (58 s, 1.5 GB for 100k
trials); fetching tuples into numpy columns costs microseconds per row.

Why chunks: SQLite lets a writer commit only when no read transaction is open, and Optuna's writers give up after
a 5 s busy timeout ("database is locked"). Each statement here is its own transaction and covers a trial_id range
sized so it runs for about CHUNK_TARGET_SECONDS; between statements a waiting writer gets in.

Consistency: a chunked read is not one snapshot. Rows committed while a read runs may or may not be included;
the next poll() picks up whatever was missed (finished trials never change in Optuna, and unfinished ones are
re-checked by fingerprint on every poll).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from optgui.core import json_text
from optgui.core.errors import StorageError
from optgui.core.storage._readonly_db import ReadOnlyDb
from optgui.core.storage._schema import SchemaInfo
from optgui.core.storage._study_reader import StudyReader
from optgui.core.storage._tables import (
    NAT,
    STATE_NAMES,
    UNFINISHED_STATES,
    IntermediateValues,
    ParamColumn,
    ParamDistribution,
    StudySummary,
    TrialDelta,
    TrialTable,
    Watermark,
    durations,
    frozen_array,
    frozen_mapping,
)

CHUNK_TARGET_SECONDS = 0.05
_FIRST_CHUNK = 20_000
_MIN_CHUNK = 500
_MAX_CHUNK = 2_000_000
_ID_LIST_CHUNK = 500  # ids per IN (...) list: far below every backend's parameter limit
# Server databases can commit a lower trial_id after a higher one (two workers inserting at once); polls there
# look back this many ids below the watermark for trials that were not visible yet. SQLite serialises writers.
SERVER_LOOKBACK_IDS = 256
#: At most this many new trials per poll (see TrialDelta.has_more).
POLL_BATCH = 20_000
OPTGUI_PREFIX = "optgui:"
METRIC_NAMES_KEY = "study:metric_names"

_STATE_CASE = (
    "CASE {col} WHEN 'RUNNING' THEN 0 WHEN 'COMPLETE' THEN 1 WHEN 'PRUNED' THEN 2 "
    "WHEN 'FAIL' THEN 3 WHEN 'WAITING' THEN 4 ELSE -1 END"
)
# 0 finite (or NULL meaning NaN in old files), 1 +inf, 2 -inf, 3 NaN. PostgreSQL rejects comparing an enum with
# a label it does not have, so values (no NAN label) and intermediate values get separate expressions.
_VALUE_TYPE_CASE = "CASE {col} WHEN 'INF_POS' THEN 1 WHEN 'INF_NEG' THEN 2 ELSE 0 END"
_INTERMEDIATE_TYPE_CASE = "CASE {col} WHEN 'INF_POS' THEN 1 WHEN 'INF_NEG' THEN 2 WHEN 'NAN' THEN 3 ELSE 0 END"
_DIRECTIONS = {"MINIMIZE": "minimize", "MAXIMIZE": "maximize", "NOT_SET": "not_set"}


def _state_sql(col: str) -> str:
    return _STATE_CASE.format(col=col)


class _Chunker:
    """Adaptive trial_id (or primary key) ranges: each statement should take about CHUNK_TARGET_SECONDS."""

    def __init__(self, db: ReadOnlyDb, first: int = _FIRST_CHUNK) -> None:
        self.db = db
        self.size = first

    def run(
        self,
        statement: Callable[[], tuple[str, tuple]],
        lo: int,
        hi: int,
        dtype: np.dtype | None = None,
        fetch: Callable[[str, tuple], Any] | None = None,
    ) -> Iterator[Any]:
        """Run statement() -> (sql ending in `BETWEEN ? AND ?`, its other parameters) over [lo, hi] in chunks.

        statement() is called before each chunk, so a caller can change the SQL between chunks. Each chunk's rows
        are a list of tuples, or with `dtype` one structured array (ReadOnlyDb.array), or what `fetch(sql, its
        parameters)` returns.
        """
        start = lo
        while start <= hi:
            stop = min(hi, start + self.size - 1)
            sql, params = statement()
            began = time.perf_counter()
            bounds = (*params, start, stop)
            if fetch is not None:
                rows = fetch(sql, bounds)
            else:
                rows = self.db.rows(sql, bounds) if dtype is None else self.db.array(sql, bounds, dtype)
            elapsed = time.perf_counter() - began
            if elapsed > 0:
                scale = min(4.0, max(0.25, CHUNK_TARGET_SECONDS / elapsed))
                self.size = int(min(_MAX_CHUNK, max(_MIN_CHUNK, self.size * scale)))
            yield rows
            start = stop + 1

    def rows(self, sql: str, params: tuple, lo: int, hi: int) -> Iterator[list[tuple]]:
        return self.run(lambda: (sql, params), lo, hi)


def _id_lists(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _ID_LIST_CHUNK):
        yield ids[i : i + _ID_LIST_CHUNK]


def _in_list(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


# SQLAlchemy's text of a datetime in SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", 26 characters.
_DATETIME_WIDTH = 26
_NULL_DATETIME = "N" * _DATETIME_WIDTH  # stands for NULL in a joined column (group_concat skips NULLs)
# Where the text has its separators; digits everywhere else.
_DATETIME_SEPARATORS = {4: b"-", 7: b"-", 10: b" ", 13: b":", 16: b":", 19: b"."}


def _joined_datetimes_sql(col: str) -> str:
    return f"group_concat(IFNULL({col}, '{_NULL_DATETIME}'))"


def _parse_joined_datetimes(text: str | None, count: int) -> np.ndarray | None:
    """datetime64[us] of `count` datetimes joined by commas (NULL as _NULL_DATETIME), the same values numpy gives
    for each text; None when any is not in SQLAlchemy's form or out of range (the caller reads them row by row).

    The texts have a fixed width, so numpy reads the digits in place: one string for the whole column instead of a
    Python string per cell (~2 s of CPU for the two datetime columns of 1M trials)."""
    if text is None or len(text) != count * (_DATETIME_WIDTH + 1) - 1 or not text.isascii():
        return None
    cells = np.frombuffer((text + ",").encode("ascii"), dtype=np.uint8).reshape(count, _DATETIME_WIDTH + 1)
    if not np.all(cells[:, -1] == ord(",")):
        return None
    null = cells[:, 0] == ord("N")
    if null.any():
        if not np.all(cells[null, :_DATETIME_WIDTH] == ord("N")):  # a text starting with N is not a NULL
            return None
        cells = cells[~null]
    digits = cells[:, :_DATETIME_WIDTH].astype(np.int64) - ord("0")
    for at, char in _DATETIME_SEPARATORS.items():
        if not np.all(cells[:, at] == ord(char)):
            return None
        digits[:, at] = 0
    if np.any((digits < 0) | (digits > 9)):  # (a NULL marker elsewhere than in a whole cell lands here too)
        return None

    def number(start: int, width: int) -> np.ndarray:
        out = np.zeros(len(digits), dtype=np.int64)
        for k in range(start, start + width):
            out = out * 10 + digits[:, k]
        return out

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute, second, micro = number(11, 2), number(14, 2), number(17, 2), number(20, 6)
    if np.any((month < 1) | (month > 12) | (day < 1) | (hour > 23) | (minute > 59) | (second > 59)):
        return None
    months = (year - 1970) * 12 + (month - 1)
    days = months.astype("datetime64[M]").astype("datetime64[D]") + (day - 1)
    if np.any(days.astype("datetime64[M]").astype(np.int64) != months):  # a day past the month's end
        return None
    micros = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro
    parsed = days.astype("datetime64[us]") + micros.astype("timedelta64[us]")
    if not null.any():
        return parsed
    out = np.full(count, NAT)
    out[~null] = parsed
    return out


def _datetime64(column) -> np.ndarray:
    return np.array(column, dtype="datetime64[us]")


def _one_datetime(value: Any) -> np.datetime64:
    if value is None:
        return NAT
    return np.array([value], dtype="datetime64[us]")[0]


def _json_or_text(text: str) -> Any:
    """The decoded value; the stored text itself when it cannot be decoded (not JSON, or nested too deeply)."""
    try:
        return json_text.loads(text)
    except (TypeError, ValueError):
        return text


def _apply_value_types(values: np.ndarray, types: np.ndarray) -> np.ndarray:
    values[types == 1] = np.inf
    values[types == 2] = -np.inf
    values[types == 3] = np.nan
    return values


class _Selection:
    """Which trials of a study to read, and how.

    "table": the study holds most trials of the database, so every table is scanned by its own primary key
    (a sequential read, about twice as fast as going through the trial_id index) and other studies' rows are
    dropped in numpy. "join": the study's trials are interleaved with many others', so child rows are reached
    through a join on the study's trial_id range. "ids": an explicit id list (polls).
    """

    def __init__(self, study_id: int, mode: str, *, lo: int = 0, hi: int = -1, ids: list[int] | None = None):
        self.study_id, self.mode, self.lo, self.hi, self.ids = study_id, mode, lo, hi, ids

    @property
    def empty(self) -> bool:
        return (self.mode == "ids" and not self.ids) or (self.mode != "ids" and self.hi < self.lo)


_PRIMARY_KEYS = {
    "trials": "trial_id",
    "trial_values": "trial_value_id",
    "trial_params": "param_id",
    "trial_user_attributes": "trial_user_attribute_id",
    "trial_intermediate_values": "trial_intermediate_value_id",
}
# Packed integer reads (SQLite): bits for a trial number and an objective index; trial ids below the limit fit
# the packed words into 63 bits.
_NUMBER_BITS = 32
_OBJECTIVE_BITS = 16
_PACK_TRIAL_ID_LIMIT = 1 << 27
# Param (name, distribution) pairs mapped to small ints inside SQL; beyond this many the CASE gets slower than
# shipping the strings.
_MAX_CASE_KEYS = 64
# Packed param rows (SQLite): (trial id, param id, key code + 1) in one integer, trial ids below
# _PACK_TRIAL_ID_LIMIT: 27 + 29 + 7 bits.
_PARAM_ID_BITS = 29
_KEY_BITS = 7
# A packed value row fetched into numpy: the packed integer and the value.
_PACKED_VALUE = np.dtype([("word", np.int64), ("value", np.float64)])
# A packed param row: the packed integer, the value (0 for NULL) and whether it is NULL.
_PACKED_PARAM = np.dtype([("word", np.int64), ("value", np.float64), ("null", np.int8)])


def _best_values(directions: Sequence[str], entries: Sequence[list | None]) -> list[float] | None:
    """Each objective's best value from its [min finite, max finite, has +inf, has -inf] entry; None when an
    objective has no value at all."""
    out = []
    for direction, entry in zip(directions, entries, strict=True):
        if entry is None:
            return None
        vmin, vmax, has_pos, has_neg = entry
        if direction == "maximize":
            value = np.inf if has_pos else vmax if vmax is not None else -np.inf
        else:
            value = -np.inf if has_neg else vmin if vmin is not None else np.inf
        out.append(float(value))
    return out


class RdbStudyReader(StudyReader):
    """StudyReader over an Optuna SQL database (see optgui.core.storage._reader for the public contract)."""

    def __init__(self, db: ReadOnlyDb, schema: SchemaInfo, display: str) -> None:
        self.kind = "sqlite" if db.dialect == "sqlite" else "rdb"
        self.db = db
        self.schema = schema
        self.display = display
        self.notes: tuple[str, ...] = tuple(db.notes) + ((schema.warning,) if schema.warning else ())
        self._lookback = 0 if db.dialect == "sqlite" else SERVER_LOOKBACK_IDS
        # MySQL's default collations compare case- and accent-insensitively, so "x" = "X" there: keys are matched
        # in Python instead.
        self._case_keys = db.dialect != "mysql"
        self._param_keys: list[tuple[str, str]] = []
        self._param_key_index: dict[tuple[str, str], int] = {}
        self._distributions: dict[str, ParamDistribution] = {}
        self._twin_db: ReadOnlyDb | None = None
        # Old files have no type columns: the value is the float itself. ("0 * column", not "0": a bare integer in
        # GROUP BY means "the n-th column" to SQL.)
        self._value_type = _VALUE_TYPE_CASE.format(col="v.value_type") if schema.has_value_type else "0 * v.objective"
        self._inter_type = (
            _INTERMEDIATE_TYPE_CASE.format(col="i.intermediate_value_type")
            if schema.has_intermediate_value_type
            else "0 * i.step"
        )

    # ----------------------------------------------------------------------------------------------- studies
    def study_names(self) -> list[str]:
        return [name for (_, name) in sorted(self.db.rows("SELECT study_id, study_name FROM studies"))]

    def _directions(self, study_id: int | None = None) -> dict[int, tuple[str, ...]]:
        sql = "SELECT study_id, objective, direction FROM study_directions"
        rows = self.db.rows(sql + " WHERE study_id = ?", (study_id,)) if study_id is not None else self.db.rows(sql)
        by_study: dict[int, dict[int, str]] = {}
        for sid, objective, direction in rows:
            name = getattr(direction, "name", direction)  # drivers may hand back enum objects
            by_study.setdefault(sid, {})[objective] = _DIRECTIONS.get(str(name).upper(), str(name).lower())
        return {sid: tuple(d[k] for k in sorted(d)) for sid, d in by_study.items()}

    def _study(self, study_name: str) -> tuple[int, tuple[str, ...]]:
        # MySQL compares strings case-insensitively and ignores trailing spaces: keep only the exact spelling.
        rows = [
            row
            for row in self.db.rows("SELECT study_id, study_name FROM studies WHERE study_name = ?", (study_name,))
            if row[1] == study_name
        ]
        if not rows:
            names = self.study_names()
            shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
            raise StorageError(
                f"no study named {study_name!r} in {self.display}"
                + (f" (studies: {shown})" if names else " (it has no studies)")
            )
        study_id = rows[0][0]
        directions = self._directions(study_id).get(study_id, ())
        if not directions:
            raise StorageError(f"study {study_name!r} in {self.display} has no objective directions: damaged file")
        return study_id, directions

    def studies(self, *, counts: bool = True) -> list[StudySummary]:
        studies = sorted(self.db.rows("SELECT study_id, study_name FROM studies"))
        directions = self._directions()
        system: dict[int, dict[str, Any]] = {}
        for sid, key, value_json in self.db.rows(
            "SELECT s.study_id, s.key, s.value_json FROM study_system_attributes s WHERE s.key LIKE ? OR s.key = ?",
            (OPTGUI_PREFIX + "%", METRIC_NAMES_KEY),
        ):
            system.setdefault(sid, {})[key] = _json_or_text(value_json)
        user: dict[int, dict[str, Any]] = {}
        if "study_user_attributes" in self.db.table_names():
            for sid, key, value_json in self.db.rows(
                "SELECT u.study_id, u.key, u.value_json FROM study_user_attributes u"
            ):
                user.setdefault(sid, {})[key] = _json_or_text(value_json)

        by_state: dict[int, dict[str, int]] = {}
        first: dict[int, Any] = {}
        last: dict[int, Any] = {}
        best: dict[tuple[int, int], list] = {}  # (study, objective) -> [min finite, max finite, has +inf, has -inf]
        # Without counts, only the number of trials: Optuna's index on study_id answers it without reading a row.
        totals = dict(self.db.rows("SELECT study_id, COUNT(*) FROM trials GROUP BY study_id")) if not counts else {}
        ((lo, hi),) = self.db.rows("SELECT (SELECT MIN(trial_id) FROM trials), (SELECT MAX(trial_id) FROM trials)")
        if lo is not None and counts:
            # The two scans below are independent and spend their time inside SQLite, which releases the GIL:
            # on a local file the best-values scan runs on a second connection in parallel with the counts.
            best_rows = self._best_value_rows(lo, hi)
            count_sql = (
                "SELECT study_id, state, COUNT(*), MIN(datetime_start), MAX(datetime_start), "
                "MAX(datetime_complete) FROM trials WHERE trial_id BETWEEN ? AND ? GROUP BY study_id, state"
            )
            for rows in _Chunker(self.db).rows(count_sql, (), lo, hi):
                for sid, state, n, start_min, start_max, complete_max in rows:
                    per = by_state.setdefault(sid, {})
                    name = str(getattr(state, "name", state)).upper()
                    name = name if name in STATE_NAMES else "UNKNOWN"
                    per[name] = per.get(name, 0) + n
                    for value in (start_min,):
                        if value is not None and (sid not in first or value < first[sid]):
                            first[sid] = value
                    for value in (start_max, complete_max):
                        if value is not None and (sid not in last or value > last[sid]):
                            last[sid] = value
            for rows in best_rows():
                for sid, objective, vtype, vmin, vmax in rows:
                    entry = best.setdefault((sid, objective), [None, None, False, False])
                    if vtype == 1:
                        entry[2] = True
                    elif vtype == 2:
                        entry[3] = True
                    elif vmin is not None:
                        entry[0] = vmin if entry[0] is None else min(entry[0], vmin)
                        entry[1] = vmax if entry[1] is None else max(entry[1], vmax)

        summaries = []
        for sid, name in studies:
            dirs = directions.get(sid, ())
            per_counts = by_state.get(sid, {})
            best_values = _best_values(dirs, [best.get((sid, objective)) for objective in range(len(dirs))])
            attrs = system.get(sid, {})
            metric_names = attrs.get(METRIC_NAMES_KEY)
            summaries.append(
                StudySummary(
                    study_id=sid,
                    name=name,
                    directions=dirs,
                    metric_names=tuple(metric_names) if isinstance(metric_names, list) else None,
                    n_trials=sum(per_counts.values()) if counts else totals.get(sid, 0),
                    state_counts=frozen_mapping(
                        {s: per_counts[s] for s in (*STATE_NAMES, "UNKNOWN") if s in per_counts}
                    ),
                    best_values=tuple(best_values) if best_values else None,
                    first_activity=_one_datetime(first.get(sid)),
                    last_activity=_one_datetime(last.get(sid)),
                    optgui_metadata=frozen_mapping({k: v for k, v in attrs.items() if k.startswith(OPTGUI_PREFIX)}),
                    user_attrs=frozen_mapping(user.get(sid, {})),
                    counted=counts,
                )
            )
        return summaries

    def _best_value_rows(self, lo: int, hi: int) -> Callable[[], list[list[tuple]]]:
        """Start reading (study, objective, value type, min, max) of COMPLETE trials over trial ids [lo, hi];
        the returned function gives the chunks' rows (waiting for a parallel read to end)."""
        if self.db.dialect == "sqlite":
            # SQLite's planner walks trials and probes trial_values through its (trial_id, objective) index;
            # walking trial_values and probing trials by primary key (CROSS JOIN fixes that order in SQLite)
            # does one lookup per value instead of two: ~40% less time.
            join = (
                "FROM trial_values v CROSS JOIN trials t ON t.trial_id = v.trial_id "
                "WHERE t.state = 'COMPLETE' AND v.trial_id BETWEEN ? AND ? "
            )
        else:
            join = (
                "FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id "
                "WHERE t.state = 'COMPLETE' AND t.trial_id BETWEEN ? AND ? "
            )
        sql = (
            f"SELECT t.study_id, v.objective, {self._value_type}, MIN(v.value), MAX(v.value) {join}"
            f"GROUP BY t.study_id, v.objective, {self._value_type}"
        )
        return self._in_parallel(lambda db: list(_Chunker(db).rows(sql, (), lo, hi)))

    def _in_parallel(self, read: Callable[[ReadOnlyDb], Any]) -> Callable[[], Any]:
        """Start read(db) on the second connection in a thread (or, where there is none, run it now on this
        one); the returned function gives its result, waiting for the thread and re-raising its error."""
        twin = self._twin()
        if twin is None:
            value = read(self.db)
            return lambda: value
        result: list = []

        def run() -> None:
            try:
                result.append(read(twin))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                result.append(exc)

        thread = threading.Thread(target=run, name="optgui-read-parallel", daemon=True)
        thread.start()

        def wait() -> Any:
            thread.join()
            if isinstance(result[0], BaseException):
                raise result[0]
            return result[0]

        return wait

    def _twin(self) -> ReadOnlyDb | None:
        if self._twin_db is None:
            self._twin_db = self.db.twin()
        return self._twin_db

    # ------------------------------------------------------------------------------------------------ trials
    def _full_selection(self, study_id: int) -> _Selection:
        # MIN and MAX come from the ends of the study_id index; counting the study's trials scans all of them
        # (~0.15 s at 1M), so it is done only when the file holds other studies.
        ((lo, hi, all_lo, all_hi, studies),) = self.db.rows(
            "SELECT (SELECT MIN(trial_id) FROM trials WHERE study_id = ?), "
            "(SELECT MAX(trial_id) FROM trials WHERE study_id = ?), "
            "(SELECT MIN(trial_id) FROM trials), (SELECT MAX(trial_id) FROM trials), (SELECT COUNT(*) FROM studies)",
            (study_id, study_id),
        )
        if lo is None:
            return _Selection(study_id, "join")
        if studies == 1:
            dense = True  # every trial of the file is this study's
        else:
            ((n,),) = self.db.rows("SELECT COUNT(*) FROM trials WHERE study_id = ?", (study_id,))
            dense = n * 2 >= (all_hi - all_lo + 1)
        return _Selection(study_id, "table" if dense else "join", lo=lo, hi=hi)

    def _fetch(
        self,
        sel: _Selection,
        table: str,
        alias: str,
        cols: str | Callable[[], tuple[str, tuple]],
        db: ReadOnlyDb | None = None,
        dtype: np.dtype | None = None,
    ) -> Iterator[Any]:
        """Rows of `cols` from `table` (as `alias`) for the selection's trials (with `dtype`: each chunk as one
        structured array, see ReadOnlyDb.array).

        `cols` may be a function returning (columns SQL, parameters for its `?`s), called before each statement,
        so what is selected can change as a read learns more. Rows of other studies may be included in "table"
        mode; callers drop them by trial_id.
        """
        if sel.empty:
            return
        db = db or self.db

        def current() -> tuple[str, tuple]:
            return cols() if callable(cols) else (cols, ())

        if sel.mode == "ids":
            assert sel.ids is not None
            for chunk in _id_lists(sel.ids):
                text, params = current()
                sql = f"SELECT {text} FROM {table} {alias} WHERE {alias}.trial_id IN ({_in_list(chunk)})"
                yield db.rows(sql, (*params, *chunk)) if dtype is None else db.array(sql, (*params, *chunk), dtype)
            return
        if sel.mode == "table":
            pk = _PRIMARY_KEYS[table]
            # Two subqueries: SQLite answers a lone MIN or MAX of a key from the b-tree ends, but not both at once.
            ((lo, hi),) = db.rows(f"SELECT (SELECT MIN({pk}) FROM {table}), (SELECT MAX({pk}) FROM {table})")
            if lo is None:
                return

            def by_key() -> tuple[str, tuple]:
                text, params = current()
                if table == "trials":
                    # The row carries its study: filtering in SQL is free and spares Python other studies' rows.
                    # (SQLite: "+" keeps the filter off the study_id index, whose lookups of every row back in the
                    # table cost ~40% more CPU than this range scan of the table itself.)
                    study = f"+{alias}.study_id" if db.dialect == "sqlite" else f"{alias}.study_id"
                    return (
                        f"SELECT {text} FROM trials {alias} WHERE {study} = ? AND {alias}.{pk} BETWEEN ? AND ?",
                        (*params, sel.study_id),
                    )
                return f"SELECT {text} FROM {table} {alias} WHERE {alias}.{pk} BETWEEN ? AND ?", params

            yield from _Chunker(db).run(by_key, lo, hi, dtype)
            return

        def by_trial() -> tuple[str, tuple]:
            text, params = current()
            if table == "trials":
                sql = f"SELECT {text} FROM trials t WHERE t.study_id = ? AND t.trial_id BETWEEN ? AND ?"
            else:
                sql = (
                    f"SELECT {text} FROM trials t JOIN {table} {alias} ON {alias}.trial_id = t.trial_id "
                    "WHERE t.study_id = ? AND t.trial_id BETWEEN ? AND ?"
                )
            return sql, (*params, sel.study_id)

        yield from _Chunker(db).run(by_trial, sel.lo, sel.hi, dtype)

    def _read(
        self,
        study_name: str,
        study_id: int,
        directions: tuple[str, ...],
        sel: _Selection,
        *,
        params: bool = True,
        user_attrs: bool = True,
        datetimes: bool = True,
    ) -> TrialTable:
        state = _state_sql("t.state")
        # Every statement filters on the study (see _fetch), so each row is this study's. Columns that are not
        # asked for are not selected at all: every value costs a Python object per row.
        times = ", t.datetime_start, t.datetime_complete" if datetimes else ""
        parts = []
        # A study holding most of the file, read without datetimes (convergence): its values are scanned by key
        # on a second connection while this one reads the packed trials, which spend their time inside SQLite
        # (it releases the GIL). Not with row-by-row reads on both sides: sqlite3 takes the GIL back for every
        # row, and two threads handing it over per row cost more CPU than they save (measured: 2x).
        packed = self._packs(sel)
        values_reader = (
            self._in_parallel(lambda db: self._value_chunks(sel, db)) if packed and sel.mode == "table" else None
        )
        if packed:
            parts = self._read_packed_trials(sel, datetimes)
        else:
            for rows in self._fetch(sel, "trials", "t", f"t.trial_id, t.number, {state}{times}"):
                if rows:
                    columns = list(zip(*rows, strict=False))
                    parts.append(
                        [
                            np.array(columns[0], dtype=np.int64),
                            np.array(columns[1], dtype=np.int64),
                            np.array(columns[2], dtype=np.int8),
                            _datetime64(columns[3]) if datetimes else None,
                            _datetime64(columns[4]) if datetimes else None,
                        ]
                    )
        if parts:
            trial_id, number, state_codes = (np.concatenate([p[k] for p in parts]) for k in range(3))
            if datetimes:
                start, complete = (np.concatenate([p[k] for p in parts]) for k in (3, 4))
            else:
                # Not read: one NaT seen through a read-only view of every row (no memory; 16 MB at 1M trials
                # written and then copied into the study's store otherwise).
                start = complete = np.broadcast_to(NAT, len(trial_id))
            if len(trial_id) > 1 and np.any(trial_id[1:] < trial_id[:-1]):
                order = np.argsort(trial_id, kind="stable")
                trial_id, number, state_codes, start, complete = (
                    a[order] for a in (trial_id, number, state_codes, start, complete)
                )
        else:
            trial_id = number = np.empty(0, dtype=np.int64)
            state_codes = np.empty(0, dtype=np.int8)
            start = complete = np.empty(0, dtype="datetime64[us]")
        n = len(trial_id)
        if sel.mode == "join" and n:
            # Child rows are read for the ids actually seen: trials created after the trials chunk are left to
            # the next poll, together with their params.
            sel = _Selection(study_id, "join", lo=int(trial_id[0]), hi=int(trial_id[-1]))
        elif sel.mode == "ids":
            sel = _Selection(study_id, "ids", ids=trial_id.tolist())

        values = np.full((n, len(directions)), np.nan)
        if values_reader is not None:
            self._apply_values(values_reader(), trial_id, values)
        elif n:
            self._read_values(sel, trial_id, values)
        param_columns = self._read_params(sel, trial_id) if params and n else {}
        attr_columns = self._read_user_attrs(sel, trial_id) if user_attrs and n else {}
        return TrialTable(
            study_name=study_name,
            directions=directions,
            trial_id=frozen_array(trial_id),
            number=frozen_array(number),
            state=frozen_array(state_codes),
            values=frozen_array(values),
            datetime_start=frozen_array(start),
            datetime_complete=frozen_array(complete),
            duration=frozen_array(durations(start, complete) if datetimes else np.broadcast_to(np.nan, n)),
            params=frozen_mapping(param_columns),
            user_attrs=frozen_mapping(attr_columns),
        )

    # --- packed integer reads (SQLite) ----------------------------------------------------------------------
    # Turning each SQL value into a Python object is most of a read's cost. Integer columns of one row are
    # therefore packed into one integer in SQL, and for the trials table the packed integers of a whole chunk are
    # joined into one text that numpy parses: three columns of 100k trials cost one Python string instead of
    # 300k objects (~3x less CPU). Floats are never packed or passed through text: values arrive as SQL reals.
    # Only SQLite (64-bit integer arithmetic, local file: the CPU is the cost; on a server the network is).

    def _packs(self, sel: _Selection) -> bool:
        if self.db.dialect != "sqlite" or sel.mode not in ("table", "join"):
            return False
        # Scans by key also pass other studies' rows: every trial id of the file must fit (SQLite turns an
        # overflowing integer product into a float instead of failing).
        ((top,),) = self.db.rows("SELECT MAX(trial_id) FROM trials")
        return top is not None and top < _PACK_TRIAL_ID_LIMIT

    def _read_packed_trials(self, sel: _Selection, datetimes: bool = False) -> list[list]:
        """[trial_id, number, state code, start, complete] per chunk, as _read's row path gives them (the
        datetimes None unless asked for)."""
        state = _state_sql("t.state")
        packed = f"((t.trial_id * {1 << _NUMBER_BITS} + t.number) * 8 + {state} + 1)"
        # A number outside [0, 2^32) cannot be packed: such a chunk (never made by Optuna) is read row by row, as
        # is a chunk with a datetime not in the form SQLAlchemy writes.
        cols = f"group_concat({packed}), MIN(t.number), MAX(t.number), COUNT(*), MIN(t.trial_id), MAX(t.trial_id)"
        if datetimes:
            cols += f", {_joined_datetimes_sql('t.datetime_start')}, {_joined_datetimes_sql('t.datetime_complete')}"
        parts = []
        for rows in self._fetch(sel, "trials", "t", cols):
            if not rows:
                continue
            text, low, high, count, first, last = rows[0][:6]
            if not count:
                continue
            times = [_parse_joined_datetimes(t, count) for t in rows[0][6:]]
            if low < 0 or high >= 1 << _NUMBER_BITS or any(t is None for t in times):
                dt_cols = ", t.datetime_start, t.datetime_complete" if datetimes else ""
                chunk = self.db.rows(
                    f"SELECT t.trial_id, t.number, {state}{dt_cols} FROM trials t WHERE t.study_id = ? "
                    "AND t.trial_id BETWEEN ? AND ?",
                    (sel.study_id, first, last),
                )
                columns = list(zip(*chunk, strict=False))
                parts.append(
                    [
                        np.array(columns[0], dtype=np.int64),
                        np.array(columns[1], dtype=np.int64),
                        np.array(columns[2], dtype=np.int8),
                        _datetime64(columns[3]) if datetimes else None,
                        _datetime64(columns[4]) if datetimes else None,
                    ]
                )
                continue
            # numpy's own text parser: splitting into a Python string per number cost ~6x more.
            words = np.fromstring(text, dtype=np.int64, sep=",")
            parts.append(
                [
                    words >> (_NUMBER_BITS + 3),
                    (words >> 3) & ((1 << _NUMBER_BITS) - 1),
                    ((words & 7) - 1).astype(np.int8),
                    times[0] if datetimes else None,
                    times[1] if datetimes else None,
                ]
            )
        return parts

    @staticmethod
    def _rows_of(trial_id: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row index of each id in sorted `trial_id`, and a mask of the ids that belong to the table."""
        rows = np.searchsorted(trial_id, ids)
        rows[rows >= len(trial_id)] = 0
        return rows, trial_id[rows] == ids

    def _read_values(self, sel: _Selection, trial_id: np.ndarray, values: np.ndarray) -> None:
        self._apply_values(self._value_chunks(sel), trial_id, values)

    def _value_chunks(self, sel: _Selection, db: ReadOnlyDb | None = None) -> list[tuple[np.ndarray, ...]]:
        """(trial ids, objective indexes, values) per chunk of trial_values rows of the selection."""
        # Packed (see above): trial id, objective and value type in one integer, the value beside it.
        packs = self._packs(sel)
        # An objective index outside the packable range (Optuna never writes one) becomes the largest index,
        # which no study has, so the range check in _apply_values drops it as it drops any unknown objective.
        top = (1 << _OBJECTIVE_BITS) - 1
        objective_sql = f"CASE WHEN v.objective BETWEEN 0 AND {top} THEN v.objective ELSE {top} END"
        # Packed rows come as one structured array per chunk, which has no NULL: Optuna stores infinities as a NULL
        # value with their type, and any other NULL value (NaN in old files) travels as type 3.
        # (The type is computed once per row where the value is present: ~10% of this statement.)
        type_sql = f"CASE WHEN v.value IS NULL AND {self._value_type} = 0 THEN 3 ELSE {self._value_type} END"
        word_sql = f"(v.trial_id * {1 << _OBJECTIVE_BITS} + {objective_sql}) * 4 + {type_sql}"
        if packs and sel.mode == "table":
            return self._value_chunks_by_key(db or self.db, word_sql)
        cols = f"{word_sql}, IFNULL(v.value, 0.0)" if packs else f"v.trial_id, v.objective, v.value, {self._value_type}"
        chunks: list[tuple[np.ndarray, ...]] = []
        for rows in self._fetch(sel, "trial_values", "v", cols, db=db, dtype=_PACKED_VALUE if packs else None):
            if not len(rows):
                continue
            if packs:
                words = rows["word"]
                raw = np.ascontiguousarray(rows["value"])
                ids = words >> (_OBJECTIVE_BITS + 2)
                objective = (words >> 2) & top
                types = (words & 3).astype(np.int8)
            else:
                id_list, objectives, raw_list, type_list = zip(*rows, strict=False)
                raw = np.array(raw_list, dtype=np.float64)
                objective = np.array(objectives, dtype=np.int64)
                types = np.array(type_list, dtype=np.int8)
                ids = np.array(id_list, dtype=np.int64)
            chunks.append((ids, objective, _apply_value_types(np.asarray(raw, dtype=np.float64), types)))
        return chunks

    def _value_chunks_by_key(self, db: ReadOnlyDb, word_sql: str) -> list[tuple[np.ndarray, ...]]:
        """_value_chunks of a whole table scanned by key (SQLite): per chunk, the packed words of its rows joined
        into one text and their values as a single REAL column, read in one transaction and in key order, so the
        n-th word and the n-th value are the same row. One float object per row instead of a row tuple with an
        integer and a float: ~30% less CPU on 1M values."""
        ((lo, hi),) = db.rows(
            "SELECT (SELECT MIN(trial_value_id) FROM trial_values), (SELECT MAX(trial_value_id) FROM trial_values)"
        )
        if lo is None:
            return []
        rows = "FROM trial_values v WHERE v.trial_value_id BETWEEN ? AND ? ORDER BY v.trial_value_id"
        words_sql = f"SELECT group_concat(w), COUNT(*) FROM (SELECT {word_sql} AS w {rows})"
        top = (1 << _OBJECTIVE_BITS) - 1
        chunks: list[tuple[np.ndarray, ...]] = []
        for text, raw in _Chunker(db).run(
            lambda: (f"SELECT IFNULL(v.value, 0.0) {rows}", ()),
            lo,
            hi,
            fetch=lambda sql, bounds: db.text_and_floats(words_sql, sql, bounds),
        ):
            if not len(raw):
                continue
            words = np.fromstring(text, dtype=np.int64, sep=",")
            types = (words & 3).astype(np.int8)
            chunks.append((words >> (_OBJECTIVE_BITS + 2), (words >> 2) & top, _apply_value_types(raw, types)))
        return chunks

    def _apply_values(self, chunks, trial_id: np.ndarray, values: np.ndarray) -> None:
        for ids, objective, value in chunks:
            where, mine = self._rows_of(trial_id, ids)
            mine &= (objective >= 0) & (objective < values.shape[1])
            values[where[mine], objective[mine]] = value[mine]

    def _param_key_case(self) -> tuple[str, tuple]:
        """SQL giving each row's (name, distribution) key as a small int (-1: not known yet), and its params."""
        known = self._param_keys[:_MAX_CASE_KEYS]
        if not self._case_keys or not known:
            return "-1", ()
        whens = " ".join(f"WHEN p.param_name = ? AND p.distribution_json = ? THEN {k}" for k in range(len(known)))
        return f"CASE {whens} ELSE -1 END", tuple(x for key in known for x in key)

    def _register_keys(self, pairs) -> None:
        for key in pairs:
            if key not in self._param_key_index:
                self._param_key_index[key] = len(self._param_keys)
                self._param_keys.append(key)

    def _read_params(self, sel: _Selection, trial_id: np.ndarray) -> dict[str, ParamColumn]:
        # Each row's distribution JSON (~100 bytes) would cost a Python string per row; instead SQL maps known
        # (name, distribution) pairs to ints, and only rows with a pair not seen before carry the strings.
        parts = []
        # Packed as the trials and values are (see _read_packed_trials): two objects per row instead of four.
        packs = self._packs(sel) and self._param_ids_pack()
        key_mask = (1 << _KEY_BITS) - 1

        def select_columns() -> tuple[str, tuple]:
            case_sql, case_params = self._param_key_case()
            if packs:
                return (
                    f"((p.trial_id * {1 << _PARAM_ID_BITS} + p.param_id) * {1 << _KEY_BITS} + ({case_sql}) + 1), "
                    "IFNULL(p.param_value, 0.0), p.param_value IS NULL",
                    case_params,
                )
            return f"p.trial_id, p.param_id, p.param_value, {case_sql}", case_params

        for rows in self._fetch(sel, "trial_params", "p", select_columns, dtype=_PACKED_PARAM if packs else None):
            if not len(rows):
                continue
            if packs:
                words = rows["word"]
                ids_a = words >> (_PARAM_ID_BITS + _KEY_BITS)
                pids_a = (words >> _KEY_BITS) & ((1 << _PARAM_ID_BITS) - 1)
                code = (words & key_mask) - 1
                raw_a = np.ascontiguousarray(rows["value"])
                raw_a[rows["null"] != 0] = np.nan  # (a structured array has no NULL)
            else:
                id_list, pid_list, raw_list, code_list = zip(*rows, strict=False)
                code = np.array(code_list, dtype=np.int64)
                ids_a, pids_a, raw_a = (
                    np.array(id_list, dtype=np.int64),
                    np.array(pid_list, dtype=np.int64),
                    np.array(raw_list, dtype=np.float64),
                )
            unknown = code < 0
            if unknown.any():
                # Rows whose key is not (yet) mapped: fetch their names and distributions by param_id.
                missing = pids_a[unknown].tolist()
                by_pid = {}
                for chunk in _id_lists(missing):
                    for pid, name, dist in self.db.rows(
                        "SELECT p.param_id, p.param_name, p.distribution_json FROM trial_params p "
                        f"WHERE p.param_id IN ({_in_list(chunk)})",
                        tuple(chunk),
                    ):
                        by_pid[pid] = (name, dist)
                self._register_keys(by_pid.values())
                code[unknown] = [self._param_key_index[by_pid[pid]] if pid in by_pid else -1 for pid in missing]
                keep = code >= 0  # a param deleted in between (never by Optuna) is skipped
                ids_a, pids_a, raw_a, code = ids_a[keep], pids_a[keep], raw_a[keep], code[keep]
            parts.append((ids_a, pids_a, raw_a, code))
        if not parts:
            return {}
        ids, pids, raw, codes = (np.concatenate([p[k] for p in parts]) for k in range(4))
        where, mine = self._rows_of(trial_id, ids)
        if not mine.all():
            ids, pids, raw, codes, where = ids[mine], pids[mine], raw[mine], codes[mine], where[mine]
        if not len(ids):
            return {}
        keys = self._param_keys
        names: list[str] = list(dict.fromkeys(keys[k][0] for k in np.unique(codes).tolist()))
        name_index = {name: i for i, name in enumerate(names)}
        name_of_key = np.array([name_index.get(name, -1) for name, _ in keys], dtype=np.int32)
        name_codes = name_of_key[codes]
        # Columns in the order Optuna returns params: by param_id, i.e. the order they were first suggested.
        first_pid = np.full(len(names), np.iinfo(np.int64).max)
        np.minimum.at(first_pid, name_codes, pids)
        n = len(trial_id)
        columns: dict[str, ParamColumn] = {}
        for i in np.argsort(first_pid, kind="stable").tolist():
            name = names[i]
            rows_of_name = name_codes == i
            key_ids = np.unique(codes[rows_of_name]).tolist()
            remap = np.full(len(keys), -1, dtype=np.int16)
            remap[key_ids] = np.arange(len(key_ids))
            dists = tuple(self._distribution(keys[k][1]) for k in key_ids)
            column = np.full(n, np.nan)
            present = np.zeros(n, dtype=bool)
            dist_index = np.full(n, -1, dtype=np.int16)
            rows = where[rows_of_name]
            column[rows] = raw[rows_of_name]
            present[rows] = True
            dist_index[rows] = remap[codes[rows_of_name]]
            columns[name] = ParamColumn(
                name, frozen_array(column), frozen_array(present), dists, frozen_array(dist_index)
            )
        return columns

    def _param_ids_pack(self) -> bool:
        ((low, top),) = self.db.rows("SELECT MIN(param_id), MAX(param_id) FROM trial_params")
        return top is not None and low >= 0 and top < 1 << _PARAM_ID_BITS

    def _distribution(self, text: str) -> ParamDistribution:
        dist = self._distributions.get(text)
        if dist is None:
            try:
                dist = self._distributions[text] = ParamDistribution.from_json(text)
            except (ValueError, KeyError, TypeError) as exc:
                raise StorageError(
                    f"{self.display}: a stored param distribution is not valid ({exc}): {text[:80]}"
                ) from None
        return dist

    def _read_user_attrs(self, sel: _Selection, trial_id: np.ndarray) -> dict[str, np.ndarray]:
        n = len(trial_id)
        columns: dict[str, np.ndarray] = {}
        for rows in self._fetch(sel, "trial_user_attributes", "a", "a.trial_id, a.key, a.value_json"):
            if not rows:
                continue
            ids, keys, texts = zip(*rows, strict=False)
            where, mine = self._rows_of(trial_id, np.array(ids, dtype=np.int64))
            for row, ok, key, text in zip(where.tolist(), mine.tolist(), keys, texts, strict=False):
                if ok:
                    column = columns.get(key)
                    if column is None:
                        column = columns[key] = np.full(n, None, dtype=object)
                    column[row] = _json_or_text(text)
        return {key: frozen_array(column) for key, column in columns.items()}

    def trials(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> TrialTable:
        study_id, directions = self._study(study_name)
        return self._read(
            study_name,
            study_id,
            directions,
            self._full_selection(study_id),
            params=params,
            user_attrs=user_attrs,
            datetimes=datetimes,
        )

    # -------------------------------------------------------------------------------------------------- poll
    def trials_with_watermark(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> tuple[TrialTable, Watermark]:
        study_id, directions = self._study(study_name)
        anchor = self._anchor(study_id)  # before the read: a study recreated meanwhile then reloads in full
        table = self._read(
            study_name,
            study_id,
            directions,
            self._full_selection(study_id),
            params=params,
            user_attrs=user_attrs,
            datetimes=datetimes,
        )
        return table, self._watermark(study_id, table, {}, anchor)

    def _fingerprint_sql(self) -> str:
        return (
            f"SELECT t.trial_id, {_state_sql('t.state')}, t.datetime_start, "
            "(SELECT COUNT(*) FROM trial_params p WHERE p.trial_id = t.trial_id), "
            "(SELECT COUNT(*) FROM trial_values v WHERE v.trial_id = t.trial_id), "
            "(SELECT COUNT(*) FROM trial_intermediate_values i WHERE i.trial_id = t.trial_id), "
            "(SELECT COUNT(*) FROM trial_user_attributes a WHERE a.trial_id = t.trial_id) FROM trials t "
        )

    @staticmethod
    def _fingerprint(row: tuple) -> tuple:
        return (row[1], str(row[2]), *row[3:])

    def _anchor(self, study_id: int) -> tuple | None:
        rows = self.db.rows(
            "SELECT trial_id, datetime_start FROM trials WHERE study_id = ? ORDER BY trial_id LIMIT 1", (study_id,)
        )
        return (rows[0][0], str(rows[0][1])) if rows else None

    def _watermark(
        self, study_id: int, table: TrialTable, fingerprints: dict[int, tuple], anchor: tuple | None
    ) -> Watermark:
        ids = table.trial_id
        max_id = int(ids[-1]) if len(ids) else 0
        # (one comparison per state: np.isin sorted the states, ~0.4 s at 10M trials)
        open_rows = np.zeros(len(ids), dtype=bool)
        for code in UNFINISHED_STATES:
            open_rows |= table.state == code
        unfinished = tuple((int(tid), fingerprints.get(int(tid), ("unknown",))) for tid in ids[open_rows].tolist())
        recent = frozenset(ids[ids > max_id - self._lookback].tolist()) if self._lookback else frozenset()
        return Watermark(
            study_id=study_id, max_trial_id=max_id, unfinished=unfinished, recent_ids=recent, anchor=anchor
        )

    def poll(self, study_name: str, watermark: Watermark | None = None) -> TrialDelta:
        study_id, directions = self._study(study_name)
        anchor = self._anchor(study_id)
        if (
            watermark is None
            or watermark.study_id != study_id
            or watermark.log_offset is not None
            or (watermark.anchor is not None and watermark.anchor != anchor)
        ):
            table = self._read(study_name, study_id, directions, self._full_selection(study_id))
            # Fingerprints of unfinished trials are unknown here (taking them after the read could miss a change
            # made in between), so the next poll sends those trials once more with fingerprints taken first.
            return TrialDelta(table, self._watermark(study_id, table, {}, anchor), True, len(table), 0)

        fingerprint_sql = self._fingerprint_sql()
        fingerprints: dict[int, tuple] = {}
        changed: list[int] = []
        previous = dict(watermark.unfinished)
        for chunk in _id_lists(list(previous)):
            for row in self.db.rows(fingerprint_sql + f"WHERE t.trial_id IN ({_in_list(chunk)})", tuple(chunk)):
                fingerprints[row[0]] = self._fingerprint(row)
                if fingerprints[row[0]] != previous[row[0]]:
                    changed.append(row[0])
        floor = watermark.max_trial_id - self._lookback
        new_ids = []
        # Bounded: a poll far behind the writer returns a batch and says so (has_more), keeping every statement
        # short; the next poll continues from there.
        found = self.db.rows(
            fingerprint_sql + "WHERE t.study_id = ? AND t.trial_id > ? ORDER BY t.trial_id LIMIT ?",
            (study_id, floor, POLL_BATCH + 1),
        )
        has_more = len(found) > POLL_BATCH
        for row in found[:POLL_BATCH]:
            if row[0] > watermark.max_trial_id or (row[0] not in watermark.recent_ids and row[0] not in previous):
                new_ids.append(row[0])
                fingerprints[row[0]] = self._fingerprint(row)
        ids = sorted(set(new_ids) | set(changed))
        table = self._read(study_name, study_id, directions, _Selection(study_id, "ids", ids=ids))
        # The next watermark: unfinished trials from before that are still unfinished, plus new unfinished ones.
        still = {tid: fp for tid, fp in fingerprints.items() if fp[0] in UNFINISHED_STATES}
        max_id = max([watermark.max_trial_id, *new_ids])
        recent: frozenset = frozenset()
        if self._lookback:
            recent = frozenset(i for i in (*watermark.recent_ids, *new_ids) if i > max_id - self._lookback)
        new_watermark = Watermark(
            study_id=study_id,
            max_trial_id=max_id,
            unfinished=tuple(sorted(still.items())),
            recent_ids=recent,
            anchor=anchor if anchor is not None else self._anchor(study_id),
        )
        n_new = len(set(new_ids))
        return TrialDelta(table, new_watermark, False, n_new, len(table) - n_new, has_more=has_more)

    # ------------------------------------------------------------------------------------- on-demand columns
    def intermediate_values(self, study_name: str, numbers: Sequence[int] | None = None) -> IntermediateValues:
        study_id, _ = self._study(study_name)
        empty_i = frozen_array(np.empty(0, dtype=np.int64))
        if numbers is not None:
            # A few trials (the details pane): through the join, only for those trial numbers.
            cols = f"t.trial_id, t.number, i.step, i.intermediate_value, {self._inter_type}"
            sql = (
                f"SELECT {cols} FROM trials t JOIN trial_intermediate_values i ON i.trial_id = t.trial_id "
                "WHERE t.study_id = ?"
            )
            rows = [row for chunk in self._study_rows(sql, (study_id,), study_id, numbers) for row in chunk]
            if not rows:
                return IntermediateValues(empty_i, empty_i, empty_i, frozen_array(np.empty(0)))
            columns = list(zip(*rows, strict=False))
            tid, num, step = (np.array(c, dtype=np.int64) for c in columns[:3])
            value = _apply_value_types(np.array(columns[3], dtype=np.float64), np.array(columns[4], dtype=np.int8))
            order = np.lexsort((step, tid))
            return IntermediateValues(
                frozen_array(tid[order]),
                frozen_array(num[order]),
                frozen_array(step[order]),
                frozen_array(value[order]),
            )
        sel = self._full_selection(study_id)
        if sel.empty:
            return IntermediateValues(empty_i, empty_i, empty_i, frozen_array(np.empty(0)))
        # The study's trial ids and numbers first (cheap), then the reports without a join: in a study holding
        # most of the database, a scan of the reports by their own key is sequential and several times faster
        # than probing them trial by trial; rows of other studies are dropped by trial id.
        trials = [
            (np.array(c[0], dtype=np.int64), np.array(c[1], dtype=np.int64))
            for rows in self._fetch(sel, "trials", "t", "t.trial_id, t.number")
            if rows
            for c in [list(zip(*rows, strict=False))]
        ]
        if not trials:
            return IntermediateValues(empty_i, empty_i, empty_i, frozen_array(np.empty(0)))
        trial_id = np.concatenate([t[0] for t in trials])
        number = np.concatenate([t[1] for t in trials])
        order = np.argsort(trial_id, kind="stable")
        trial_id, number = trial_id[order], number[order]
        if sel.mode == "join":
            sel = _Selection(study_id, "join", lo=int(trial_id[0]), hi=int(trial_id[-1]))
        parts = []
        for rows in self._fetch(
            sel, "trial_intermediate_values", "i", f"i.trial_id, i.step, i.intermediate_value, {self._inter_type}"
        ):
            if rows:
                ids, steps, raw, types = zip(*rows, strict=False)
                where, mine = self._rows_of(trial_id, np.array(ids, dtype=np.int64))
                parts.append(
                    (
                        where[mine],
                        np.array(steps, dtype=np.int64)[mine],
                        _apply_value_types(np.array(raw, dtype=np.float64), np.array(types, dtype=np.int8))[mine],
                    )
                )
        if not parts:
            return IntermediateValues(empty_i, empty_i, empty_i, frozen_array(np.empty(0)))
        rows_of = np.concatenate([p[0] for p in parts])
        step = np.concatenate([p[1] for p in parts])
        value = np.concatenate([p[2] for p in parts])
        order = np.lexsort((step, rows_of))
        rows_of, step, value = rows_of[order], step[order], value[order]
        return IntermediateValues(
            frozen_array(trial_id[rows_of]), frozen_array(number[rows_of]), frozen_array(step), frozen_array(value)
        )

    def trial_system_attrs(
        self, study_name: str, prefix: str = OPTGUI_PREFIX, numbers: Sequence[int] | None = None
    ) -> dict[int, dict[str, Any]]:
        """{trial number: {key: value}} of trial system attributes whose keys start with `prefix`."""
        study_id, _ = self._study(study_name)
        out: dict[int, dict[str, Any]] = {}
        sql = (
            "SELECT t.number, s.key, s.value_json FROM trials t JOIN trial_system_attributes s "
            "ON s.trial_id = t.trial_id WHERE s.key LIKE ? AND t.study_id = ?"
        )
        for rows in self._study_rows(sql, (prefix + "%", study_id), study_id, numbers):
            for number, key, text in rows:
                if key.startswith(prefix):
                    out.setdefault(number, {})[key] = _json_or_text(text)
        return out

    def study_system_attrs(self, study_name: str, prefix: str) -> dict[str, Any]:
        study_id, _ = self._study(study_name)
        rows = self.db.rows(
            "SELECT key, value_json FROM study_system_attributes WHERE study_id = ? AND key LIKE ?",
            (study_id, prefix + "%"),
        )
        # LIKE ignores case (and `_` matches any character): keep only the exact prefix.
        return {key: _json_or_text(text) for key, text in rows if key.startswith(prefix)}

    def _study_rows(
        self, sql: str, params: tuple, study_id: int, numbers: Sequence[int] | None
    ) -> Iterator[list[tuple]]:
        """Rows of `sql` (over trials `t` of the study) for every trial, in trial_id chunks, or only for the
        trials numbered `numbers` (the details pane asks for one trial: no scan of the whole study)."""
        if numbers is not None:
            for chunk in _id_lists(sorted({int(n) for n in numbers})):
                yield self.db.rows(f"{sql} AND t.number IN ({_in_list(chunk)})", (*params, *chunk))
            return
        sel = self._full_selection(study_id)
        if sel.hi >= sel.lo:
            yield from _Chunker(self.db).rows(f"{sql} AND t.trial_id BETWEEN ? AND ?", params, sel.lo, sel.hi)

    def close(self) -> None:
        if self._twin_db is not None:
            self._twin_db.close()
        self.db.close()
