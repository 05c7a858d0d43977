"""Plot data for the analysis views, computed from the reader's columns (optgui.core.storage._tables) with numpy only.

Every function here mirrors one of Optuna's plot-data helpers (optuna/visualization/_*.py) or one of its
importance evaluators, and returns the same numbers from columns instead of FrozenTrial objects: building 100k
FrozenTrials alone takes seconds, which is why the web tools give up on large studies. Tests compare each
function with Optuna's own computation on the same study.

Conventions: `objective` is an index into the study's objectives; trials are identified by their Optuna trial
number (`numbers` arrays); "complete" means state COMPLETE with a finite value of the objective in question,
as Optuna's plots filter them. Params are taken in Optuna's external representation (categoricals are indices
into their choices, with labels alongside).

Nothing here imports Qt.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optgui.core import _optuna_internals
from optgui.core.storage import (
    COMPLETE,
    PRUNED,
    RUNNING,
    STATE_NAMES,
    IntermediateValues,
    ParamColumn,
    ParamDistribution,
    TrialTable,
)

EDF_SAMPLES = 100  # Optuna's NUM_SAMPLES_X_AXIS
MISSING_LABEL = "None"  # Optuna's _MISSING_LABEL: how the parallel-coordinate plot labels a missing param


# --- shared helpers ---------------------------------------------------------------------------------------------
def complete_rows(table: TrialTable, objective: int | None = 0) -> np.ndarray:
    """Rows of COMPLETE trials whose value of `objective` is finite (all objectives when None)."""
    ok = table.state == COMPLETE
    if objective is None:
        ok &= np.isfinite(table.values).all(axis=1) if table.n_objectives else ok
    else:
        ok &= np.isfinite(table.values[:, objective])
    return np.flatnonzero(ok)


def loss_sign(direction: str) -> float:
    """+1 for minimize, -1 for maximize: multiplying by it turns every objective into one to minimize."""
    return -1.0 if direction == "maximize" else 1.0


def param_names_in(table: TrialTable, rows: np.ndarray) -> list[str]:
    """Names of params present in any of `rows`, sorted (Optuna's plots sort them)."""
    return sorted(name for name, col in table.params.items() if col.present[rows].any())


def first_distribution(column: ParamColumn, rows: np.ndarray) -> ParamDistribution | None:
    """The distribution of the first of `rows` that has the param: Optuna's plots decide log scale and
    numerical-ness from that trial."""
    present = rows[column.present[rows]]
    if len(present) == 0:
        return None
    return column.distributions[int(column.distribution_index[present[0]])]


def is_log(column: ParamColumn, rows: np.ndarray) -> bool:
    dist = first_distribution(column, rows)
    return dist is not None and dist.kind != "categorical" and dist.log


def is_numerical(column: ParamColumn, rows: np.ndarray) -> bool:
    """Optuna's _is_numerical: int/float params, and categoricals whose choices are all numbers (not bools)."""
    dist = first_distribution(column, rows)
    if dist is None or dist.kind != "categorical":
        return True
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in dist.choices or ())


def external_numbers(column: ParamColumn, rows: np.ndarray) -> np.ndarray:
    """Param values of `rows` as float64 in Optuna's external representation; categorical choices that are
    numbers become those numbers; NaN where absent or not a number."""
    out = np.full(len(rows), np.nan)
    codes = column.distribution_index[rows]
    for code, dist in enumerate(column.distributions):
        sel = np.flatnonzero(codes == code)
        if len(sel) == 0:
            continue
        internal = column.values[rows[sel]]
        if dist.kind != "categorical":
            out[sel] = internal
        else:
            table = np.array(
                [
                    float(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else np.nan
                    for c in dist.choices or ()
                ],
                dtype=float,
            )
            out[sel] = table[internal.astype(np.int64)]
    return out


def category_labels(column: ParamColumn, rows: np.ndarray) -> tuple[list, np.ndarray]:
    """(choices, index per row): a categorical param's values as indices into one list of choices, merged over
    every stored distribution of the param; -1 where absent."""
    choices: list = []
    keys: list = []
    out = np.full(len(rows), -1, dtype=np.int64)
    codes = column.distribution_index[rows]
    for code, dist in enumerate(column.distributions):
        sel = np.flatnonzero(codes == code)
        if len(sel) == 0 or dist.choices is None:
            continue
        remap = []
        for choice in dist.choices:
            key = (type(choice).__name__, choice)
            if key not in keys:
                keys.append(key)
                choices.append(choice)
            remap.append(keys.index(key))
        out[sel] = np.asarray(remap, dtype=np.int64)[column.values[rows[sel]].astype(np.int64)]
    return choices, out


# --- 1. intermediate values -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LearningCurves:
    """Reported intermediate values of trials in state COMPLETE, PRUNED or RUNNING, one point per report,
    grouped by trial (number ascending) and sorted by step within a trial (Optuna's _get_intermediate_plot_info).

    `connect[i]` is True when point i and i+1 belong to the same trial: one line item draws all curves.
    """

    number: np.ndarray
    state: np.ndarray
    step: np.ndarray
    value: np.ndarray
    connect: np.ndarray

    def __len__(self) -> int:
        return len(self.number)

    def trial_numbers(self) -> np.ndarray:
        return np.unique(self.number)

    def curve(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.number, [number, number + 1])
        return self.step[lo:hi], self.value[lo:hi]


def learning_curves(table: TrialTable, intermediate: IntermediateValues) -> LearningCurves:
    if len(intermediate) == 0:
        empty = np.zeros(0)
        return LearningCurves(
            empty.astype(np.int64), empty.astype(np.int8), empty.astype(np.int64), empty, empty.astype(bool)
        )
    lookup_numbers = table.number
    order_in_table = np.argsort(lookup_numbers, kind="stable")
    pos = np.searchsorted(lookup_numbers[order_in_table], intermediate.number)
    pos = np.clip(pos, 0, max(len(order_in_table) - 1, 0))
    found = (
        lookup_numbers[order_in_table][pos] == intermediate.number
        if len(order_in_table)
        else np.zeros(len(intermediate), bool)
    )
    state = np.full(len(intermediate), -1, dtype=np.int8)
    state[found] = table.state[order_in_table[pos[found]]]
    keep = np.isin(state, (COMPLETE, PRUNED, RUNNING))
    number = intermediate.number[keep]
    step = intermediate.step[keep]
    order = np.lexsort((step, number))
    number, step = number[order], step[order]
    value = intermediate.value[keep][order]
    state = state[keep][order]
    connect = np.zeros(len(number), dtype=bool)
    if len(number) > 1:
        connect[:-1] = number[1:] == number[:-1]
    return LearningCurves(number, state, step, value, connect)


# --- 2. parallel coordinates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dimension:
    """One vertical axis (Optuna's _DimensionInfo): `values` are the plotted coordinates per trial (log10 for a
    log param, category index for a categorical, a slot below the range for a missing param), `range` the axis
    range, `tickvals`/`ticktext` the labelled ticks (empty: plain numbers)."""

    label: str
    values: np.ndarray
    range: tuple[float, float]
    is_log: bool
    is_cat: bool
    tickvals: list = field(default_factory=list)
    ticktext: list = field(default_factory=list)
    has_missing: bool = False

    def normalized(self) -> np.ndarray:
        lo, hi = self.range
        if hi == lo:
            return np.full(len(self.values), 0.5)
        return (self.values - lo) / (hi - lo)

    def to_axis(self, fraction: np.ndarray | float) -> np.ndarray:
        """The axis coordinate at a normalized position."""
        lo, hi = self.range
        return lo + np.asarray(fraction) * (hi - lo)


@dataclass(frozen=True)
class ParallelCoordinates:
    """COMPLETE trials with finite values: one row per trial (`numbers`), objective axes first, then one axis per
    param in name order; `color` is the colour value per trial (the chosen objective)."""

    numbers: np.ndarray
    dimensions: list[Dimension]
    color: np.ndarray
    color_label: str
    reverse_scale: bool

    def matrix(self) -> np.ndarray:
        """(n_trials, n_axes) normalized to [0, 1] per axis."""
        if not self.dimensions:
            return np.zeros((len(self.numbers), 0))
        return np.column_stack([d.normalized() for d in self.dimensions])


def _missing_slot(lo: float, hi: float) -> float:
    if lo == hi:
        return lo - 1.0
    return lo - (hi - lo) * 0.12 / 0.88


def _objective_labels(table: TrialTable, metric_names: Sequence[str] | None) -> list[str]:
    names = list(metric_names or [])
    if table.n_objectives == 1:
        return [names[0] if names else "Objective Value"]
    return [names[k] if k < len(names) else f"Objective {k}" for k in range(table.n_objectives)]


def parallel_coordinates(
    table: TrialTable,
    objective: int = 0,
    params: Sequence[str] | None = None,
    metric_names: Sequence[str] | None = None,
) -> ParallelCoordinates:
    multi = table.n_objectives > 1
    rows = complete_rows(table, None if multi else objective)
    labels = _objective_labels(table, metric_names)
    dims: list[Dimension] = []
    for k in range(table.n_objectives):
        v = table.values[rows, k]
        dims.append(Dimension(labels[k], v, (float(v.min()), float(v.max())) if len(v) else (0.0, 0.0), False, False))
    names = list(params) if params is not None else param_names_in(table, rows)
    for name in sorted(set(names)):
        column = table.params[name]
        first_dist = first_distribution(column, rows)
        present = column.present[rows]
        has_missing = not bool(present.all())
        if len(rows) == 0 or not present.any():
            continue
        if is_log(column, rows):
            logs = np.full(len(rows), np.nan)
            logs[present] = np.log10(external_numbers(column, rows[present]))
            lo, hi = float(logs[present].min()), float(logs[present].max())
            tickvals: list[float] = list(range(math.ceil(lo), math.floor(hi) + 1))
            if lo not in tickvals:
                tickvals = [lo] + tickvals
            if hi not in tickvals:
                tickvals = tickvals + [hi]
            ticktext = [f"{math.pow(10, x):.3g}" for x in tickvals]
            missing = _missing_slot(lo, hi) if has_missing else None
            if missing is not None:
                logs[~present] = missing
                tickvals.insert(0, missing)
                ticktext.insert(0, MISSING_LABEL)
            dims.append(
                Dimension(
                    name,
                    logs,
                    (missing if missing is not None else lo, hi),
                    True,
                    False,
                    tickvals,
                    ticktext,
                    has_missing,
                )
            )
        elif first_dist is not None and first_dist.kind == "categorical":
            choices, index = category_labels(column, rows)
            used = index[present]
            if is_numerical(column, rows):
                order = sorted(set(used.tolist()), key=lambda i: choices[i])
            else:  # order of first appearance, as Optuna's vocabulary
                _, first = np.unique(used, return_index=True)
                order = used[np.sort(first)].tolist()
            code = np.full(len(choices), -1, dtype=np.int64)
            code[order] = np.arange(len(order))
            offset = 1 if has_missing else 0
            coords = np.zeros(len(rows))
            coords[present] = code[used] + offset
            ticktext = [str(choices[i]) for i in order]
            if has_missing:
                ticktext = [f"{t} (value)" if t == MISSING_LABEL else t for t in ticktext]
                ticktext = [MISSING_LABEL] + ticktext
            dims.append(
                Dimension(
                    name,
                    coords,
                    (float(coords.min()), float(coords.max())),
                    False,
                    True,
                    list(range(len(order) + offset)),
                    ticktext,
                    has_missing,
                )
            )
        else:
            v = np.full(len(rows), np.nan)
            v[present] = external_numbers(column, rows[present])
            lo, hi = float(v[present].min()), float(v[present].max())
            missing = _missing_slot(lo, hi) if has_missing else None
            ticks = [lo] if lo == hi else [float(x) for x in np.linspace(lo, hi, num=5)]
            if missing is not None:
                v[~present] = missing
            dims.append(
                Dimension(
                    name,
                    v,
                    (missing if missing is not None else lo, hi),
                    False,
                    False,
                    [missing] + ticks if missing is not None else [],
                    [MISSING_LABEL] + [f"{x:.3g}" for x in ticks] if missing is not None else [],
                    has_missing,
                )
            )
    color = table.values[rows, objective]
    return ParallelCoordinates(
        table.number[rows], dims, color, labels[objective], reverse_scale=table.directions[objective] == "minimize"
    )


def numbers_in_ranges(pc: ParallelCoordinates, brushes: dict[int, tuple[float, float]]) -> np.ndarray:
    """Trial numbers whose normalized coordinate lies within every brushed [low, high] (axis index -> range)."""
    keep = np.ones(len(pc.numbers), dtype=bool)
    for axis, (lo, hi) in brushes.items():
        v = pc.dimensions[axis].normalized()
        keep &= (v >= min(lo, hi)) & (v <= max(lo, hi))
    return pc.numbers[keep]


# --- 3. slice and rank ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SliceData:
    """One param against the objective for COMPLETE trials having the param (Optuna's _SliceSubplotInfo):
    x is the external value, or for a categorical the index into `labels` (the choices)."""

    param: str
    x: np.ndarray
    y: np.ndarray
    numbers: np.ndarray
    is_log: bool
    is_numerical: bool
    labels: list | None


def slice_data(table: TrialTable, param: str, objective: int = 0) -> SliceData:
    rows = complete_rows(table, objective)
    column = table.params[param]
    dist = first_distribution(column, complete_rows(table, objective))
    rows = rows[column.present[rows]]
    categorical = dist is not None and dist.kind == "categorical"
    if categorical:
        labels, x = category_labels(column, rows)
        x = x.astype(float)
    else:
        labels, x = None, external_numbers(column, rows)
    return SliceData(
        param, x, table.values[rows, objective], table.number[rows], is_log(column, rows), not categorical, labels
    )


def ranks_with_ties_averaged(values: np.ndarray) -> np.ndarray:
    """Optuna's _get_order_with_same_order_averaging, in O(n log n): the mean sorted position of equal values."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    order = np.argsort(values, kind="stable")
    sorted_v = values[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_v[1:] != sorted_v[:-1])))
    ends = np.concatenate((starts[1:], [n]))
    mean_pos = (starts + ends - 1) / 2.0
    group = np.repeat(np.arange(len(starts)), ends - starts)
    out = np.empty(n)
    out[order] = mean_pos[group]
    return out


@dataclass(frozen=True)
class RankData:
    """Two params of COMPLETE trials having both, coloured by the rank of the objective among all COMPLETE
    trials (Optuna's rank plot): `color` in [0, 1], 0 the lowest value."""

    x_param: str
    y_param: str
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    color: np.ndarray
    numbers: np.ndarray
    x_labels: list | None
    y_labels: list | None
    x_log: bool
    y_log: bool


def _axis_values(table: TrialTable, name: str, rows: np.ndarray, all_rows: np.ndarray):
    column = table.params[name]
    dist = first_distribution(column, all_rows)
    if dist is not None and dist.kind == "categorical" and not is_numerical(column, all_rows):
        labels, idx = category_labels(column, rows)
        # Optuna orders non-numerical categories by their string value on these plots
        by_text = sorted(set(idx.tolist()), key=lambda i: str(labels[i]))
        code = np.full(len(labels), -1)
        code[by_text] = np.arange(len(by_text))
        return code[idx].astype(float), [str(labels[i]) for i in by_text], False
    return external_numbers(column, rows), None, is_log(column, all_rows)


def rank_data(table: TrialTable, x_param: str, y_param: str, objective: int = 0) -> RankData:
    rows = np.flatnonzero(table.state == COMPLETE)
    z_all = table.values[rows, objective]
    raw = ranks_with_ties_averaged(z_all)
    color = raw / (len(rows) - 1) if len(rows) >= 2 else np.full(len(rows), 0.5)
    both = table.params[x_param].present[rows] & table.params[y_param].present[rows]
    sel = rows[both]
    x, x_labels, x_log = _axis_values(table, x_param, sel, rows)
    y, y_labels, y_log = _axis_values(table, y_param, sel, rows)
    return RankData(
        x_param, y_param, x, y, z_all[both], color[both], table.number[sel], x_labels, y_labels, x_log, y_log
    )


# --- 4. contour -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContourGrid:
    """The best objective value per cell of a grid over two params.

    x_edges/y_edges: cell centres (`x_centres`, `y_centres`) in plot coordinates (log10 for a log param,
    category index for a categorical); z: (len(y_centres), len(x_centres)) with NaN in empty cells;
    exact: True when the grid's centres are the distinct param values (Optuna's contour grid, one cell per
    distinct pair), False when values were binned into `bins` cells per axis.
    filled: z with empty cells filled from their neighbours (what the heat map shows).
    points_x/points_y/numbers: the trials themselves, in plot coordinates.
    """

    x_param: str
    y_param: str
    x_centres: np.ndarray
    y_centres: np.ndarray
    z: np.ndarray
    filled: np.ndarray
    exact: bool
    x_log: bool
    y_log: bool
    x_labels: list | None
    y_labels: list | None
    points_x: np.ndarray
    points_y: np.ndarray
    numbers: np.ndarray


def fill_empty_cells(z: np.ndarray, iterations: int = 400) -> np.ndarray:
    """Empty (NaN) cells take the mean of their filled neighbours, repeated until everything is filled: a
    cheap harmonic-like interpolation for showing a sparse grid as a continuous map."""
    out = z.copy()
    if out.size == 0 or np.isnan(out).all():
        return out
    for _ in range(iterations):
        empty = np.isnan(out)
        if not empty.any():
            break
        padded = np.pad(out, 1, constant_values=np.nan)
        stack = np.stack([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])
        counts = np.sum(~np.isnan(stack), axis=0)
        sums = np.nansum(stack, axis=0)
        grow = empty & (counts > 0)
        out[grow] = sums[grow] / counts[grow]
    return out


def contour_grid(
    table: TrialTable, x_param: str, y_param: str, objective: int = 0, bins: int = 100, exact_limit: int = 200
) -> ContourGrid:
    """`exact_limit`: use the distinct values as the grid (as Optuna does) when each param has at most this
    many; otherwise bin into `bins` cells per axis, which keeps the grid small for continuous params on large
    studies (Optuna's grid would be n × n cells)."""
    rows = complete_rows(table, objective)
    all_rows = rows
    both = table.params[x_param].present[rows] & table.params[y_param].present[rows]
    rows = rows[both]
    x, x_labels, x_log = _axis_values(table, x_param, rows, all_rows)
    y, y_labels, y_log = _axis_values(table, y_param, rows, all_rows)
    px = np.log10(x) if x_log else x
    py = np.log10(y) if y_log else y
    z = table.values[rows, objective]
    sign = loss_sign(table.directions[objective])
    ux, uy = np.unique(px), np.unique(py)
    exact = len(ux) <= exact_limit and len(uy) <= exact_limit
    if exact:
        xc, yc = ux, uy
        xi = np.searchsorted(ux, px)
        yi = np.searchsorted(uy, py)
    else:
        xc, xi = _bin(px, bins if len(ux) > exact_limit else None, ux)
        yc, yi = _bin(py, bins if len(uy) > exact_limit else None, uy)
    grid = np.full((len(yc), len(xc)), np.inf)
    np.minimum.at(grid, (yi, xi), sign * z)
    grid = np.where(np.isinf(grid) & (grid > 0), np.nan, grid * sign)
    return ContourGrid(
        x_param,
        y_param,
        xc,
        yc,
        grid,
        fill_empty_cells(grid),
        exact,
        x_log,
        y_log,
        x_labels,
        y_labels,
        px,
        py,
        table.number[rows],
    )


def _bin(v: np.ndarray, bins: int | None, unique: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if bins is None:
        return unique, np.searchsorted(unique, v)
    lo, hi = float(unique[0]), float(unique[-1])
    width = (hi - lo) / bins
    idx = np.clip(((v - lo) / width).astype(np.int64), 0, bins - 1)
    return lo + (np.arange(bins) + 0.5) * width, idx


# --- 5. importance ----------------------------------------------------------------------------------------------
def ped_anova_importances(
    table: TrialTable,
    objective: int | None = None,
    *,
    target_quantile: float = 0.1,
    region_quantile: float = 1.0,
    normalize: bool = True,
) -> dict[str, float]:
    """Optuna's PedAnovaImportanceEvaluator (defaults: target_quantile 0.1, region 1.0, evaluate on local) over
    columns: the same counts on the same grids fed to Optuna's own Scott Parzen estimator, so the numbers equal
    `optuna.importance.get_param_importances(study)`.

    objective None: the single objective of a single-objective study. For a study with several objectives pass
    the objective to rank by; lower is better after the direction is applied (Optuna with
    target=lambda t: ±t.values[k]).
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if objective is None:
        if table.n_objectives != 1:
            raise ValueError("choose an objective for a study with several objectives")
        objective = 0
    state_complete = table.state == COMPLETE
    all_complete = np.flatnonzero(state_complete)
    params = [name for name, col in table.params.items() if col.present[all_complete].any()]
    if table.n_objectives == 1:
        rows = np.flatnonzero(state_complete & np.isfinite(table.values).all(axis=1))
    else:
        rows = np.flatnonzero(state_complete & np.isfinite(table.values[:, objective]))
    result = {name: 0.0 for name in params}
    if len(rows) <= 1:
        return _normalized(result) if normalize else result
    loss = loss_sign(table.directions[objective]) * table.values[rows, objective]

    def top(quantile: float) -> np.ndarray:
        if quantile == 1.0:
            return np.ones(len(rows), dtype=bool)
        cutoff_index = int(math.ceil(quantile * loss.size)) - 1
        cutoff = float(np.partition(loss, cutoff_index)[cutoff_index])
        return loss <= cutoff

    in_target, in_region = top(target_quantile), top(region_quantile)
    n_target, n_region = int(in_target.sum()), int(in_region.sum())
    if n_target == 0:
        return _normalized(result) if normalize else result
    quantile = n_target / n_region
    region_rows = rows[in_region]
    target_in_region = in_target[in_region]
    for name in params:
        column = table.params[name]
        codes = column.distribution_index[region_rows]
        # Regimes are trials sharing one distribution (equal distributions stored as different texts merge).
        optuna_dists = [d.to_optuna() for d in column.distributions]
        regimes: dict = {}
        for code in np.unique(codes):
            key = None if code < 0 else optuna_dists[int(code)]
            regimes.setdefault(key, []).append(code)
        total = 0.0
        for dist, regime_codes in regimes.items():
            members = np.isin(codes, regime_codes)
            if members.sum() < 2:  # Optuna's _min_n_trials_in_regime
                continue
            tgt = members & target_in_region
            if dist is None or dist.single() or not tgt.any():
                continue
            values = column.values[region_rows]
            alpha = tgt.sum() / n_target
            beta = members.sum() / n_region
            total += (
                alpha**2
                / beta
                * _pearson_divergence(
                    values[tgt], values[members], dist, CategoricalDistribution, FloatDistribution, IntDistribution
                )
            )
        result[name] = total * quantile**2
    result = dict(sorted(result.items(), key=lambda kv: kv[1], reverse=True))
    return _normalized(result) if normalize else result


def _grid_counts(values: np.ndarray, dist, n_steps: int, categorical_cls, int_cls) -> np.ndarray:
    if isinstance(dist, categorical_cls):
        return np.bincount(values.astype(np.int64), minlength=len(dist.choices))
    if isinstance(dist, int_cls) and dist.log:
        n_steps = min(int(np.ceil(np.log(dist.high - dist.low + 1) / np.log(2))) + 1, n_steps)
    elif dist.step is not None:
        n_steps = min(round((dist.high - dist.low) / dist.step) + 1, n_steps)
    low, high = (math.log(dist.low), math.log(dist.high)) if dist.log else (dist.low, dist.high)
    v = np.log(values) if dist.log else values
    step_size = (high - low) / (n_steps - 1)
    indices = np.clip(np.ceil((v - low) / step_size - 0.5).astype(int), 0, n_steps - 1)
    return np.bincount(indices, minlength=n_steps)


def _scott_parzen_pdf(counts: np.ndarray, categorical: bool, prior_weight: float) -> np.ndarray:
    """Optuna's ScottParzenEstimator (optuna/importance/_ped_anova/scott_parzen_estimator.py) built on grid counts
    and evaluated on the grid, with the same TPE mixture distributions. Re-stated here because importing
    optuna.importance imports its fANOVA module and with it scikit-learn (tens of seconds on a busy machine)."""
    categorical_dists, trunc_norm_dists, mixture_of_products = _optuna_internals.tpe_mixture_classes()

    grid_size = counts.size
    observations = np.flatnonzero(counts)
    weights_obs = counts[observations].astype(float)
    weights = np.append(weights_obs, [prior_weight]) if len(observations) else np.array([1.0])
    weights = weights / weights.sum()
    dist: Any  # one of the two TPE mixture classes above (Optuna private types, see _optuna_internals)
    if categorical:
        if len(observations) == 0:
            dist = categorical_dists(weights=np.full((1, grid_size), 1.0 / grid_size))
        else:
            n_kernels = len(observations) + 1
            w = np.full((n_kernels, grid_size), prior_weight / n_kernels)
            w[np.arange(len(observations)), observations] += 1
            row_sums = w.sum(axis=1, keepdims=True)
            dist = categorical_dists(w / np.where(row_sums == 0, 1, row_sums))
    else:
        low, high = 0, grid_size - 1
        obs = observations.astype(float)
        weights_cum = np.cumsum(weights_obs)
        weights_sum = weights_cum[-1]
        mean_est = (obs @ weights_obs) / weights_sum
        sigma_est = np.sqrt(((obs - mean_est) ** 2 @ weights_obs) / max(1, weights_sum - 1))
        q1_idx = np.searchsorted(weights_cum, weights_sum // 4, side="left")
        q3_idx = np.searchsorted(weights_cum, weights_sum * 3 // 4, side="right")
        iqr = obs[min(obs.size - 1, q3_idx)] - obs[q1_idx]
        sigma_est = 1.059 * min(iqr / 1.34, sigma_est) * weights_sum**-0.2
        sigma_min = 0.5 / 1.64
        mus = np.r_[obs, (low + high) / 2.0]
        sigmas = np.r_[np.full_like(obs, max(sigma_est, sigma_min), dtype=np.float64), high - low + 1]
        dist = trunc_norm_dists(mu=mus, sigma=sigmas, low=low, high=high, step=1)
    mixture = mixture_of_products(weights=weights, distributions=[dist])
    return np.exp(mixture.log_pdf(np.arange(grid_size, dtype=float)[:, np.newaxis]))


def _pearson_divergence(
    target_values,
    region_values,
    dist,
    categorical_cls,
    float_cls,
    int_cls,
    n_steps: int = 50,
    prior_weight: float = 1.0,
) -> float:
    categorical = isinstance(dist, categorical_cls)

    def pdf(values):
        counts = _grid_counts(values, dist, n_steps, categorical_cls, int_cls)
        return _scott_parzen_pdf(counts, categorical, prior_weight) + 1e-12

    pdf_top, pdf_local = pdf(target_values), pdf(region_values)
    return float(pdf_local @ ((pdf_top / pdf_local - 1) ** 2))


def _normalized(result: dict[str, float]) -> dict[str, float]:
    s = sum(result.values())
    if s == 0.0:
        return {k: 1.0 / len(result) for k in result} if result else {}
    return {k: v / s for k, v in result.items()}


FANOVA_MAX_TRIALS = 20_000


def fanova_importances(
    table: TrialTable, objective: int | None = None, *, seed: int = 0, max_trials: int | None = FANOVA_MAX_TRIALS
) -> tuple[dict[str, float], int]:
    """Optuna's FanovaImportanceEvaluator(seed=seed) over columns (its random-forest fANOVA, fed the matrix its
    evaluator would build). Needs scikit-learn. Returns (normalized importances, trials used).

    As in Optuna, only params present in every COMPLETE trial count. A random forest on 100k trials takes
    minutes, so above `max_trials` a seeded random subset of that size is used (the view says so).
    """
    from optuna.distributions import CategoricalDistribution

    search_space_transform = _optuna_internals.search_space_transform()
    fanova = _optuna_internals.fanova_class()

    multi = table.n_objectives > 1
    if objective is None:
        if multi:
            raise ValueError("choose an objective for a study with several objectives")
        objective = 0
    state_complete = table.state == COMPLETE
    all_complete = np.flatnonzero(state_complete)
    # Optuna's intersection_search_space over all trials: params whose distribution is the same in every trial
    # that finished (COMPLETE) — the evaluator takes the intersection over all trials, which for states other
    # than COMPLETE it skips.
    names = []
    for name, column in table.params.items():
        if (
            len(all_complete)
            and column.present[all_complete].all()
            and len(set(column.distribution_index[all_complete].tolist())) == 1
        ):
            names.append(name)
    names.sort()
    dists = {
        name: table.params[name].distributions[int(table.params[name].distribution_index[all_complete[0]])].to_optuna()
        for name in names
    }
    single = [n for n in names if dists[n].single()]
    varying = {n: dists[n] for n in names if not dists[n].single()}
    if not varying:
        return ({k: 1.0 / len(single) for k in single} if single else {}), 0
    rows = np.flatnonzero(state_complete & np.isfinite(table.values[:, objective]))
    if len(rows) <= 1:
        return ({k: 1.0 / len(names) for k in names}), len(rows)
    if max_trials is not None and len(rows) > max_trials:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_trials, replace=False))
    trans = search_space_transform(varying, transform_log=False, transform_step=False)
    X = np.zeros((len(rows), len(trans.bounds)))
    for name, encoded in zip(varying, trans.column_to_encoded_columns, strict=False):
        v = table.params[name].values[rows]
        if isinstance(varying[name], CategoricalDistribution):
            X[np.arange(len(rows)), encoded[v.astype(np.int64)]] = 1.0
        else:
            X[:, encoded[0]] = v
    y = table.values[rows, objective] * (loss_sign(table.directions[objective]) if multi else 1.0)
    model = fanova(n_trees=64, max_depth=64, min_samples_split=2, min_samples_leaf=1, seed=seed)
    model.fit(X=X, y=y, search_spaces=trans.bounds, column_to_encoded_columns=trans.column_to_encoded_columns)
    result = {n: float(model.get_importance(i)[0]) for i, n in enumerate(varying)}
    result.update({n: 0.0 for n in single})
    result = dict(sorted(result.items(), key=lambda kv: kv[1], reverse=True))
    return _normalized(result), len(rows)


# --- 6 and 9. EDF and history across studies --------------------------------------------------------------------
@dataclass(frozen=True)
class EdfData:
    """Optuna's _EDFInfo: one shared x grid (`samples` points from the smallest to the largest value over all
    studies) and, per study, the fraction of its COMPLETE finite values ≤ x."""

    x: np.ndarray
    names: list[str]
    y: list[np.ndarray]


def edf(values_by_study: dict[str, np.ndarray], samples: int = EDF_SAMPLES) -> EdfData:
    names = list(values_by_study)
    arrays = [np.sort(np.asarray(values_by_study[n], dtype=float)) for n in names]
    arrays = [a[np.isfinite(a)] for a in arrays]
    if all(len(a) == 0 for a in arrays):
        return EdfData(np.zeros(0), [], [])
    allv = np.concatenate(arrays)
    x = np.linspace(allv.min(), allv.max(), samples)
    ys = [np.searchsorted(a, x, side="right") / a.size if a.size else np.full(samples, np.nan) for a in arrays]
    return EdfData(x, names, ys)


def complete_values(table: TrialTable, objective: int = 0) -> np.ndarray:
    """Finite values of COMPLETE trials for one objective (EDF input)."""
    return table.values[complete_rows(table, objective), objective]


@dataclass(frozen=True)
class History:
    """Optimization history of one objective: COMPLETE trials' numbers, values and best so far."""

    numbers: np.ndarray
    values: np.ndarray
    best: np.ndarray


def history(table: TrialTable, objective: int = 0) -> History:
    rows = complete_rows(table, objective)
    v = table.values[rows, objective]
    best = (np.fmax if table.directions[objective] == "maximize" else np.fmin).accumulate(v) if len(v) else v
    return History(table.number[rows], v, best)


# --- 7. Pareto front and hypervolume ----------------------------------------------------------------------------
def pareto_mask(loss: np.ndarray) -> np.ndarray:
    """True for rows of a (n, k) minimization matrix not dominated by another row (Optuna's definition: equal
    points do not dominate each other, so duplicates on the front all stay). O(n log n) for k = 2."""
    n, k = loss.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    unique, inverse = np.unique(loss, axis=0, return_inverse=True)  # lexicographically sorted
    inverse = inverse.reshape(-1)
    if k == 1:
        on = unique[:, 0] == unique[0, 0]
    elif k == 2:
        # A later unique point can never dominate an earlier one; an earlier one with f1 ≤ this f1 does.
        prev_min = np.minimum.accumulate(np.concatenate(([np.inf], unique[:-1, 1])))
        on = unique[:, 1] < prev_min
    else:
        on = np.zeros(len(unique), dtype=bool)
        front = np.empty((0, k))
        for i, point in enumerate(unique):
            if front.shape[0] and (front <= point).all(axis=1).any():
                continue
            on[i] = True
            front = np.vstack([front, point])
    return on[inverse]


@dataclass(frozen=True)
class ParetoData:
    """COMPLETE trials with all values finite: `values` (n, k) as stored, `on_front` mask (Optuna's
    study.best_trials are exactly the rows on the front), `numbers`."""

    numbers: np.ndarray
    values: np.ndarray
    on_front: np.ndarray

    @property
    def front_numbers(self) -> np.ndarray:
        return self.numbers[self.on_front]


def pareto_front(table: TrialTable) -> ParetoData:
    rows = np.flatnonzero(table.state == COMPLETE)
    values = table.values[rows]
    signs = np.array([loss_sign(d) for d in table.directions])
    ok = ~np.isnan(values).any(axis=1)
    rows, values = rows[ok], values[ok]
    return ParetoData(table.number[rows], values, pareto_mask(values * signs))


def default_reference_point(table: TrialTable) -> np.ndarray:
    """A reference point for the hypervolume when the user gives none: per objective, the worst finite
    COMPLETE value pushed 10% of the value range further (1.0 when all values are equal), so every finite
    point contributes."""
    rows = complete_rows(table, None)
    out = np.zeros(table.n_objectives)
    for k, direction in enumerate(table.directions):
        v = loss_sign(direction) * table.values[rows, k]
        if len(v) == 0:
            out[k] = 0.0
            continue
        span = float(v.max() - v.min()) or 1.0
        out[k] = loss_sign(direction) * (float(v.max()) + 0.1 * span)
    return out


def hypervolume_history(table: TrialTable, reference_point: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """(trial numbers, hypervolume after each) over COMPLETE trials in number order, with Optuna's rules
    (_get_hypervolume_history_info): a point weakly dominated by the current front, or beyond the reference
    point in any objective, leaves the hypervolume unchanged. 2 objectives: an incremental sweep over a sorted
    front, O(log n) per dominated trial; more: Optuna's own incremental algorithm on arrays."""
    import bisect

    rows = np.flatnonzero(table.state == COMPLETE)
    signs = np.array([loss_sign(d) for d in table.directions])
    ref = signs * np.asarray(reference_point, dtype=float)
    loss = table.values[rows] * signs
    numbers = table.number[rows]
    out = np.zeros(len(rows))
    if table.n_objectives == 2:
        r0, r1 = float(ref[0]), float(ref[1])
        xs: list[float] = []  # front sorted by f0 ascending (f1 then strictly descending)
        ys: list[float] = []
        hv = 0.0
        for i, (a, b) in enumerate(loss.tolist()):
            if a > r0 or b > r1 or a != a or b != b:
                out[i] = hv
                continue
            j = bisect.bisect_right(xs, a)  # xs[:j] have f0 <= a; the last of them has the smallest f1
            if j and ys[j - 1] <= b:
                out[i] = hv
                continue
            # Points the new one dominates: from index j' (f0 >= a) while f1 >= b.
            start = bisect.bisect_left(xs, a)
            end = start
            while end < len(xs) and ys[end] >= b:
                end += 1
            left = start - 1
            right_x = xs[end] if end < len(xs) else r0
            old = 0.0
            first_removed_or_right = xs[start] if end > start else right_x
            if left >= 0:
                old += (first_removed_or_right - xs[left]) * (r1 - ys[left])
            for m in range(start, end):
                nxt = xs[m + 1] if m + 1 < len(xs) else r0
                old += (nxt - xs[m]) * (r1 - ys[m])
            new = (right_x - a) * (r1 - b)
            if left >= 0:
                new += (a - xs[left]) * (r1 - ys[left])
            hv += new - old
            xs[start:end] = [a]
            ys[start:end] = [b]
            out[i] = hv
        return numbers, out
    front = None
    hv = 0.0
    for i, point in enumerate(loss):
        p = point[np.newaxis, :]
        if front is not None and (front <= p).all(axis=1).any():
            out[i] = hv
            continue
        if (p > ref).any() or np.isnan(p).any():
            out[i] = hv
            continue
        hv += float(np.prod(ref - p))
        if front is None:
            front = p
        else:
            hv -= _optuna_internals.compute_hypervolume(np.maximum(front, p), ref)
            front = np.concatenate([front[(front < p).any(axis=1)], p])
        out[i] = hv
    return numbers, out


# --- 8. timeline ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timeline:
    """One bar per trial (every trial): start and end in seconds since the epoch (UTC), state code, number.
    Bars follow Optuna's _get_timeline_info: a RUNNING trial ends at the latest completion (or now, when it
    looks alive), a trial without a start starts there, one without an end lasts one second."""

    numbers: np.ndarray
    state: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @property
    def duration(self) -> np.ndarray:
        return self.end - self.start


def _epoch_seconds(dt: np.ndarray) -> np.ndarray:
    out = dt.astype("datetime64[us]").astype(np.int64).astype(np.float64) / 1e6
    out[np.isnat(dt)] = np.nan
    return out


def timeline(table: TrialTable, now: float | None = None) -> Timeline:
    """`now`: seconds since the epoch (default: the current time), used for live RUNNING trials."""
    import time as _time

    if now is None:
        now = _time.time()
    start = _epoch_seconds(table.datetime_start)
    complete = _epoch_seconds(table.datetime_complete)
    durations = complete - start
    finite_durations = durations[np.isfinite(durations)]
    running = table.state == RUNNING
    running_start = start[running & np.isfinite(start)]
    if len(finite_durations) == 0:
        alive = bool(running.any())
    else:
        alive = bool((now - running_start < 5 * finite_durations.max()).any())
    if alive:
        max_dt = now
    else:
        finished = complete[np.isfinite(complete)]
        max_dt = float(finished.max()) if len(finished) else now
    s = np.where(np.isfinite(start), start, max_dt)
    e = np.where(running, max_dt + 1.0, np.where(np.isfinite(complete), complete, s + 1.0))
    return Timeline(table.number.copy(), table.state.copy(), s, e)


# --- 10. CSV --------------------------------------------------------------------------------------------------
def write_csv(path: str, columns: dict[str, Iterable]) -> int:
    """Write equal-length columns as CSV with a header row; returns the number of data rows. Floats keep full
    precision (repr), NaN is written as an empty cell."""
    names = list(columns)
    cols = [list(np.asarray(c, dtype=object)) if not isinstance(c, list) else c for c in columns.values()]
    n = len(cols[0]) if cols else 0

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else repr(float(v))
        if isinstance(v, np.integer):
            return int(v)
        return v

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for i in range(n):
            writer.writerow([cell(c[i]) for c in cols])
    return n


def trial_rows_csv(path: str, table: TrialTable, rows: np.ndarray, param_names: Sequence[str] | None = None) -> int:
    """The given rows of a trial table, in the given order (e.g. a table view's visible, filtered and sorted
    rows), as CSV: number, state, values, datetimes, duration and params in external representation."""

    rows = np.asarray(rows, dtype=np.int64)
    cols: dict[str, Iterable] = {
        "number": table.number[rows],
        "state": [STATE_NAMES[s] for s in table.state[rows].tolist()],
    }
    for k in range(table.n_objectives):
        cols["value" if table.n_objectives == 1 else f"values_{k}"] = table.values[rows, k]
    cols["datetime_start"] = [None if np.isnat(t) else str(t) + "Z" for t in table.datetime_start[rows]]
    cols["datetime_complete"] = [None if np.isnat(t) else str(t) + "Z" for t in table.datetime_complete[rows]]
    cols["duration_s"] = table.duration[rows]
    for name in param_names if param_names is not None else table.params:
        cols[f"params_{name}"] = list(table.params[name].decoded()[rows])
    return write_csv(path, cols)


__all__ = [
    "LearningCurves",
    "learning_curves",
    "Dimension",
    "ParallelCoordinates",
    "parallel_coordinates",
    "numbers_in_ranges",
    "SliceData",
    "slice_data",
    "RankData",
    "rank_data",
    "ranks_with_ties_averaged",
    "ContourGrid",
    "contour_grid",
    "ped_anova_importances",
    "fanova_importances",
    "EdfData",
    "edf",
    "complete_values",
    "History",
    "history",
    "ParetoData",
    "pareto_front",
    "pareto_mask",
    "default_reference_point",
    "hypervolume_history",
    "Timeline",
    "timeline",
    "write_csv",
    "trial_rows_csv",
]
