"""Plot data from optgui.core.analysis._plot_data equals Optuna's own computation on the same studies.

Each study is made by real Optuna in a SQLite file and read back through optgui's reader; the reference is
Optuna's plot-data helper (optuna/visualization/_*.py) or evaluator run on the loaded study.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from optgui.core.analysis import _plot_data as analysis
from optgui.core.storage._reader import open_reader
from optgui.core.storage._tables import COMPLETE, PRUNED

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def mixed_objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    depth = trial.suggest_int("depth", 1, 8)
    width = trial.suggest_int("width", 1, 1024, log=True)
    kind = trial.suggest_categorical("kind", ["relu", "tanh", "gelu"])
    batch = trial.suggest_categorical("batch", [64, 16, 32])
    value = (x - 1) ** 2 + abs(math.log10(lr) + 3) + 0.3 * depth + (kind == "tanh") + batch / 64 + width / 2048
    if kind == "gelu":  # a conditional param: missing in most trials
        value += trial.suggest_float("alpha", 0.0, 1.0, step=0.25)
    for step in range(5):
        trial.report(value * (5 - step), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    if depth == 8 and kind == "relu":
        raise ValueError("a failing trial")
    return round(value, 1)  # rounding makes ties, which the rank plot must average


def journal(path):
    """Optuna journal files: written ~10x faster than SQLite, and read by the same reader API."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


def _make(path, name, objective, n, directions=("minimize",), pruner=None, seed=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=journal(path),
            study_name=name,
            directions=list(directions),
            sampler=optuna.samplers.RandomSampler(seed=seed),
            pruner=pruner,
        )
        study.optimize(objective, n_trials=n, catch=(ValueError,))
    return study


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "single.log"
    study = _make(
        path, "single", mixed_objective, 120, pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    )
    study.set_metric_names(["loss"])
    with open_reader(str(path)) as reader:
        table = reader.trials("single")
        iv = reader.intermediate_values("single")
    states = {t.state for t in study.trials}
    assert {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL} <= states  # the study covers every case
    return study, table, iv


@pytest.fixture(scope="module")
def maximize(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "max.log"

    def objective(trial):
        return -((trial.suggest_float("a", 0, 1) - 0.3) ** 2) + 0.1 * trial.suggest_int("b", 0, 3)

    study = _make(path, "max", objective, 60, directions=("maximize",))
    with open_reader(str(path)) as reader:
        return study, reader.trials("max")


def _two_objectives(trial):
    x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
    return round(x, 1), round((1 - x) ** 2 + y, 1)  # rounding makes duplicate points on the front


def _three_objectives(trial):
    x, y, z = (trial.suggest_float(n, 0, 1) for n in "xyz")
    return x + y, -(y + z), x * z


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    out = {}
    for k, objective, directions in (
        (2, _two_objectives, ("minimize", "minimize")),
        (3, _three_objectives, ("minimize", "maximize", "minimize")),
    ):
        path = folder / f"mo{k}.log"
        study = _make(path, f"mo{k}", objective, 150, directions=directions)
        with open_reader(str(path)) as reader:
            out[k] = (study, reader.trials(f"mo{k}"))
    return out


# --- 1. learning curves -----------------------------------------------------------------------------------------
def test_learning_curves_equal_optuna(single):
    from optuna.visualization._intermediate_values import _get_intermediate_plot_info

    study, table, iv = single
    curves = analysis.learning_curves(table, iv)
    info = _get_intermediate_plot_info(study)
    assert [t.trial_number for t in info.trial_infos] == curves.trial_numbers().tolist()
    for t in info.trial_infos:
        steps, values = curves.curve(t.trial_number)
        assert list(zip(steps.tolist(), values.tolist(), strict=False)) == t.sorted_intermediate_values
    assert (curves.state == PRUNED).any() and (curves.state == COMPLETE).any()
    # one line item draws every curve: consecutive points are joined only within a trial
    assert curves.connect.sum() == len(curves) - len(info.trial_infos)


# --- 2. parallel coordinates ------------------------------------------------------------------------------------
def _rows(dims, n):
    return sorted(tuple(round(float(d.values[i]), 9) for d in dims) for i in range(n))


@pytest.mark.parametrize("fixture", ["single", "maximize"])
def test_parallel_coordinates_equal_optuna(fixture, request):
    from optuna.visualization._parallel_coordinate import _get_parallel_coordinate_info

    study, table = request.getfixturevalue(fixture)[:2]
    info = _get_parallel_coordinate_info(study)
    pc = analysis.parallel_coordinates(table)
    ours = pc.dimensions
    theirs = list(info.dims_objectives) + list(info.dims_params)
    assert [d.label for d in ours] == [d.label for d in theirs]
    for a, b in zip(ours, theirs, strict=False):
        assert (a.is_log, a.is_cat, a.has_missing) == (b.is_log, b.is_cat, b.has_missing), a.label
        assert a.range == pytest.approx(b.range), a.label
        assert a.tickvals == pytest.approx(b.tickvals), a.label
        assert a.ticktext == list(b.ticktext), a.label
    # Optuna reorders trials when a numerical categorical is present; compare the set of polylines
    assert _rows(ours, len(pc.numbers)) == _rows(theirs, len(theirs[0].values))
    assert sorted(pc.color.tolist()) == sorted(info.color_values)
    assert pc.reverse_scale == info.reverse_scale
    if fixture == "single":
        assert any(d.is_log for d in ours) and any(d.is_cat for d in ours) and any(d.has_missing for d in ours)


def test_brushing_selects_trials_in_range(single):
    _, table, _ = single
    pc = analysis.parallel_coordinates(table)
    axis = [d.label for d in pc.dimensions].index("x")
    chosen = analysis.numbers_in_ranges(pc, {axis: (0.5, 1.0)})
    x = dict(zip(table.number.tolist(), table.params["x"].values.tolist(), strict=False))
    lo, hi = pc.dimensions[axis].to_axis(0.5), pc.dimensions[axis].range[1]
    expected = [n for n in pc.numbers.tolist() if lo <= x[n] <= hi]
    assert chosen.tolist() == expected and 0 < len(expected) < len(pc.numbers)


# --- 3. slice and rank ------------------------------------------------------------------------------------------
def test_slice_equal_optuna(single):
    from optuna.visualization._slice import _get_slice_plot_info

    study, table, _ = single
    info = _get_slice_plot_info(study, None, None, "Objective Value")
    assert [s.param_name for s in info.subplots] == analysis.param_names_in(table, analysis.complete_rows(table))
    for sub in info.subplots:
        ours = analysis.slice_data(table, sub.param_name)
        assert ours.numbers.tolist() == sub.trial_numbers
        assert ours.y.tolist() == sub.y
        assert (ours.is_log, ours.is_numerical) == (sub.is_log, sub.is_numerical)
        if ours.labels is None:
            assert ours.x.tolist() == pytest.approx(sub.x)
        else:
            assert tuple(ours.labels) == sub.x_labels
            assert [ours.labels[int(i)] for i in ours.x] == sub.x


def test_rank_equal_optuna(single):
    from optuna.visualization._rank import _get_order_with_same_order_averaging, _get_rank_info

    study, table, _ = single
    for pair in (["x", "lr"], ["kind", "depth"], ["alpha", "batch"]):
        info = _get_rank_info(study, pair, None, "Objective Value")
        sub = info.sub_plot_infos[0][0]
        ours = analysis.rank_data(table, *pair)
        assert ours.numbers.tolist() == [t.number for t in sub.trials]
        assert ours.z.tolist() == sub.zs.tolist()
        raw = _get_order_with_same_order_averaging(info.zs)
        expected_color = (raw / (len(info.zs) - 1))[
            [t.number in set(ours.numbers.tolist()) for t in study.get_trials(states=(TrialState.COMPLETE,))]
        ]
        assert ours.color.tolist() == pytest.approx(expected_color.tolist())
        for ours_axis, labels, _theirs_axis, xs in (
            (ours.x, ours.x_labels, sub.xaxis, sub.xs),
            (ours.y, ours.y_labels, sub.yaxis, sub.ys),
        ):
            if labels is None:
                assert ours_axis.tolist() == pytest.approx([float(v) for v in xs])
            else:
                assert [labels[int(i)] for i in ours_axis] == [str(v) for v in xs]
    assert len(np.unique(ours.z)) < len(ours.z)  # ties were exercised


# --- 4. contour -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", [("depth", "kind"), ("batch", "depth"), ("x", "lr")])
def test_contour_grid_equals_optuna(single, pair):
    from optuna.visualization._contour import _get_contour_subplot_info
    from optuna.visualization._utils import _filter_nonfinite

    study, table, _ = single
    trials = _filter_nonfinite(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    sub = _get_contour_subplot_info(study, trials, pair[0], pair[1], None)
    grid = analysis.contour_grid(table, *pair)
    assert grid.exact

    def value_at(axis, labels, coord, log):
        if labels is not None:
            return labels[int(coord)]
        return float(10**coord if log else coord)

    ours = {}
    for j, yc in enumerate(grid.y_centres):
        for i, xc in enumerate(grid.x_centres):
            if not np.isnan(grid.z[j, i]):
                ours[(value_at("x", grid.x_labels, xc, grid.x_log), value_at("y", grid.y_labels, yc, grid.y_log))] = (
                    float(grid.z[j, i])
                )
    theirs = {(sub.xaxis.indices[i], sub.yaxis.indices[j]): z for (i, j), z in sub.z_values.items()}
    assert len(ours) == len(theirs) > 3
    for key, z in theirs.items():
        match = [
            k
            for k in ours
            if all(
                a == b if isinstance(a, str) else math.isclose(a, b, rel_tol=1e-9) for a, b in zip(k, key, strict=False)
            )
        ]
        assert len(match) == 1 and ours[match[0]] == z, key
    assert not np.isnan(grid.filled).any()


def test_contour_bins_continuous_params_and_keeps_best_per_cell(single):
    _, table, _ = single
    grid = analysis.contour_grid(table, "x", "lr", bins=8, exact_limit=10)
    assert not grid.exact and grid.z.shape == (8, 8)
    assert np.nanmin(grid.z) == analysis.complete_values(table).min()


# --- 5. importance ----------------------------------------------------------------------------------------------
def test_ped_anova_equals_optuna(single, maximize):
    for study, table in (single[:2], maximize):
        expected = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator()
        )
        ours = analysis.ped_anova_importances(table)
        assert list(ours) == list(expected)
        assert list(ours.values()) == pytest.approx(list(expected.values()), rel=1e-9, abs=1e-12)


def test_ped_anova_per_objective_equals_optuna_with_target(multi):
    study, table = multi[3]
    for k in range(3):
        sign = -1 if study.directions[k] == optuna.study.StudyDirection.MAXIMIZE else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = optuna.importance.get_param_importances(
                study, target=lambda t, sign=sign, k=k: sign * t.values[k]
            )
        ours = analysis.ped_anova_importances(table, objective=k)
        assert ours == pytest.approx(expected, rel=1e-9)


def test_fanova_equals_optuna(maximize):
    pytest.importorskip("sklearn")
    study, table = maximize
    expected = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=3)
    )
    ours, used = analysis.fanova_importances(table, seed=3)
    assert used == len(study.get_trials(states=(TrialState.COMPLETE,)))
    assert ours == pytest.approx(expected, rel=1e-9)


# --- 6 and 9. EDF and history -----------------------------------------------------------------------------------
def test_edf_across_studies_equals_optuna(single, maximize):
    from optuna.visualization._edf import _get_edf_info

    studies = [single[0], maximize[0]]
    info = _get_edf_info(studies)
    ours = analysis.edf({"single": analysis.complete_values(single[1]), "max": analysis.complete_values(maximize[1])})
    assert ours.x.tolist() == pytest.approx(info.x_values.tolist())
    assert ours.names == [line.study_name for line in info.lines]
    for y, line in zip(ours.y, info.lines, strict=False):
        assert y.tolist() == line.y_values.tolist()


def test_history_equals_optuna(single, maximize):
    from optuna.visualization._optimization_history import _get_optimization_history_info_list

    for study, table in (single[:2], maximize):
        info = _get_optimization_history_info_list(study, None, "Objective Value", False)[0]
        ours = analysis.history(table)
        # Optuna lists every trial with NaN for those not COMPLETE; the history plots the COMPLETE ones
        complete = [i for i, v in enumerate(info.values_info.values) if not math.isnan(v)]
        assert ours.numbers.tolist() == [info.trial_numbers[i] for i in complete]
        assert ours.values.tolist() == [info.values_info.values[i] for i in complete]
        assert ours.best.tolist() == [info.best_values_info.values[i] for i in complete]


# --- 7. Pareto front and hypervolume ----------------------------------------------------------------------------
@pytest.mark.parametrize("k", [2, 3])
def test_pareto_front_equals_best_trials(multi, k):
    study, table = multi[k]
    ours = analysis.pareto_front(table)
    assert sorted(ours.front_numbers.tolist()) == sorted(t.number for t in study.best_trials)
    if k == 2:  # duplicates on the front are all kept, as Optuna does
        front_values = ours.values[ours.on_front]
        assert len(np.unique(front_values, axis=0)) < len(front_values)


@pytest.mark.parametrize("k", [2, 3])
def test_hypervolume_history_equals_optuna(multi, k):
    from optuna.visualization._hypervolume_history import _get_hypervolume_history_info

    study, table = multi[k]
    reference = analysis.default_reference_point(table)
    # A tighter reference point too, so some points lie beyond it and are skipped.
    for ref in (reference, np.median(table.values[table.state == COMPLETE], axis=0)):
        info = _get_hypervolume_history_info(study, np.asarray(ref))
        numbers, hv = analysis.hypervolume_history(table, ref)
        assert numbers.tolist() == info.trial_numbers
        assert hv.tolist() == pytest.approx(info.values, rel=1e-9, abs=1e-12)
        assert hv[-1] > 0


def test_pareto_mask_random_points_against_brute_force():
    rng = np.random.default_rng(5)
    for k in (2, 3):
        pts = rng.integers(0, 6, size=(300, k)).astype(float)
        mask = analysis.pareto_mask(pts)
        brute = [not any((q <= p).all() and (q < p).any() for q in pts) for p in pts]
        assert mask.tolist() == brute


# --- 8. timeline ------------------------------------------------------------------------------------------------
def test_timeline_equals_optuna_all_trials(single, monkeypatch):
    from optuna.visualization._timeline import _get_timeline_info

    study, table, _ = single
    info = _get_timeline_info(study)
    ours = analysis.timeline(table)
    assert len(ours.numbers) == len(info.bars) == len(study.trials)
    assert ours.numbers.tolist() == [b.number for b in info.bars]
    assert [int(s) for s in ours.state] == [b.state.value for b in info.bars]
    # Optuna shows naive local datetimes; .timestamp() reads them as local time, as they were written
    assert ours.start.tolist() == pytest.approx([b.start.timestamp() for b in info.bars], abs=1e-6)
    assert ours.end.tolist() == pytest.approx([b.complete.timestamp() for b in info.bars], abs=1e-6)


def test_timeline_running_trial_ends_now_while_alive(tmp_path):
    path = tmp_path / "run.log"
    study = _make(path, "run", lambda t: t.suggest_float("x", 0, 1), 3)
    study.ask()  # a RUNNING trial started just now
    with open_reader(str(path)) as reader:
        table = reader.trials("run")
    now = float(analysis.timeline(table).start[-1]) + 0.5
    bars = analysis.timeline(table, now=now)
    assert bars.end[-1] == pytest.approx(now + 1.0)


# --- 10. CSV ----------------------------------------------------------------------------------------------------
def test_trial_rows_csv_keeps_row_order_and_values(single, tmp_path):
    import csv

    _, table, _ = single
    rows = np.argsort(-table.number)[:10]
    n = analysis.trial_rows_csv(str(tmp_path / "t.csv"), table, rows)
    with open(tmp_path / "t.csv", newline="") as f:
        lines = list(csv.DictReader(f))
    assert n == 10 and [int(r["number"]) for r in lines] == table.number[rows].tolist()
    for r, row in zip(lines, rows, strict=False):
        value = table.values[row, 0]
        assert (r["value"] == "") if np.isnan(value) else float(r["value"]) == value
        assert r["params_kind"] == (table.params["kind"].decoded()[row] or "")
