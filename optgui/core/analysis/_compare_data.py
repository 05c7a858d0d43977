"""Results of several studies side by side, from their trial tables: the best value and its trial, the best so far
at fixed fractions of each study's trials and against wall time, and the spread of final bests over studies that
differ only by seed. `optgui compare` and the Compare window show the same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optgui.core.storage._tables import COMPLETE, TrialTable

FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # where `best so far` is reported: after this fraction of a study's trials


@dataclass(frozen=True)
class ResultSummary:
    """One objective of one study: `best_value` and `best_trial` over COMPLETE trials (None without one), and
    `best_so_far`: per FRACTIONS entry, (trials counted, best value among them or None)."""

    objective: int
    direction: str
    n_complete: int
    best_value: float | None
    best_trial: int | None
    best_so_far: tuple[tuple[float, int, float | None], ...]

    def as_json(self) -> dict:
        return {
            "objective": self.objective,
            "direction": self.direction,
            "n_complete": self.n_complete,
            "best_value": _json_number(self.best_value),
            "best_trial": self.best_trial,
            "best_so_far": [
                {"fraction": f, "trials": n, "best_value": _json_number(v)} for f, n, v in self.best_so_far
            ],
        }


def result_summary(table: TrialTable, objective: int = 0) -> ResultSummary:
    """The summary of one objective; trials counted in number order (the table's row order)."""
    order = np.argsort(table.number, kind="stable")
    running = _best_so_far(table, order, objective)
    complete = (table.state == COMPLETE) & np.isfinite(table.values[:, objective])
    n = len(table)
    best_value = best_trial = None
    if complete.any():
        values = np.where(complete, table.values[:, objective], np.nan)
        row = int(np.nanargmax(values) if table.directions[objective] == "maximize" else np.nanargmin(values))
        best_value, best_trial = float(values[row]), int(table.number[row])
    points = []
    for fraction in FRACTIONS:
        counted = int(np.ceil(n * fraction))
        value = float(running[counted - 1]) if counted else float("nan")
        points.append((fraction, counted, None if np.isnan(value) else value))
    return ResultSummary(
        objective, table.directions[objective], int(complete.sum()), best_value, best_trial, tuple(points)
    )


def _best_so_far(table: TrialTable, order: np.ndarray, objective: int) -> np.ndarray:
    column = np.where(table.state[order] == COMPLETE, table.values[order, objective], np.nan)
    accumulate = np.fmax.accumulate if table.directions[objective] == "maximize" else np.fmin.accumulate
    return accumulate(column)


@dataclass(frozen=True)
class BestByTime:
    """Best so far against wall time: `seconds` since the study's first trial started, at each COMPLETE trial's
    completion, in time order."""

    seconds: np.ndarray
    best: np.ndarray


def best_by_time(table: TrialTable, objective: int = 0) -> BestByTime:
    rows = np.flatnonzero(
        (table.state == COMPLETE) & np.isfinite(table.values[:, objective]) & ~np.isnat(table.datetime_complete)
    )
    if not len(rows):
        return BestByTime(np.zeros(0), np.zeros(0))
    starts = table.datetime_start[~np.isnat(table.datetime_start)]
    origin = starts.min() if len(starts) else table.datetime_complete[rows].min()
    done = table.datetime_complete[rows]
    order = np.argsort(done, kind="stable")
    seconds = (done[order] - origin).astype("timedelta64[us]").astype(np.float64) / 1e6
    values = table.values[rows[order], objective]
    accumulate = np.fmax.accumulate if table.directions[objective] == "maximize" else np.fmin.accumulate
    return BestByTime(seconds, accumulate(values))


@dataclass(frozen=True)
class SpreadOfBests:
    """Final bests of studies that differ only by seed: `labels` and `values` (studies without a COMPLETE trial
    left out), their `median`, `minimum`, `maximum` and interquartile range `q1`..`q3` (NaN when empty)."""

    labels: tuple[str, ...]
    values: tuple[float, ...]
    median: float
    minimum: float
    maximum: float
    q1: float
    q3: float

    def as_json(self) -> dict:
        return {
            "studies": list(self.labels),
            "final_bests": [_json_number(v) for v in self.values],
            "median": _json_number(self.median),
            "min": _json_number(self.minimum),
            "max": _json_number(self.maximum),
            "q1": _json_number(self.q1),
            "q3": _json_number(self.q3),
        }


def spread_of_bests(labels: Sequence[str], bests: Sequence[float | None]) -> SpreadOfBests:
    kept = [(label, float(v)) for label, v in zip(labels, bests, strict=True) if v is not None]
    values = np.array([v for _, v in kept], dtype=float)
    if not len(values):
        nan = float("nan")
        return SpreadOfBests((), (), nan, nan, nan, nan, nan)
    q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
    return SpreadOfBests(
        tuple(label for label, _ in kept),
        tuple(values.tolist()),
        median,
        float(values.min()),
        float(values.max()),
        q1,
        q3,
    )


def _json_number(value: float | None) -> float | str | None:
    if value is None:
        return None
    if np.isfinite(value):
        return float(value)
    return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
