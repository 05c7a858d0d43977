"""The plotted trials of one study as growable numpy buffers indexed by trial number.

Updates are O(new trials): a poll's rows are written in place (a trial number is its row), finished trials are
appended to per-state point buffers once, and the best-so-far line is recomputed only from the first changed row.
"""

from __future__ import annotations

import numpy as np

from optgui.core.tables import COMPLETE, FAIL, PRUNED, RUNNING, STATE_CODES, TrialTable

_NAN = np.nan


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
            cap = max(need, 2 * len(self.x))
            self.x = np.resize(self.x, cap)
            self.y = np.resize(self.y, cap)
        self.x[self.n : need] = x
        self.y[self.n : need] = y
        self.n = need
        return True

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class TrialData:
    def __init__(self, directions: tuple[str, ...], capacity: int = 1024):
        self.directions = tuple(directions)
        k = len(self.directions)
        self.n = 0
        self.state = np.full(capacity, RUNNING, dtype=np.int8)
        self.values = np.full((capacity, k), _NAN)
        self.objective = 0
        self.best = np.full(capacity, _NAN)
        self.complete = Points()
        self.pruned = Points()
        self.failed = Points()
        self._plotted = np.zeros(capacity, dtype=bool)  # finished and already in a Points buffer
        # Bumped whenever the Points buffers are rebuilt rather than appended to: a view that drew a prefix of
        # them must then draw everything again.
        self.generation = 0
        self._counted: tuple[int, dict[str, int]] | None = None  # (revision, counts) of the last counts()
        self._revision = 0  # bumped by every change of states

    @property
    def revision(self) -> int:
        """Bumped by every change of the trials."""
        return self._revision

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    def _grow(self, n: int) -> None:
        cap = len(self.state)
        if n <= cap:
            return
        new = max(n, 2 * cap)
        state = np.full(new, RUNNING, dtype=np.int8)
        state[:cap] = self.state
        values = np.full((new, self.n_objectives), _NAN)
        values[:cap] = self.values
        best = np.full(new, _NAN)
        best[:cap] = self.best
        plotted = np.zeros(new, dtype=bool)
        plotted[:cap] = self._plotted
        self.state, self.values, self.best, self._plotted = state, values, best, plotted

    def load(self, table: TrialTable) -> None:
        self.generation += 1
        self._revision += 1
        self.n = 0
        for points in (self.complete, self.pruned, self.failed):
            points.clear()
        self._plotted[:] = False
        self.apply(table)

    def apply(self, table: TrialTable) -> int:
        """Merge a table of new or changed trials. Returns the number of rows written."""
        return self.apply_rows(table.number, table.state, table.values)

    def apply_rows(self, number: np.ndarray, state: np.ndarray, values: np.ndarray) -> int:
        """Merge trials given as columns (trial numbers, state codes, values n x objectives)."""
        if len(number) == 0:
            return 0
        self._revision += 1
        rows = np.asarray(number, dtype=np.int64)
        top = int(rows.max()) + 1
        self._grow(top)
        if top > self.n:
            self.state[self.n : top] = RUNNING
            self.values[self.n : top] = _NAN
            self.n = top
        self.state[rows] = state
        self.values[rows] = values
        finished = rows[(np.asarray(state) != RUNNING) & ~self._plotted[rows]]
        finished.sort()
        if not self._append_points(finished):
            self._rebuild_points()
        self._update_best(int(rows.min()))
        return len(rows)

    def apply_events(self, events) -> int:
        """Merge the engine's TrialFinished events (no storage read: what a running window does per update)."""
        k = self.n_objectives
        number = np.fromiter((e.number for e in events), dtype=np.int64, count=len(events))
        state = np.fromiter((STATE_CODES[e.state] for e in events), dtype=np.int8, count=len(events))
        values = np.full((len(events), k), _NAN)
        for i, e in enumerate(events):
            if e.values and e.state != "FAIL":
                values[i, : len(e.values)] = e.values[:k]
        return self.apply_rows(number, state, values)

    def _append_points(self, rows: np.ndarray) -> bool:
        self._plotted[rows] = True
        y = self.values[rows, self.objective]
        state = self.state[rows]
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
        rows = np.flatnonzero(self.state[: self.n] != RUNNING)
        self._append_points(rows)

    def set_objective(self, objective: int) -> None:
        self.objective = objective
        self._rebuild_points()
        self._update_best(0)

    def _update_best(self, start: int) -> None:
        n = self.n
        if start >= n:
            return
        col = np.where(self.state[start:n] == COMPLETE, self.values[start:n, self.objective], _NAN)
        if start > 0 and not np.isnan(self.best[start - 1]):
            col = np.concatenate([[self.best[start - 1]], col])
            offset = 1
        else:
            offset = 0
        maximize = self.directions[self.objective] == "maximize"
        acc = np.fmax.accumulate(col) if maximize else np.fmin.accumulate(col)
        self.best[start:n] = acc[offset:]

    # --- questions the views ask ------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        # One counting pass (as uint8: an unknown state, -1, lands in the last bin) instead of one per state, and
        # once per change: asked by several views per live update, on 100k rows.
        if self._counted is not None and self._counted[0] == self._revision:
            return dict(self._counted[1])
        tally = np.bincount(self.state[: self.n].view(np.uint8), minlength=256)
        counts = {
            "COMPLETE": int(tally[COMPLETE]),
            "PRUNED": int(tally[PRUNED]),
            "FAIL": int(tally[FAIL]),
            "RUNNING": int(tally[RUNNING]),
        }
        self._counted = (self._revision, counts)
        return dict(counts)

    def best_value(self) -> float | None:
        if self.n == 0 or np.isnan(self.best[self.n - 1]):
            return None
        return float(self.best[self.n - 1])

    def pareto_rows(self) -> np.ndarray:
        """Rows of COMPLETE trials on the Pareto front of the first two objectives (sorted by objective 0)."""
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
