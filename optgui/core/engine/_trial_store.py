"""The one in-memory copy of a study's trials that the window shows: a growable columnar store with one apply().

A `TrialStore` is a `TrialFrame` (numpy columns indexed by trial number, with the trials table's columns, sort
keys and cell texts) that also keeps what the views derive from the trials, updated in O(changed rows) by the same
`apply`:

- the convergence plot's points per state (COMPLETE, PRUNED, FAIL) for the plotted objective, appended in
  trial-number order (`generation` bumps when they are rebuilt rather than appended to);
- the best-so-far line of the plotted objective, recomputed from the first changed row only;
- counts per state (kept up to date by apply); the Pareto front of the first two objectives and an immutable
  `TrialTable` snapshot for the analysis views, each computed once per `revision`;
- reported intermediate values in long format (number, step, value), three growable columns.

Deltas come from the reader's polls (`TrialTable`s of new and changed rows) and from the engine's `TrialFinished`
events, which `events_table` turns into the same kind of table: both arrive in any order and more than once
(a poll may return a row an event already wrote); a row is written where its trial number says, so applying a
row again changes nothing. The store lives in the GUI thread; `snapshot()` hands other threads an immutable copy.

Why a subclass of TrialFrame rather than a third class: TrialFrame already held the trials table's columns; the
plot's columns (`TrialData`) and the analysis views' table were copies of the same numbers. Keeping the table's
formatting and sorting where they were and adding the plot's caches here makes one copy without moving code the
filters and exports use.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optgui.core.engine._events import TrialFinished
from optgui.core.storage import (
    COMPLETE,
    FAIL,
    PRUNED,
    RUNNING,
    STATE_CODES,
    WAITING,
    IntermediateValues,
    ParamColumn,
    ParamDistribution,
    TrialFrame,
    TrialTable,
    durations,
    frozen_array,
    frozen_mapping,
    select_rows,
)
from optgui.core.storage._trial_frame import _grown, contiguous

_EMPTY_ROWS = np.empty(0, dtype=np.int64)


class Points:
    """x/y point buffers of one category (e.g. COMPLETE trials), appended in trial-number order."""

    def __init__(self, capacity: int = 1024):
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

    def clear(self) -> None:
        self.n = 0

    def extend(self, x: np.ndarray, y: np.ndarray) -> bool:
        """Append; returns False when the points arrive out of order (the caller then rebuilds)."""
        if len(x) == 0:
            return True
        if self.n and x[0] < self.x[self.n - 1]:
            return False
        need = self.n + len(x)
        if need > len(self.x):
            # Room beyond `need`: a study loaded with 1M points otherwise copied them all on its first live trial.
            # (np.empty and a copy of the used part: np.resize fills the new room by repeating the data.)
            cap = max(need + need // 8 + 1024, 2 * len(self.x))
            for name in ("x", "y"):
                grown = np.empty(cap)
                grown[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, grown)
        self.x[self.n : need] = x
        self.y[self.n : need] = y
        self.n = need
        return True

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


@dataclass(frozen=True)
class StoreChange:
    """What one apply() did: rows (trial numbers) added at the end, rows written that existed before, and whether
    param or attribute columns were added (the trials table then inserts columns)."""

    new: np.ndarray
    changed: np.ndarray
    columns_added: bool
    reloaded: bool = False  # everything was replaced (a full read): views rebuild rather than follow rows

    def __len__(self) -> int:
        return len(self.new) + len(self.changed)

    @property
    def rows(self) -> np.ndarray:
        return np.concatenate([self.changed, self.new])


class _LongColumns:
    """Intermediate values in long format (number, step, value), growable; one row per (trial, step)."""

    def __init__(self) -> None:
        self.number = np.empty(0, dtype=np.int64)
        self.step = np.empty(0, dtype=np.int64)
        self.value = np.empty(0)
        self.n = 0
        self.trials: set[int] = set()  # trials whose values are held (a trial's values replace, never add)

    def replace(self, number: int, steps: Sequence[tuple[int, float]]) -> None:
        if number in self.trials:
            keep = self.number[: self.n] != number
            k = int(keep.sum())
            self.number[:k], self.step[:k], self.value[:k] = (
                self.number[: self.n][keep],
                self.step[: self.n][keep],
                self.value[: self.n][keep],
            )
            self.n = k
        self.trials.add(number)
        need = self.n + len(steps)
        if need > len(self.number):
            cap = max(need, 2 * len(self.number), 1024)
            self.number, self.step, self.value = (
                _grown(self.number, cap, 0),
                _grown(self.step, cap, 0),
                _grown(self.value, cap, np.nan),
            )
        for i, (step, value) in enumerate(steps):
            self.number[self.n + i], self.step[self.n + i], self.value[self.n + i] = number, step, value
        self.n = need

    def table(self, trial_id: np.ndarray) -> IntermediateValues:
        number, step = self.number[: self.n], self.step[: self.n]
        order = np.lexsort((step, number))
        number = number[order]
        return IntermediateValues(
            frozen_array(trial_id[number]),
            frozen_array(number),
            frozen_array(step[order]),
            frozen_array(self.value[: self.n][order]),
        )


class TrialStore(TrialFrame):
    """One study's trials, row = trial number; `n` rows are valid (rows no delta has named yet are RUNNING
    placeholders with trial_id -1). Everything the views show about the trials is read from here."""

    def __init__(
        self,
        directions: tuple[str, ...],
        metric_names: tuple[str, ...] | None = None,
        capacity: int = 1024,
        study_name: str = "",
    ):
        self.study_name = study_name
        self.best = np.empty(0)
        self._plotted = np.zeros(0, dtype=bool)  # finished and already in a Points buffer
        super().__init__(directions, metric_names, capacity)
        self.objective = 0
        self.complete, self.pruned, self.failed = Points(), Points(), Points()
        # Bumped whenever the Points buffers are rebuilt rather than appended to: a view that drew a prefix of
        # them must then draw everything again.
        self.generation = 0
        self.revision = 0  # bumped by every change of the trials: per-revision caches compare it
        self.params_loaded = False  # params and user attributes of every trial are held (the table can show)
        self.intermediate = _LongColumns()
        self._cache: dict[str, tuple[int, Any]] = {}
        self._tally = np.zeros(256, dtype=np.int64)  # rows per state code, kept by apply in O(rows given)
        self._steps = np.empty(0, dtype=np.int64)  # rows where the best-so-far line changes
        self._dist_by_json: dict[str, ParamDistribution] = {}

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    def _grow(self, need: int) -> None:
        super()._grow(need)
        if len(self.best) < self._cap:
            self.best = _grown(self.best, self._cap, None)  # (apply recomputes it from the first row it writes)
            self._plotted = _grown(self._plotted, self._cap, False)

    # --- deltas -------------------------------------------------------------------------------------------
    def load(self, table: TrialTable, params_loaded: bool | None = None) -> StoreChange:  # type: ignore[override]
        """Replace everything with `table` (a full read)."""
        self.generation += 1
        self._plotted[:] = False
        for points in (self.complete, self.pruned, self.failed):
            points.clear()
        self.intermediate = _LongColumns()
        self._steps = np.empty(0, dtype=np.int64)
        old_n = self.n
        self._tally = np.zeros(256, dtype=np.int64)
        super().load(table)  # (calls apply)
        if old_n > self.n:  # a shorter reload: what the buffers held past the end goes
            self._clear_rows(self.n, old_n)
        if params_loaded is not None:
            self.params_loaded = params_loaded
        return StoreChange(np.arange(self.n), _EMPTY_ROWS, True, reloaded=True)

    def apply(self, delta: TrialTable | Sequence[TrialFinished]) -> StoreChange:  # type: ignore[override]
        """Merge new and changed trials: a poll's table, or the engine's TrialFinished events. O(rows given)."""
        if not isinstance(delta, TrialTable):
            delta = self._events_table(list(delta))
        if len(delta) == 0:
            return StoreChange(_EMPTY_ROWS, _EMPTY_ROWS, False)
        rows = np.asarray(delta.number, dtype=np.int64)  # (no copy of an int64 column)
        old_n = self.n
        known = rows[rows < old_n]
        before = (known, self.state[known].copy(), self.values[known, self.objective].copy())
        unique_known = _sorted_unique(known)
        self._tally -= _state_tally(self.state[unique_known])
        new, changed, added = super().apply(delta)
        self._tally += _state_tally(self.state[unique_known]) + _state_tally(self.state[old_n : self.n])
        self.revision += 1
        self._key_cache.clear()
        self._update_points(rows, *before)
        # From the first row written or added: the placeholders of a gap carry the best so far too (best[] of rows
        # past the old end holds whatever an earlier, longer load left there).
        self._update_best(min(int(rows.min()), old_n))
        return StoreChange(new, changed, added)

    def apply_read(self, table: TrialTable) -> StoreChange:
        """Merge a full read of the study (params, attributes, datetimes of every trial) made at some moment: rows
        it holds unfinished that the store has seen finish since (a newer poll, an engine event) are left as they
        are, so an older read never takes a finished trial back. Params are loaded afterwards."""
        unfinished = (table.state == RUNNING) | (table.state == WAITING)
        if unfinished.any():
            numbers = table.number[unfinished]
            inside = numbers < self.n
            stale = np.zeros(len(numbers), dtype=bool)
            stale[inside] = (self.state[numbers[inside]] != RUNNING) & (self.state[numbers[inside]] != WAITING)
            if stale.any():
                keep = np.ones(len(table), dtype=bool)
                keep[np.flatnonzero(unfinished)[stale]] = False
                table = select_rows(table, np.flatnonzero(keep))
        change = self.apply(table)
        self.params_loaded = True
        return change

    def _events_table(self, events: list[TrialFinished]) -> TrialTable:
        for event in events:
            if event.full:
                self.intermediate.replace(event.number, event.intermediate_values)
        table = events_table(events, self.study_name, self.directions, self._dist_by_json)
        # A short event (number, state, values only) keeps what a poll already brought of its trial.
        for i, event in enumerate(events):
            if not event.full and event.number < self.n:
                row = event.number
                table.trial_id[i] = self.trial_id[row]
                table.datetime_start[i] = self.datetime_start[row]
                table.datetime_complete[i] = self.datetime_complete[row]
                table.duration[i] = self.duration[row]
        return table

    def _update_points(self, rows: np.ndarray, known: np.ndarray, state: np.ndarray, y: np.ndarray) -> None:
        # A plotted row whose state or plotted value changed (a re-read, a reload) cannot be appended: rebuild.
        if len(known):
            y_now = self.values[known, self.objective]
            moved = (state != self.state[known]) | ~((y == y_now) | (np.isnan(y) & np.isnan(y_now)))
            if np.any(self._plotted[known] & moved):
                self._rebuild_points()
                return
        span = contiguous(rows)
        if isinstance(span, slice):  # (a full read's rows: masks over a slice, no gathers)
            finished = np.flatnonzero((self.state[span] != RUNNING) & ~self._plotted[span]) + span.start
        else:
            finished = _sorted_unique(rows[(self.state[rows] != RUNNING) & ~self._plotted[rows]])
        if not self._append_points(finished):
            self._rebuild_points()

    def _append_points(self, rows: np.ndarray) -> bool:
        at = contiguous(rows)
        self._plotted[at] = True
        y = self.values[at, self.objective]
        state = self.state[at]
        ok = True
        for code, points in ((COMPLETE, self.complete), (PRUNED, self.pruned)):
            sel = state == code
            ok &= points.extend(rows[sel].astype(float), y[sel])
        sel = state == FAIL
        ok &= self.failed.extend(rows[sel].astype(float), np.zeros(int(sel.sum())))
        return bool(ok)

    def _rebuild_points(self) -> None:
        self.generation += 1
        for points in (self.complete, self.pruned, self.failed):
            points.clear()
        self._plotted[:] = False
        self._append_points(np.flatnonzero(self.state[: self.n] != RUNNING))

    def set_objective(self, objective: int) -> None:
        """Plot another objective: points and best-so-far are rebuilt for it."""
        self.objective = objective
        self._rebuild_points()
        self._update_best(0)

    def _update_best(self, start: int) -> None:
        n = self.n
        if start >= n:
            return
        col = np.where(self.state[start:n] == COMPLETE, self.values[start:n, self.objective], np.nan)
        offset = 0
        if start > 0 and not np.isnan(self.best[start - 1]):
            col = np.concatenate([[self.best[start - 1]], col])
            offset = 1
        maximize = self.directions[self.objective] == "maximize"
        acc = np.fmax.accumulate(col) if maximize else np.fmin.accumulate(col)
        self.best[start:n] = acc[offset:]
        # Where the line changes (its first value, then each improvement), from `start` on: the plot's staircase
        # is drawn through these few rows, not through every trial.
        segment = self.best[max(start - 1, 0) : n]
        first = max(start - 1, 0)
        finite = np.isfinite(segment)
        before = np.concatenate(([False], finite[:-1]))
        changed = finite & (~before | (segment != np.concatenate(([np.nan], segment[:-1]))))
        if start > 0:
            changed[0] = False  # row start-1 is unchanged: its own step (if any) is kept from before
        kept = self._steps[self._steps < start]
        self._steps = np.concatenate([kept, np.flatnonzero(changed) + first])

    def best_steps(self) -> np.ndarray:
        """Rows where the best-so-far line of the plotted objective takes a new value (the first finite one and
        every improvement), in order."""
        return self._steps

    # --- questions the views ask (each answered once per revision) -------------------------------------------
    def _cached(self, name: str, compute):
        hit = self._cache.get(name)
        if hit is not None and hit[0] == self.revision:
            return hit[1]
        value = compute()
        self._cache[name] = (self.revision, value)
        return value

    def counts(self) -> dict[str, int]:
        """Trials per state (placeholder rows count as RUNNING), as a copy the caller may change."""
        tally = self._tally
        return {
            "COMPLETE": int(tally[COMPLETE]),
            "PRUNED": int(tally[PRUNED]),
            "FAIL": int(tally[FAIL]),
            "RUNNING": int(tally[RUNNING]),
        }

    def finished_count(self) -> int:
        c = self.counts()
        return c["COMPLETE"] + c["PRUNED"] + c["FAIL"]

    def best_value(self) -> float | None:
        """The best value so far of the plotted objective (None before the first COMPLETE trial)."""
        if self.n == 0 or np.isnan(self.best[self.n - 1]):
            return None
        return float(self.best[self.n - 1])

    def pareto_rows(self) -> np.ndarray:
        """Rows of COMPLETE trials on the Pareto front of the first two objectives (sorted by objective 0)."""
        return self._cached("pareto", self._pareto)

    def _pareto(self) -> np.ndarray:
        rows = np.flatnonzero(self.state[: self.n] == COMPLETE)
        if len(rows) == 0 or self.n_objectives < 2:
            return rows[:0]
        v = self.values[rows, :2].copy()
        for k in range(2):
            if self.directions[k] == "maximize":
                v[:, k] = -v[:, k]
        ok = np.isfinite(v).all(axis=1)
        rows, v = rows[ok], v[ok]
        order = np.lexsort((v[:, 1], v[:, 0]))
        f1 = v[order, 1]
        prev_min = np.minimum.accumulate(np.concatenate([[np.inf], f1[:-1]]))
        return rows[order[f1 < prev_min]]

    def snapshot(self) -> TrialTable:
        """The trials as an immutable TrialTable (what the analysis views and their worker threads read): a copy
        of the held rows, made once per revision; placeholder rows are left out."""
        return self._cached("snapshot", self._snapshot)

    def _snapshot(self) -> TrialTable:
        n = self.n
        rows = np.flatnonzero(self.trial_id[:n] >= 0)
        whole = len(rows) == n

        def take(array: np.ndarray) -> np.ndarray:
            return frozen_array(array[:n].copy() if whole else array[rows])

        params = {}
        for name, store in self.params.items():
            present = store.present[:n] if whole else store.present[rows]
            if present.any():
                params[name] = ParamColumn(
                    name,
                    take(store.values),
                    frozen_array(present.copy()),
                    tuple(store.distributions),
                    take(store.dist_index),
                )
        attrs = {key: take(column) for key, column in self.user_attrs.items()}
        return TrialTable(
            self.study_name,
            self.directions,
            take(self.trial_id),
            take(self.number),
            take(self.state),
            take(self.values),
            take(self.datetime_start),
            take(self.datetime_complete),
            take(self.duration),
            frozen_mapping(params),
            frozen_mapping(attrs),
        )

    def intermediate_values(self) -> IntermediateValues:
        """The intermediate values the engine's events brought (polls do not carry them: a reader reads them)."""
        return self._cached("intermediate", lambda: self.intermediate.table(self.trial_id))


def _state_tally(states: np.ndarray) -> np.ndarray:
    # One counting pass over the codes as uint8 (an unknown state, -1, lands in the last bin).
    return np.bincount(states.view(np.uint8), minlength=256)


def _sorted_unique(rows: np.ndarray) -> np.ndarray:
    """np.unique of trial numbers, without its sort when they are increasing already (a poll's, a full read's)."""
    if len(rows) < 2 or bool(np.all(rows[1:] > rows[:-1])):
        return rows
    return np.unique(rows)


def events_table(
    events: Sequence[TrialFinished],
    study_name: str,
    directions: tuple[str, ...],
    dist_by_json: dict[str, ParamDistribution] | None = None,
) -> TrialTable:
    """The engine's TrialFinished events as a TrialTable of their rows (what a poll would have returned for them).

    A full event gives the whole row; a short one (without `full`) gives number, state and values only, its other
    columns staying unknown (NaT, absent) until a poll brings them."""
    k = len(directions)
    n = len(events)
    dist_by_json = {} if dist_by_json is None else dist_by_json
    trial_id = np.fromiter((e.trial_id for e in events), dtype=np.int64, count=n)
    number = np.fromiter((e.number for e in events), dtype=np.int64, count=n)
    state = np.fromiter((STATE_CODES[e.state] for e in events), dtype=np.int8, count=n)
    values = np.full((n, k), np.nan)
    start = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    complete = start.copy()
    names: dict[str, int] = {}
    param_cells: list[tuple[int, int, float, ParamDistribution]] = []
    attrs: dict[str, np.ndarray] = {}
    for i, e in enumerate(events):
        if e.values and e.state != "FAIL":
            values[i, : len(e.values)] = e.values[:k]
        if not e.full:
            continue
        start[i] = _datetime(e.datetime_start)
        complete[i] = _datetime(e.datetime_complete)
        for name, internal, text in e.distributions:
            dist = dist_by_json.get(text)
            if dist is None:
                dist = dist_by_json[text] = ParamDistribution.from_json(text)
            param_cells.append((i, names.setdefault(name, len(names)), internal, dist))
        for key, value in e.user_attrs:
            attrs.setdefault(key, np.full(n, None, dtype=object))[i] = value
    params = {}
    for name, code in names.items():
        cells = [c for c in param_cells if c[1] == code]
        dists = list(dict.fromkeys(c[3] for c in cells))
        column = np.full(n, np.nan)
        present = np.zeros(n, dtype=bool)
        index = np.full(n, -1, dtype=np.int16)
        for i, _, internal, dist in cells:
            column[i], present[i], index[i] = internal, True, dists.index(dist)
        params[name] = ParamColumn(name, column, present, tuple(dists), index)
    return TrialTable(
        study_name,
        tuple(directions),
        trial_id,
        number,
        state,
        values,
        start,
        complete,
        durations(start, complete),
        frozen_mapping(params),
        frozen_mapping(attrs),
    )


def _datetime(text: str | None) -> np.datetime64:
    """An ISO datetime as Optuna returned it, as the reader reads it: naive values as they are, aware ones in UTC."""
    if text is None:
        return np.datetime64("NaT", "us")
    moment = _dt.datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.UTC).replace(tzinfo=None)
    return np.datetime64(moment, "us")
