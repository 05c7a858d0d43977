"""Plot benchmark: time to draw each analysis view for a 100k-trial study (5 params) against the time
optuna.visualization takes to build the same plotly figure.

    pip install -e '.[bench,fanova]'
    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_plots [--trials 100000] [--cap 60]

optgui: the view's redraw (plot data from the reader's columns + pyqtgraph items) plus one repaint of the
canvas, median of 3 (importance: the computation in its worker, uncached). Wall time and this process's CPU time
are both printed: on a shared machine wall time includes waiting for a core.

Reference: the optuna.visualization function for the same plot on the same trials, once. Optuna needs
FrozenTrial objects; loading 100k trials through `load_study` takes about a minute and `add_trials` ~20 minutes,
so the reference study is an in-memory study whose trial list is filled directly from the same columns (what the
plot functions then do is unchanged). A reference stopped at --cap seconds prints "> cap". Contour is capped by
design: Optuna's contour grid is n_distinct × n_distinct cells (10^10 for 100k continuous values), so the
reference runs on the first --contour-trials trials and says so.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import optuna  # noqa: E402

PARAMS = {
    "x0": {"name": "FloatDistribution", "attributes": {"low": -5.0, "high": 5.0, "step": None, "log": False}},
    "x1": {"name": "FloatDistribution", "attributes": {"low": 1e-5, "high": 1.0, "step": None, "log": True}},
    "x2": {"name": "IntDistribution", "attributes": {"low": 1, "high": 100, "step": 1, "log": False}},
    "x3": {"name": "CategoricalDistribution", "attributes": {"choices": ["a", "b", "c", "d"]}},
    "x4": {"name": "FloatDistribution", "attributes": {"low": 0.0, "high": 1.0, "step": None, "log": False}},
}
STEPS = 5


def build_study(path: Path, name: str, n: int, directions: list[str], seed: int) -> None:
    """Optuna creates the study; the trials go in with executemany (add_trials takes ~13 ms per trial)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.create_study(storage=f"sqlite:///{path}", study_name=name, directions=directions)
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.uniform(-5, 5, n),
            10 ** rng.uniform(-5, 0, n),
            rng.integers(1, 101, n),
            rng.integers(0, 4, n),
            rng.uniform(0, 1, n),
        ]
    )
    loss = (x[:, 0] - 1) ** 2 + np.abs(np.log10(x[:, 1]) + 2) + 0.01 * x[:, 2] + 0.5 * x[:, 3] + rng.normal(0, 0.1, n)
    states = rng.choice(["COMPLETE"] * 85 + ["PRUNED"] * 12 + ["FAIL"] * 3, size=n)
    start = np.datetime64("2026-01-01T00:00:00") + (np.arange(n) * 1500).astype("timedelta64[ms]")
    length = (rng.gamma(2.0, 1000.0, n)).astype("timedelta64[ms]")
    con = sqlite3.connect(path)
    with con:
        ((study_id,),) = con.execute("SELECT study_id FROM studies WHERE study_name = ?", (name,))
        ((base,),) = con.execute("SELECT COALESCE(MAX(trial_id), 0) FROM trials")
        ids = base + 1 + np.arange(n)

        def fmt(t):
            return str(t).replace("T", " ")

        con.executemany(
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(int(ids[i]), i, study_id, str(states[i]), fmt(start[i]), fmt(start[i] + length[i])) for i in range(n)],
        )
        rows = []
        for k in range(len(directions)):
            v = loss if k == 0 else (5 - x[:, 0]) ** 2 / 4 + x[:, 4] + rng.normal(0, 0.1, n)
            rows += [(int(ids[i]), k, float(v[i])) for i in range(n) if states[i] == "COMPLETE"]
        con.executemany(
            "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, 'FINITE')", rows
        )
        dists = [json.dumps(d) for d in PARAMS.values()]
        con.executemany(
            "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)",
            [(int(ids[i]), p, float(x[i, j]), dists[j]) for i in range(n) for j, p in enumerate(PARAMS)],
        )
        if len(directions) == 1:
            reports = []
            for i in range(n):
                last = (
                    STEPS if states[i] == "COMPLETE" else (int(rng.integers(1, STEPS)) if states[i] == "PRUNED" else 0)
                )
                reports += [(int(ids[i]), s, float(loss[i] * (1 + (STEPS - s) / STEPS))) for s in range(last)]
            con.executemany(
                "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
                "intermediate_value_type) VALUES (?, ?, ?, 'FINITE')",
                reports,
            )
    con.close()


def reference_study(table, intermediate, name: str):
    """An in-memory Optuna study holding the same trials as `table` (filled directly, see the module doc)."""
    from optuna.distributions import json_to_distribution
    from optuna.storages import InMemoryStorage
    from optuna.trial import FrozenTrial, TrialState

    storage = InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name=name, directions=list(table.directions))
    study_id = study._study_id
    dists = {p: json_to_distribution(json.dumps(d)) for p, d in PARAMS.items()}
    decoded = {p: table.params[p].decoded() for p in PARAMS}
    reports: dict[int, dict[int, float]] = {}
    if intermediate is not None:
        for number, step, value in zip(
            intermediate.number.tolist(), intermediate.step.tolist(), intermediate.value.tolist(), strict=False
        ):
            reports.setdefault(number, {})[step] = value

    def dt(v):
        return None if np.isnat(v) else datetime.datetime.fromisoformat(str(v))

    info = storage._studies[study_id]
    for i in range(len(table)):
        state = TrialState(int(table.state[i]))
        values = table.values[i].tolist() if state == TrialState.COMPLETE else None
        trial = FrozenTrial(
            number=int(table.number[i]),
            state=state,
            value=None,
            values=values,
            datetime_start=dt(table.datetime_start[i]),
            datetime_complete=dt(table.datetime_complete[i]),
            params={p: decoded[p][i] for p in PARAMS},
            distributions=dists,
            user_attrs={},
            system_attrs={},
            intermediate_values=reports.get(int(table.number[i]), {}),
            trial_id=int(table.trial_id[i]),
        )
        info.trials.append(trial)
        storage._trial_id_to_study_id_and_number[trial._trial_id] = (study_id, trial.number)
    storage._max_trial_id = int(table.trial_id.max())
    return study


class Timeout(Exception):
    pass


def timed_reference(fn, cap: float):
    def alarm(*_):
        raise Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, cap)
    t, c = time.perf_counter(), time.process_time()
    try:
        fn()
        return time.perf_counter() - t, time.process_time() - c
    except Timeout:
        return None, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--cap", type=float, default=60.0, help="seconds before a reference is stopped")
    parser.add_argument("--contour-trials", type=int, default=2000)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")

    folder = Path(tempfile.mkdtemp(prefix="optgui-bench-plots-"))

    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # (a large study file is made in it)
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    db = folder / "big.db"
    t = time.perf_counter()
    build_study(db, "big", args.trials, ["minimize"], 1)
    build_study(db, "big-mo", args.trials, ["minimize", "minimize"], 2)
    build_study(db, "big-b", args.trials // 10, ["minimize"], 3)
    print(
        f"Built studies of {args.trials:,} (1 and 2 objectives) and {args.trials // 10:,} trials, 5 params, "
        f"{STEPS} reports per complete trial, in {time.perf_counter() - t:.1f} s"
    )

    from PySide6.QtWidgets import QApplication

    from optgui.core.storage._reader import open_reader
    from optgui.qt import theme
    from optgui.qt.plots import importance as importance_module
    from optgui.qt.plots.panel import AnalysisPanel
    from optgui.qt.study.selection import TrialSelection
    from optgui.qt.tasks import tasks

    app = QApplication.instance() or QApplication([sys.argv[0]])
    theme.install(app, "light")
    reader = open_reader(str(db))
    summaries = {s.name: s for s in reader.studies()}
    t, c = time.perf_counter(), time.process_time()
    table = reader.trials("big")
    iv = reader.intermediate_values("big")
    print(
        f"Reading trials with params and intermediate values ({len(iv):,} reports) through the reader: "
        f"{time.perf_counter() - t:.2f} s wall, {time.process_time() - c:.2f} s CPU (once per study, not per plot)"
    )
    panel = AnalysisPanel(TrialSelection())
    panel.resize(1200, 760)
    panel.show()
    app.processEvents()

    def draw_time(key: str, study: str, repeats: int = 3):
        panel.open(reader, summaries[study])
        panel.source.table()
        panel.source.intermediate_values() if key == "intermediate-values" else None
        view = panel.show_view(key)
        if key == "compare" or key == "edf":
            view.redraw()
            view.set_checked(["big-b"])
        app.processEvents()
        walls, cpus = [], []
        for _ in range(repeats):
            if key == "importance":
                importance_module._cache.clear()
                view.pending_key = None
            t, c = time.perf_counter(), time.process_time()
            view.redraw()
            if key == "importance":
                tasks.wait_for_all()
                app.processEvents()
            view.canvas.viewport().repaint()
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        return statistics.median(walls), statistics.median(cpus), view.status.text()

    import optuna.visualization as vis

    ref_study = ref_mo = ref_b = None
    if not args.no_reference:
        t = time.perf_counter()
        ref_study = reference_study(table, iv, "big")
        ref_mo = reference_study(reader.trials("big-mo"), None, "big-mo")
        ref_b = reference_study(reader.trials("big-b"), None, "big-b")
        print(f"(Reference studies built in memory in {time.perf_counter() - t:.1f} s)")
    contour_study = None
    if ref_study is not None:
        contour_study = optuna.create_study(storage=optuna.storages.InMemoryStorage(), study_name="c")
        contour_study.add_trials(ref_study.trials[: args.contour_trials])

    hv_ref = None
    cases = [
        ("Intermediate values", "intermediate-values", "big", lambda: vis.plot_intermediate_values(ref_study), ""),
        ("Parallel coordinates", "parallel-coordinates", "big", lambda: vis.plot_parallel_coordinate(ref_study), ""),
        ("Slice (1 param)", "slice", "big", lambda: vis.plot_slice(ref_study, params=["x0"]), ""),
        ("Rank (1 pair)", "rank", "big", lambda: vis.plot_rank(ref_study, params=["x0", "x1"]), ""),
        (
            "Contour (1 pair)",
            "contour",
            "big",
            lambda: vis.plot_contour(contour_study, params=["x0", "x1"]),
            f"reference on the first {args.contour_trials:,} trials",
        ),
        ("Importance, PED-ANOVA", "importance", "big", lambda: vis.plot_param_importances(ref_study), ""),
        ("EDF (2 studies)", "edf", "big", lambda: vis.plot_edf([ref_study, ref_b]), ""),
        (
            "Pareto front + hypervolume",
            "pareto-front",
            "big-mo",
            lambda: (vis.plot_pareto_front(ref_mo), vis.plot_hypervolume_history(ref_mo, hv_ref)),
            "reference: plot_pareto_front + plot_hypervolume_history",
        ),
        ("Timeline (all trials)", "timeline", "big", lambda: vis.plot_timeline(ref_study), ""),
        (
            "Compare (history + EDF)",
            "compare",
            "big",
            lambda: (vis.plot_optimization_history([ref_study, ref_b]), vis.plot_edf([ref_study, ref_b])),
            "",
        ),
    ]
    print(
        f"\nDraw time, {args.trials:,}-trial study, 5 params (optgui: median of 3, redraw + repaint; "
        f"reference capped at {args.cap:.0f} s)"
    )
    print(f"{'plot':<28}{'optgui wall':>12}{'cpu':>8}{'optuna.visualization wall':>28}{'cpu':>9}{'ratio':>9}  notes")
    statuses = []
    for title, key, study, reference, note in cases:
        wall, cpu, status = draw_time(key, study)
        statuses.append((key, re.sub(r"<[^>]+>", "", status)))
        if key == "pareto-front":
            hv_ref = panel.views[key].reference
        if args.no_reference:
            ref_text, ref_cpu, ratio = "skipped", "", ""
        else:
            r_wall, r_cpu = timed_reference(reference, args.cap)
            if r_wall is None:
                ref_text, ref_cpu, ratio = f"> {args.cap:.0f} s (stopped)", "", f"> {args.cap / wall:.0f}x"
            else:
                ref_text, ref_cpu, ratio = f"{r_wall:.2f} s", f"{r_cpu:.2f} s", f"{r_wall / wall:.0f}x"
        print(f"{title:<28}{wall:>10.3f} s{cpu:>6.2f} s{ref_text:>28}{ref_cpu:>9}{ratio:>9}  {note}")
        sys.stdout.flush()
    print("\noptgui status lines (what each view says it drew):")
    for key, status in statuses:
        print(f"  {key:<22} {status}")
    reader.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
