"""Scale benchmark of the GUI's trial store: a study of N trials (1M by default) opened in the real window.

    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_scale [--trials 1000000] [--repeats 1]
        [--against SOURCE_FOLDER]   # also run the same steps with another optgui source (e.g. `git archive main`)

Measured, each with the peak RSS after it (the process's high-water mark, so later figures include earlier ones):
open to the convergence plot drawn; to a usable trials table (the table bound to the session's store and drawn)
and to its params columns (read into the store, from a worker thread for a large study); one live update of 10
new trials (poll + store + plot + table + repaint); switching to a
100-trial study of the same file and back (the big study's session is kept: switching back costs a poll).

With --against, the steps run once with each code base on the same file, in separate processes (each its own
peak RSS), and the figures are printed side by side with ratios. Without it, the old path of the trials table is
shown side by side in the same run: the table read as an immutable TrialTable and
copied into a TrialFrame of the table's own (what the window did before the store was the one copy), reported as a
ratio. Targets (issue 18): plot <= 1.5 s, table <= 5 s and <= 1 GB at 1M; live update <= 10 ms; switch <= 0.5 s
within 1.5 GB; 10M opens at all (plot <= 15 s, <= 4 GB).

Studies are written with direct SQL into a file Optuna made (and reads back): real Optuna would take days.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import optuna  # noqa: E402

CHUNK = 500_000  # rows per executemany: a 10M-row list of tuples would take gigabytes by itself


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(path: Path, n: int) -> None:
    """Optuna makes two studies ("big" and "small", one trial each, with param x); the rest goes in by SQL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        for name in ("big", "small"):
            study = optuna.create_study(storage=f"sqlite:///{path}", study_name=name)
            study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=1)
    append_trials(path, "big", n - 1)
    append_trials(path, "small", 99)


def append_trials(path: Path, study: str, k: int, params: bool = True) -> None:
    """k trials more, each with a value and (unless `params` is false) param x (90% COMPLETE, 7% PRUNED, 3% FAIL),
    written in slices: the benchmark's own memory stays small (its peak RSS is the GUI's)."""
    con = sqlite3.connect(path)
    with con:
        ((study_id,),) = con.execute("SELECT study_id FROM studies WHERE study_name = ?", (study,))
        ((top,),) = con.execute("SELECT MAX(number) FROM trials WHERE study_id = ?", (study_id,))
        ((max_id,),) = con.execute("SELECT MAX(trial_id) FROM trials")
        ((max_param,),) = con.execute("SELECT COALESCE(MAX(param_id), 0) FROM trial_params")
        ((dist,),) = con.execute("SELECT distribution_json FROM trial_params LIMIT 1")
        start = "2026-01-01 00:00:00.000000"
        for first in range(0, k, CHUNK):
            m = min(CHUNK, k - first)
            rng = np.random.default_rng(first + k)
            ids = max_id + 1 + first + np.arange(m)
            numbers = top + 1 + first + np.arange(m)
            states = rng.choice(np.array(["COMPLETE"] * 90 + ["PRUNED"] * 7 + ["FAIL"] * 3), size=m)
            con.executemany(
                "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                zip(
                    ids.tolist(),
                    numbers.tolist(),
                    [study_id] * m,
                    states.tolist(),
                    [start] * m,
                    [start] * m,
                    strict=False,
                ),
            )
            values = 10.0 / (1 + numbers) ** 0.5 * rng.lognormal(0, 1, m)
            keep = states != "FAIL"
            con.executemany(
                "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, 'FINITE')",
                zip(ids[keep].tolist(), values[keep].tolist(), strict=False),
            )
            if not params:
                continue
            x = rng.uniform(-1, 1, m)
            con.executemany(
                "INSERT INTO trial_params (param_id, trial_id, param_name, param_value, distribution_json)"
                " VALUES (?, ?, 'x', ?, ?)",
                zip(
                    (max_param + 1 + first + np.arange(m)).tolist(), ids.tolist(), x.tolist(), [dist] * m, strict=False
                ),
            )
    con.close()


def old_table_path(path: Path, n_rows: int) -> tuple[float, float]:
    """The trials table as it was read before: a TrialTable, then a TrialFrame copy of it. (seconds, MB held)"""
    from optgui.core.storage._reader import open_reader
    from optgui.core.storage._trial_frame import TrialFrame

    before = current_rss_mb()
    t = time.perf_counter()
    with open_reader(str(path)) as reader:
        table = reader.trials("big")
        frame = TrialFrame(table.directions, capacity=max(1024, len(table) + 1024))
        frame.load(table)
    seconds = time.perf_counter() - t
    held = current_rss_mb() - before
    assert frame.n >= n_rows
    del table, frame
    return seconds, held


def measure(path: Path, n_trials: int, repeats: int, with_table: bool = True) -> dict:
    """The steps in the real window, in this process: {step: [seconds, ...], "rss ...": MB}."""
    from optgui.qt.window import app as qt_app

    app = qt_app.create_application([sys.argv[0]])
    qt_app.setup(app)
    sys.excepthook = sys.__excepthook__
    from optgui.qt import dialogs
    from optgui.qt.settings import Settings
    from optgui.qt.window.main_window import MainWindow

    dialogs.error = lambda parent, title, text, details="": print(f"[dialog] {title}: {text}", file=sys.stderr)
    dialogs.confirm = lambda *a, **k: True
    rows: dict = {}

    def note(name: str, seconds: float) -> None:
        rows.setdefault(name, []).append(seconds)

    for _ in range(repeats):
        window = MainWindow(Settings())
        window.resize(1280, 800)
        window.show()
        window.study_list.live.setChecked(False)
        window.study_view.auto_verify = False
        app.processEvents()
        view, bench = window.study_view, window.workbench
        t = time.perf_counter()
        window.open_storage(str(path), "big")
        view.plot.view.viewport().repaint()
        note("open to the convergence plot", time.perf_counter() - t)
        rows["rss after the plot (MB)"] = rss_mb()
        if with_table:
            t = time.perf_counter()
            bench.show_tab(bench.trials_page)
            app.processEvents()
            bench.table.view.viewport().repaint()
            note("then to a usable trials table", time.perf_counter() - t)
            assert bench.loaded and bench.table.model.frame.n >= n_trials
            store = getattr(view.session, "store", None)
            if store is not None:  # params read in the worker thread: wait for their columns
                while not store.params_loaded:
                    app.processEvents()
                    time.sleep(0.005)
                bench.table.view.viewport().repaint()
            note("  and with its params columns", time.perf_counter() - t)
            rows["rss with the table (MB)"] = rss_mb()
            bench.show_tab(view.plot)
        for _ in range(5):
            append_trials(path, "big", 10)
            t = time.perf_counter()
            n = view.refresh()
            view.plot.view.viewport().repaint()
            note("one live update, 10 new trials", time.perf_counter() - t)
            assert n == 10
        for _ in range(3):
            for name in ("small", "big"):
                t = time.perf_counter()
                assert window.study_list.select(name)
                app.processEvents()
                view.plot.view.viewport().repaint()
                note(f"switch to {name}", time.perf_counter() - t)
                assert view.summary.name == name
        rows["rss after switching (MB)"] = rss_mb()
        window.verifier.cancel()
        window.close()
        app.processEvents()
    return rows


def show(results: dict[str, dict]) -> None:
    labels = list(results)
    print(f"{'':<34}" + "".join(f"{label:>14}" for label in labels) + ("   ratio" if len(labels) == 2 else ""))
    steps = list(dict.fromkeys(step for label in labels for step in results[label]))
    for step in steps:
        cells = []
        for label in labels:
            value = results[label].get(step)
            cells.append(statistics.median(value) if isinstance(value, list) else value)
        text = "".join(f"{c:14.3f}" if c is not None else f"{'-':>14}" for c in cells)
        ratio = f"   {cells[1] / cells[0]:.2f}" if len(cells) == 2 and cells[0] and cells[1] is not None else ""
        print(f"  {step:<32}{text}{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--file", help="a study file this benchmark built before (skips the build)")
    parser.add_argument("--against", help="another optgui source folder to run the same steps with")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-old-path", action="store_true", help="skip the old table path (saves memory at 10M)")
    parser.add_argument("--plot-only", action="store_true", help="skip the trials table (its full read, at 10M)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="optgui-scale-"))

    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # (a large study file is made in it)
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    os.environ.setdefault("OPTGUI_DATA_DIR", str(folder / "data"))
    if args.measure_only:
        print("RESULT " + json.dumps(measure(Path(args.file), args.trials, args.repeats, not args.plot_only)))
        return 0
    path = Path(args.file) if args.file else folder / "scale.db"
    if not args.file:
        t = time.perf_counter()
        build(path, args.trials)
        print(f"Built a {args.trials}-trial study (and a 100-trial one) in {time.perf_counter() - t:.1f} s")
    print(f"optgui scale benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    if args.against:
        results = {}
        for label, source in (("before", args.against), ("now", None)):
            env = dict(os.environ)
            if source:
                env["PYTHONPATH"] = os.path.abspath(source)
            command = [sys.executable, os.path.abspath(__file__), "--measure-only", "--file", str(path)]
            command += ["--trials", str(args.trials), "--repeats", str(args.repeats)]
            command += ["--plot-only"] if args.plot_only else []
            out = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, check=True).stdout
            results[label] = json.loads(next(line[7:] for line in out.splitlines() if line.startswith("RESULT ")))
        print(f"{args.trials} trials, seconds (median of {args.repeats}) and peak RSS, the code before and now:")
        show(results)
        print(f"Load average at the end {os.getloadavg()[0]:.2f}")
        return 0
    rows = measure(path, args.trials, args.repeats, not args.plot_only)
    show({"now": rows})
    if not (args.no_old_path or args.plot_only):
        seconds, held = old_table_path(path, args.trials)
        table = statistics.median(rows["then to a usable trials table"])
        print(
            f"Old table path (TrialTable read + TrialFrame copy, beside the plot's own columns): {seconds:.3f} s, "
            f"+{held:.0f} MB; new/old time ratio {table / seconds:.2f}"
        )
    print(f"Peak RSS {rss_mb():.0f} MB; load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
