"""The trials of one study as growable, writable numpy columns: what the trials table shows, sorts, filters and
exports.

The reader's TrialTable is an immutable snapshot; merging a poll into it copies every column (O(study)). Here a
trial number is its row (Optuna numbers the trials of a study 0, 1, 2, ...), so a poll's rows are written in place
and new rows go at the end of preallocated buffers: applying a poll is O(new and changed trials).

Column keys follow `Study.trials_dataframe()`: number, value (or values_0, values_1, ... / values_<metric>),
datetime_start, datetime_complete, duration, params_<name>, user_attrs_<key>, state.

Sorting uses np.argsort on one key per column (stable, so ties keep trial-number order). Missing values (absent
params, NaN values, unset datetimes) sort last in both directions.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from optgui.core.storage._tables import STATE_NAMES, ParamDistribution, TrialTable

NUMERIC, STATE, DATETIME, PARAM, ATTR = "numeric", "state", "datetime", "param", "attr"


@dataclass(frozen=True)
class Column:
    key: str  # trials_dataframe-style name, unique
    title: str  # header text
    kind: str  # NUMERIC | STATE | DATETIME | PARAM | ATTR
    source: str  # the attribute or name inside the frame: "number", "values:0", a param name, an attr key


# The trials table's note marker and artifact count (TrialFrame.set_annotations); `has_note` / `artifacts > 0`
# in a filter.
ANNOTATION_COLUMNS = (
    Column("has_note", "Note", NUMERIC, "note_mark"),
    Column("artifacts", "Artifacts", NUMERIC, "artifact_count"),
)


class _ParamStore:
    def __init__(self, name: str, capacity: int):
        self.name = name
        self.values = np.full(capacity, np.nan)
        self.present = np.zeros(capacity, dtype=bool)
        self.dist_index = np.full(capacity, -1, dtype=np.int16)
        self.distributions: list[ParamDistribution] = []

    def grow(self, capacity: int) -> None:
        self.values = _grown(self.values, capacity, np.nan)
        self.present = _grown(self.present, capacity, False)
        self.dist_index = _grown(self.dist_index, capacity, -1)

    @property
    def categorical(self) -> bool:
        return bool(self.distributions) and self.distributions[-1].kind == "categorical"

    def decoded(self, n: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Optuna's external values (object array, None where absent) of the first n rows, or of `rows`."""
        rows = np.arange(n) if rows is None else rows
        out = np.full(len(rows), None, dtype=object)
        index = self.dist_index[rows]
        for code, dist in enumerate(self.distributions):
            sel = np.flatnonzero(index == code)
            if len(sel) == 0:
                continue
            internal = self.values[rows[sel]]
            if dist.kind == "float":
                out[sel] = internal.tolist()
            elif dist.kind == "int":
                out[sel] = [int(v) for v in internal.tolist()]
            else:
                assert dist.choices is not None  # a categorical distribution always has its choices
                choices = np.empty(len(dist.choices), dtype=object)
                choices[:] = list(dist.choices)
                out[sel] = choices[internal.astype(np.int64)]
        return out


def _grown(array: np.ndarray, capacity: int, fill) -> np.ndarray:
    """array with room for `capacity` rows; the new rows hold `fill`, or are left as they come (fill None) where
    every row is written before it counts."""
    if len(array) >= capacity:
        return array
    if fill is None:
        # Untouched pages until written: a 10M-trial study's columns, filled here and then overwritten by the
        # load, cost ~0.3 s of page faults each.
        out = np.empty((capacity,) + array.shape[1:], dtype=array.dtype)
    elif array.dtype != object and isinstance(fill, (bool, int, float)) and fill == 0:
        # Zeroed pages from the OS, touched only when written: columns that stay zero (the note and artifact
        # marks of a study without any, room past the last trial) cost no memory or page faults (~10 ms per 8 MB).
        out = np.zeros((capacity,) + array.shape[1:], dtype=array.dtype)
    else:
        out = np.full((capacity,) + array.shape[1:], fill, dtype=array.dtype)
    out[: len(array)] = array
    return out


def contiguous(rows: np.ndarray) -> slice | np.ndarray:
    """The slice that selects the same rows as increasing `rows` when they are a run without gaps (a full read's
    trial numbers): slices copy at memory speed, index arrays gather element by element.

    >>> contiguous(np.arange(3, 7))
    slice(3, 7, None)
    >>> contiguous(np.array([3, 5]))
    array([3, 5])
    """
    n = len(rows)
    if n and int(rows[-1]) - int(rows[0]) + 1 == n and (n < 2 or bool(np.all(rows[1:] > rows[:-1]))):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


class TrialFrame:
    """Writable columns of one study's trials, row = trial number. `n` rows are valid."""

    def __init__(self, directions: tuple[str, ...], metric_names: tuple[str, ...] | None = None, capacity: int = 1024):
        self.directions = tuple(directions)
        self.metric_names = tuple(metric_names) if metric_names else None
        self.n = 0
        self._cap = 0
        self.trial_id = np.empty(0, dtype=np.int64)
        self.number = np.empty(0, dtype=np.int64)
        self.state = np.empty(0, dtype=np.int8)
        self.values = np.empty((0, len(self.directions)))
        self.datetime_start = np.empty(0, dtype="datetime64[us]")
        self.datetime_complete = np.empty(0, dtype="datetime64[us]")
        self.duration = np.empty(0)
        # optuna-dashboard notes and Optuna artifacts per trial (set_annotations): 1.0 where a note has text, the
        # artifact count. Columns of their own only once a study has any; the filter knows them always.
        self.note_mark = np.empty(0)
        self.artifact_count = np.empty(0)
        self.annotated = False
        self.params: dict[str, _ParamStore] = {}
        self.user_attrs: dict[str, np.ndarray] = {}
        self.columns: list[Column] = []
        self._key_cache: dict[str, np.ndarray] = {}
        self._grow(capacity)
        self._rebuild_columns()

    # --- storage ------------------------------------------------------------------------------------------
    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, 2 * self._cap, 1024)
        # Rows past `n` are written before `n` covers them (apply: a full read writes every row, any other growth
        # clears the new rows first), so these columns leave their new rows as they come.
        self.trial_id = _grown(self.trial_id, cap, None)
        self.number = _grown(self.number, cap, None)
        self.state = _grown(self.state, cap, None)
        self.values = _grown(self.values, cap, None)
        self.datetime_start = _grown(self.datetime_start, cap, None)
        self.datetime_complete = _grown(self.datetime_complete, cap, None)
        self.duration = _grown(self.duration, cap, None)
        self.note_mark = _grown(self.note_mark, cap, 0.0)
        self.artifact_count = _grown(self.artifact_count, cap, 0.0)
        for store in self.params.values():
            store.grow(cap)
        for key, column in self.user_attrs.items():
            self.user_attrs[key] = _grown(column, cap, None)
        self._cap = cap

    def _clear_rows(self, start: int, stop: int) -> None:
        """Rows start..stop become placeholders (a number no poll has delivered yet): the buffers past `n` may hold
        what an earlier load left there."""
        self.number[start:stop] = np.arange(start, stop)
        self.trial_id[start:stop] = -1
        self.state[start:stop] = 0
        self.values[start:stop] = np.nan
        self.datetime_start[start:stop] = np.datetime64("NaT")
        self.datetime_complete[start:stop] = np.datetime64("NaT")
        self.duration[start:stop] = np.nan
        for store in self.params.values():
            store.values[start:stop] = np.nan
            store.present[start:stop] = False
            store.dist_index[start:stop] = -1
        for column in self.user_attrs.values():
            column[start:stop] = None

    def load(self, table: TrialTable) -> None:
        self.n = 0
        self.params.clear()
        self.user_attrs.clear()
        self._rebuild_columns()
        self._grow(len(table))
        self.apply(table)

    def apply(self, table: TrialTable) -> tuple[np.ndarray, np.ndarray, bool]:
        """Write a poll's rows in place. Returns (new rows, changed rows, columns_added)."""
        if len(table) == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, False
        rows = np.asarray(table.number, dtype=np.int64)  # (no copy of an int64 column)
        top = int(rows.max()) + 1
        old_n = self.n
        self._grow(top)
        target = contiguous(rows)
        whole = isinstance(target, slice) and target.start == 0 and target.stop == top
        if old_n == 0 and whole and not self.params and not self.user_attrs:
            # A full read into an empty frame: it writes every row, so none is cleared first.
            self.number[:top] = rows
            self.n = top
        elif top > old_n:  # gaps (numbers not in this poll) stay placeholder rows until a later poll fills them
            self._clear_rows(old_n, top)
            self.n = top
        self.trial_id[target] = table.trial_id
        self.state[target] = table.state
        self.values[target] = table.values
        self.datetime_start[target] = table.datetime_start
        self.datetime_complete[target] = table.datetime_complete
        self.duration[target] = table.duration
        added = False
        for name, column in table.params.items():
            store = self.params.get(name)
            if store is None:
                store = self.params[name] = _ParamStore(name, self._cap)
                added = True
            remap = np.empty(len(column.distributions) + 1, dtype=np.int16)
            remap[-1] = -1
            for code, dist in enumerate(column.distributions):
                if dist not in store.distributions:
                    store.distributions.append(dist)
                remap[code] = store.distributions.index(dist)
            store.values[rows] = column.values
            store.present[rows] = column.present
            store.dist_index[rows] = remap[column.distribution_index]
        for key, values in table.user_attrs.items():
            attr_column = self.user_attrs.get(key)
            if attr_column is None:
                attr_column = self.user_attrs[key] = np.full(self._cap, None, dtype=object)
                added = True
            attr_column[rows] = values
        if added:
            self._rebuild_columns()
        self._key_cache.clear()
        new = np.arange(old_n, top) if top > old_n else np.empty(0, dtype=np.int64)
        changed = rows[rows < old_n]
        if len(changed) > 1 and not np.all(changed[1:] > changed[:-1]):  # (np.unique sorts: skipped when sorted)
            changed = np.unique(changed)
        return new, changed, added

    # --- columns ------------------------------------------------------------------------------------------
    def value_key(self, k: int) -> str:
        if len(self.directions) == 1:
            return "value"
        if self.metric_names:
            return f"values_{self.metric_names[k]}"
        return f"values_{k}"

    def _rebuild_columns(self) -> None:
        cols = [Column("number", "#", NUMERIC, "number"), Column("state", "State", STATE, "state")]
        for k in range(len(self.directions)):
            title = (
                self.metric_names[k] if self.metric_names else ("Value" if len(self.directions) == 1 else f"Value {k}")
            )
            cols.append(Column(self.value_key(k), title, NUMERIC, f"values:{k}"))
        if self.annotated:
            cols += list(ANNOTATION_COLUMNS)
        cols += [
            Column("duration", "Duration (s)", NUMERIC, "duration"),
            Column("datetime_start", "Started", DATETIME, "datetime_start"),
            Column("datetime_complete", "Completed", DATETIME, "datetime_complete"),
        ]
        cols += [Column(f"params_{name}", name, PARAM, name) for name in self.params]
        cols += [Column(f"user_attrs_{key}", f"{key} (attr)", ATTR, key) for key in self.user_attrs]
        self.columns = cols
        self._by_key = {c.key: c for c in cols}

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def set_annotations(self, note_numbers: np.ndarray, artifact_numbers: np.ndarray, counts: np.ndarray) -> bool:
        """Mark the trials with a note (with text) and their artifact counts; returns True when the two columns
        were added (the first time a study has either)."""
        top = max([self.n, *(int(a.max()) + 1 for a in (note_numbers, artifact_numbers) if len(a))])
        self._grow(top)
        self.note_mark[:] = 0.0
        self.artifact_count[:] = 0.0
        self.note_mark[note_numbers] = 1.0
        self.artifact_count[artifact_numbers] = counts
        self._key_cache.pop("has_note", None)
        self._key_cache.pop("artifacts", None)
        if self.annotated or not (len(note_numbers) or len(artifact_numbers)):
            return False
        self.annotated = True
        self._rebuild_columns()
        return True

    def has_column(self, key: str) -> bool:
        return key in self._by_key

    # --- values -------------------------------------------------------------------------------------------
    def raw(self, column: Column, rows: np.ndarray | None = None) -> np.ndarray:
        """The column's stored values (first n rows, or `rows`): float64, int8 state codes, datetime64[us], or an
        object array of decoded values for params and user attributes."""
        sel = slice(0, self.n) if rows is None else rows
        if column.kind == PARAM:
            store = self.params[column.source]
            if store.categorical or any(d.kind != "float" for d in store.distributions):
                return store.decoded(self.n, None if rows is None else rows)
            values = store.values[sel]
            return values
        if column.kind == ATTR:
            return self.user_attrs[column.source][sel]
        if column.source.startswith("values:"):
            return self.values[sel, int(column.source[7:])]
        return getattr(self, column.source)[sel]

    def numeric(self, column: Column) -> np.ndarray:
        """float64 view of a column for comparisons: NaN where missing or not a number (categorical params give
        their choice when numeric)."""
        if column.kind == NUMERIC:
            return self.raw(column).astype(np.float64, copy=False)
        if column.kind == STATE:
            return self.state[: self.n].astype(np.float64)
        if column.kind == DATETIME:
            raw = self.raw(column)
            out = raw.astype("int64").astype(np.float64)
            out[np.isnat(raw)] = np.nan
            return out
        if column.kind == PARAM:
            store = self.params[column.source]
            if not store.categorical:
                out = store.values[: self.n].copy()
                out[~store.present[: self.n]] = np.nan
                return out
        return _object_to_float(self.raw(column))

    def present(self, column: Column) -> np.ndarray:
        """Rows that have a value in this column."""
        if column.kind == PARAM:
            return self.params[column.source].present[: self.n].copy()
        if column.kind == ATTR:
            return (
                np.array([v is not None for v in self.user_attrs[column.source][: self.n]], dtype=bool)
                if self.n
                else np.zeros(0, dtype=bool)
            )
        if column.kind == DATETIME:
            return ~np.isnat(self.raw(column))
        if column.kind == STATE:
            return np.ones(self.n, dtype=bool)
        return ~np.isnan(self.numeric(column))

    def sort_key(self, column: Column) -> np.ndarray:
        """A key whose ascending np.argsort order is the column's order: float64 (NaN = missing, sorted last) or,
        for text-valued user attributes, an array of strings with missing values mapped past every string."""
        cached = self._key_cache.get(column.key)
        if cached is not None and len(cached) == self.n:
            return cached
        if column.kind == PARAM and self.params[column.source].categorical:
            store = self.params[column.source]
            key = store.values[: self.n].copy()  # choice index: the order the choices were declared in
            key[~store.present[: self.n]] = np.nan
        elif column.kind == ATTR:
            raw = self.raw(column)
            key = _object_to_float(raw)
            non_numeric = np.array([v is not None and not _is_number(v) for v in raw], dtype=bool)
            if non_numeric.any():
                key = _text_rank(raw)
        else:
            key = self.numeric(column)
        self._key_cache[column.key] = key
        return key

    def display(self, column: Column, row: int, full: bool = True) -> str:
        """One cell as text: in full (CSV, tooltips: floats that read back exactly, datetimes to the microsecond)
        or compact for the table (7 significant digits, datetimes to the second)."""
        kind = column.kind
        fmt = format_value if full else format_compact
        if kind == PARAM:
            store = self.params[column.source]
            if not store.present[row]:
                return ""
            return fmt(store.distributions[int(store.dist_index[row])].decode(float(store.values[row])))
        if kind == NUMERIC:
            source = column.source
            if source in ("note_mark", "artifact_count"):
                value = float(getattr(self, source)[row])
                return "" if not value else ("✎" if source == "note_mark" else str(int(value)))
            if source == "number":
                return str(int(self.number[row]))
            value = float(
                self.values[row, int(source[7:])] if source.startswith("values:") else getattr(self, source)[row]
            )
            return "" if value != value else (repr(value) if full else format_compact(value))
        if kind == STATE:
            return STATE_NAMES[int(self.state[row])]
        if kind == DATETIME:
            value = getattr(self, column.source)[row]
            if np.isnat(value):
                return ""
            return local_time_text(value) if full else local_time_text(value)[:19]
        value = self.user_attrs[column.source][row]
        return "" if value is None else fmt(value)

    # --- questions the views ask ------------------------------------------------------------------------------
    def params_of(self, row: int) -> dict[str, Any]:
        """{name: value} as Optuna returns trial.params (external representation, suggest order is not kept)."""
        out = {}
        for name, store in self.params.items():
            if store.present[row]:
                out[name] = store.decoded(self.n, np.array([row]))[0]
        return out

    def distributions_of(self, row: int) -> dict[str, ParamDistribution]:
        out = {}
        for name, store in self.params.items():
            if store.present[row]:
                out[name] = store.distributions[int(store.dist_index[row])]
        return out

    def attrs_of(self, row: int) -> dict[str, Any]:
        return {key: column[row] for key, column in self.user_attrs.items() if column[row] is not None}


def argsort_stable(key: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable") for a float64 key (NaN last), computed faster.

    Timsort (numpy's stable sort for floats) takes ~4x quicksort's time on 100k rows. Missing values are split off
    (they keep their order at the end); the rest is quicksorted, which equals the stable order when no two keys tie,
    and ties are detected and re-sorted stably. Small-range integer keys (states, choices, int params) use numpy's
    radix sort through int16.
    """
    present = np.flatnonzero(~np.isnan(key))
    missing = np.flatnonzero(np.isnan(key)) if len(present) < len(key) else present[:0]
    values = key[present]
    if len(values) == 0:
        return missing
    low, high = values.min(), values.max()
    if high - low < 32000 and np.all(values == np.floor(values)):
        order = np.argsort((values - low).astype(np.int16), kind="stable")
    else:
        order = np.argsort(values, kind="quicksort")
        ordered = values[order]
        if np.any(ordered[1:] == ordered[:-1]):
            order = np.argsort(values, kind="stable")
    return np.concatenate([present[order], missing])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _object_to_float(raw: np.ndarray) -> np.ndarray:
    out = np.full(len(raw), np.nan)
    for i, v in enumerate(raw.tolist()):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[i] = v
        elif isinstance(v, bool):
            out[i] = float(v)
    return out


def _text_rank(raw: np.ndarray) -> np.ndarray:
    """Ranks (float) of the values' text, NaN where missing: sorts text attributes alphabetically."""
    text = np.array(["" if v is None else format_value(v) for v in raw.tolist()], dtype=object)
    missing = np.array([v is None for v in raw.tolist()], dtype=bool)
    _, inverse = np.unique(text.astype(str), return_inverse=True)
    key = inverse.astype(np.float64)
    key[missing] = np.nan
    return key


def format_value(value: Any) -> str:
    """Full precision for floats (repr round-trips), JSON for lists and dicts, str otherwise."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value)
    if value is None:
        return ""
    return str(value)


def format_compact(value: Any) -> str:
    """Floats with 7 significant digits (the table's width); everything else as format_value."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.7g}"
    return format_value(value)


def local_time_text(value: np.datetime64) -> str:
    """A UTC datetime64 as naive local time "YYYY-MM-DD HH:MM:SS.ffffff", as Optuna shows its datetimes."""
    micros = int(value.astype("datetime64[us]").astype(np.int64))
    moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(microseconds=micros)
    return moment.astimezone().replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
