"""The data of the Compare window's overlays, computed off the GUI thread from the studies' tables with the core's
analysis functions (`optgui compare` prints the same numbers), and the long-format CSV columns of each view."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optgui.core import analysis
from optgui.core.compare import Comparison, compare_studies, load_studies
from optgui.core.storage import StudyRef

IMPORTANCE_MAX_PARAMS = 12  # the most important ones (by their mean over the studies)


@dataclass(frozen=True)
class Curve:
    """A staircase of best values: x (trial numbers or seconds) and y at each change, plus the last x."""

    x: np.ndarray
    y: np.ndarray
    numbers: np.ndarray  # the trial that set each step (for linked selection)


@dataclass
class Overlays:
    comparison: Comparison
    by_trial: dict[str, Curve] = field(default_factory=dict)
    by_time: dict[str, Curve] = field(default_factory=dict)
    edf: analysis.EdfData | None = None
    fronts: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (n, 2) front values, sorted
    importances: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.comparison.labels


def build_overlays(refs: Sequence[StudyRef | str], *, verdicts: bool = False) -> Overlays:
    """Read the studies and compute every view's data (objective 0 for the single-objective views)."""
    comparison = compare_studies(load_studies(refs, verdicts=verdicts))
    out = Overlays(comparison)
    values: dict[str, np.ndarray] = {}
    for study in comparison.studies:
        table, label = study.table, study.label
        history = analysis.history(table, 0)
        out.by_trial[label] = _steps(history.numbers.astype(float), history.best, history.numbers)
        timed = analysis.best_by_time(table, 0)
        out.by_time[label] = _steps(timed.seconds, timed.best, np.zeros(len(timed.best), dtype=np.int64))
        values[label] = analysis.complete_values(table, 0)
        if len(table.directions) == 2:
            out.fronts[label] = _front(table)
        if len(table.directions) == 1:
            out.importances[label] = _importance(table, label, out.notes)
    out.edf = analysis.edf(values)
    return out


def _steps(x: np.ndarray, best: np.ndarray, numbers: np.ndarray) -> Curve:
    """Only the points where the best changes (and the last one): a staircase of a few hundred points at most
    for 100k trials, drawn in microseconds."""
    if not len(best):
        return Curve(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64))
    keep = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    xs, ys = x[keep], best[keep]
    return Curve(np.r_[xs, x[-1]], np.r_[ys, best[-1]], np.r_[numbers[keep], numbers[-1]])


def _front(table) -> np.ndarray:
    pareto = analysis.pareto_front(table)
    front = pareto.values[pareto.on_front]
    return front[np.argsort(front[:, 0], kind="stable")] if len(front) else np.zeros((0, 2))


def _importance(table, label: str, notes: list[str]) -> dict[str, float]:
    try:
        return analysis.ped_anova_importances(table)
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        notes.append(f"{label}: no importance ({exc})")
        return {}


def top_params(importances: dict[str, dict[str, float]]) -> list[str]:
    names = sorted({n for imp in importances.values() for n in imp})
    mean = {n: float(np.mean([imp.get(n, 0.0) for imp in importances.values()])) for n in names}
    return sorted(names, key=lambda n: -mean[n])[:IMPORTANCE_MAX_PARAMS]


def final_bests(overlays: Overlays) -> list[tuple[str, analysis.SpreadOfBests]]:
    """Per seed group (without one: all studies as one strip) its title and the spread of its final bests."""
    comparison = overlays.comparison
    spreads = [g.spread for g in comparison.seed_groups if g.spread is not None]
    if spreads:
        return [(f"seed group {i + 1}", spread) for i, spread in enumerate(spreads)]
    bests = [results[0].best_value for results in comparison.results]
    return [("all studies (none differ only by seed)", analysis.spread_of_bests(comparison.labels, bests))]


def csv_columns(overlays: Overlays, view: str) -> dict[str, Iterable[Any]]:
    """The data of one view in long format (one row per point), for its CSV export."""
    rows: list[tuple] = []
    if view in ("best-by-trial", "best-by-time"):
        curves = overlays.by_trial if view == "best-by-trial" else overlays.by_time
        rows = [(label, float(x), float(y)) for label, c in curves.items() for x, y in zip(c.x, c.y, strict=True)]
        return _columns(rows, ("study", "trial" if view == "best-by-trial" else "seconds", "best_value"))
    if view == "edf" and overlays.edf is not None:
        edf = overlays.edf
        for name, ys in zip(edf.names, edf.y, strict=True):
            rows += [(name, float(x), float(y)) for x, y in zip(edf.x, ys, strict=True)]
        return _columns(rows, ("study", "value", "cumulative_probability"))
    if view == "final-best":
        for title, spread in final_bests(overlays):
            rows += [(title, label, v) for label, v in zip(spread.labels, spread.values, strict=True)]
        return _columns(rows, ("group", "study", "final_best"))
    if view == "pareto":
        rows = [(label, float(p[0]), float(p[1])) for label, front in overlays.fronts.items() for p in front]
        return _columns(rows, ("study", "objective_0", "objective_1"))
    if view == "importance":
        rows = [(label, n, float(v)) for label, imp in overlays.importances.items() for n, v in imp.items()]
        return _columns(rows, ("study", "param", "importance"))
    raise ValueError(f"no such view {view!r}")


def _columns(rows: list[tuple], names: tuple[str, ...]) -> dict[str, Iterable[Any]]:
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}
