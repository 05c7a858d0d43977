"""Scale benchmark: 1M- and 10M-trial studies in the real window, against the scale targets.

    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_large_studies [--cache DIR] [--sizes 1000000,10000000]
        [--timeout 600] [--memory-cap-gb 6]

Measured, each scenario in its own child process (so that each peak RSS is that scenario's own, and a scenario
that runs away is killed instead of taking the machine down: the parent polls the child's RSS and kills it above
--memory-cap-gb, or after --timeout seconds, and says so):

- open a 1M-trial study to the convergence plot drawn (target 1.5 s), then to a usable trials table: the trials tab
  shown with its first rows painted (target 5 s from the start of the open), a sort by value and a scroll to the
  bottom (each repainted), peak RSS (target 1 GB);
- one live update at 1M: 10 trials appended by SQL, `StudyView.refresh()` and the plot painted, median of 9,
  before and after the trials table is loaded (target 10 ms);
- switching between the 1M study and a 100-trial study of the same file (both sessions kept by the study view),
  plot tab and trials tab, median of 3 each way (target 0.5 s), peak RSS with both (target 1.5 GB); live updates
  and switches are measured once the window's reads in the worker thread are done (a large storage is counted there
  after its first plot);
- open a 10M-trial study to the convergence plot drawn (targets 15 s, 4 GB).

Large studies are written with direct SQL (real Optuna would take days): Optuna creates the file, the study and its
first trial (so the schema and the params' distribution JSON are Optuna's own), then one INSERT ... SELECT over a
recursive sequence per table appends the other trials (three params, values decreasing with noise, 90% COMPLETE,
7% PRUNED, 3% FAIL). Each file is then read back by Optuna (trial count, a sample of trials compared with the
formula). Files are cached in --cache (default: a folder in the system temp folder) and reused; a live-update
scenario works on a copy.
"""

from __future__ import annotations

import argparse
import json
import math
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
from typing import Any

# (what, target, unit) — the scale targets of the trial-store issue.
TARGETS = {
    "open_plot_1m": ("1M: open to convergence plot", 1.5, "s"),
    "open_plot_cpu_1m": ("  (CPU time of the process)", None, "s"),
    "open_table_1m": ("1M: open to usable trials table", 5.0, "s"),
    "open_table_cpu_1m": ("  (CPU time of the process)", None, "s"),
    "sort_1m": ("1M: sort by value (header click)", None, "s"),
    "scroll_1m": ("1M: scroll to the bottom", None, "s"),
    "rss_open_1m": ("1M: peak RSS, plot + table", 1024, "MB"),
    "live_plot_1m": ("1M: one live update (plot only)", 10.0, "ms"),
    "live_plot_cpu_1m": ("  (CPU time of the process)", None, "ms"),
    "live_table_1m": ("1M: one live update (plot + table)", 10.0, "ms"),
    "live_table_cpu_1m": ("  (CPU time of the process)", None, "ms"),
    "switch_plot": ("switch 1M <-> 100 trials, plot tab", 0.5, "s"),
    "switch_plot_cpu": ("  (CPU time of the process)", None, "s"),
    "switch_table": ("switch 1M <-> 100 trials, trials tab", 0.5, "s"),
    "switch_table_cpu": ("  (CPU time of the process)", None, "s"),
    "rss_switch": ("switch: peak RSS with both sessions", 1536, "MB"),
    "open_plot_10m": ("10M: open to convergence plot", 15.0, "s"),
    "open_plot_cpu_10m": ("  (CPU time of the process)", None, "s"),
    "rss_open_10m": ("10M: peak RSS", 4096, "MB"),
}
BIG, SMALL = "big", "small"
EPOCH = 1767225600  # 2026-01-01 00:00:00 UTC: trial i starts i seconds later and lasts one second


# --- building the studies ----------------------------------------------------------------------------------------

# Deterministic pseudo-random numbers in SQL: a multiplicative hash of the trial number, in [0, 1).
_U = "(((:n0 + i) * {m}) % 1000003) / 1000003.0"
_STATE_U = _U.format(m=7919)
_STATE = f"CASE WHEN {_STATE_U} < 0.90 THEN 'COMPLETE' WHEN {_STATE_U} < 0.97 THEN 'PRUNED' ELSE 'FAIL' END"
_SEQUENCE = "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :k) "


def append_trials(path: Path, k: int, chunk: int = 1_000_000) -> None:
    """Append k trials to the study BIG with three INSERT ... SELECT statements per chunk (no Python per row)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")  # only how this process writes: the file stays a normal database
    ((study_id,),) = con.execute("SELECT study_id FROM studies WHERE study_name = ?", (BIG,))
    dists = dict(con.execute("SELECT param_name, distribution_json FROM trial_params WHERE trial_id = 1"))
    done = 0
    while done < k:
        size = min(chunk, k - done)
        ((top,),) = con.execute("SELECT MAX(number) FROM trials WHERE study_id = ?", (study_id,))
        ((max_id,),) = con.execute("SELECT MAX(trial_id) FROM trials")
        ((max_param,),) = con.execute("SELECT MAX(param_id) FROM trial_params")
        ((max_value,),) = con.execute("SELECT MAX(trial_value_id) FROM trial_values")
        args = {"k": size, "n0": top + 1, "id0": max_id + 1, "sid": study_id}
        with con:
            con.execute(
                _SEQUENCE + "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete)"
                f" SELECT :id0 + i, :n0 + i, :sid, {_STATE},"
                " strftime('%Y-%m-%d %H:%M:%S', :epoch + :n0 + i, 'unixepoch') || '.000000',"
                " strftime('%Y-%m-%d %H:%M:%S', :epoch + :n0 + i + 1, 'unixepoch') || '.000000' FROM seq",
                {**args, "epoch": EPOCH},
            )
            value = f"10.0 / sqrt(1.0 + :n0 + i) * (0.1 + 3.0 * {_U.format(m=104729)} * {_U.format(m=104729)})"
            con.execute(
                _SEQUENCE + "INSERT INTO trial_values (trial_value_id, trial_id, objective, value, value_type)"
                f" SELECT :v0 + i, :id0 + i, 0, {value}, 'FINITE' FROM seq WHERE {_STATE} != 'FAIL'",
                {**args, "v0": max_value + 1},
            )
            for p, (name, expression) in enumerate(_PARAMS.items()):
                con.execute(
                    _SEQUENCE + "INSERT INTO trial_params (param_id, trial_id, param_name, param_value,"
                    f" distribution_json) SELECT :p0 + 3 * i + {p}, :id0 + i, :name, {expression}, :dist FROM seq",
                    {**args, "p0": max_param + 1, "name": name, "dist": dists[name]},
                )
        done += size
    con.close()


_PARAMS = {
    "x": f"-10.0 + 20.0 * {_U.format(m=15485863)}",
    "y": f"-10.0 + 20.0 * {_U.format(m=32452843)}",
    "kind": "CAST(((:n0 + i) * 49979687) % 3 AS REAL)",
}


def expected_trial(number: int) -> dict[str, Any]:
    """The formula of append_trials in Python, for checking what Optuna reads back."""

    def u(m: int) -> float:
        return ((number * m) % 1000003) / 1000003.0

    state = "COMPLETE" if u(7919) < 0.90 else "PRUNED" if u(7919) < 0.97 else "FAIL"
    value = 10.0 / math.sqrt(1.0 + number) * (0.1 + 3.0 * u(104729) * u(104729))
    params = {"x": -10.0 + 20.0 * u(15485863), "y": -10.0 + 20.0 * u(32452843), "kind": "abc"[(number * 49979687) % 3]}
    return {"state": state, "value": None if state == "FAIL" else value, "params": params}


def build_study(path: Path, n: int) -> None:
    """A file with the study BIG of n trials (and SMALL, 100 trials made by Optuna)."""
    import optuna

    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        url = f"sqlite:///{tmp}"
        big = optuna.create_study(storage=url, study_name=BIG, sampler=optuna.samplers.RandomSampler(0))
        big.optimize(_objective, n_trials=1)
        small = optuna.create_study(storage=url, study_name=SMALL, sampler=optuna.samplers.RandomSampler(1))
        small.optimize(_objective, n_trials=100)
    append_trials(tmp, n - 1)
    check_with_optuna(tmp, n)
    tmp.rename(path)


def _objective(trial) -> float:
    x = trial.suggest_float("x", -10.0, 10.0)
    y = trial.suggest_float("y", -10.0, 10.0)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    return x * x + y * y + "abc".index(kind)


def check_with_optuna(path: Path, n: int) -> None:
    """Optuna reads the file back: the trial count and a sample of trials equal the formula."""
    import optuna
    from optuna.storages import RDBStorage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        storage = RDBStorage(f"sqlite:///{path}")
        study = optuna.load_study(study_name=BIG, storage=storage)
        # Not get_n_trials: RDBStorage counts by loading every trial (minutes and GBs at 1M). Numbers are
        # consecutive, so the last number being there and the next one not is the count.
        storage.get_trial_id_from_study_id_trial_number(study._study_id, n - 1)
        try:
            storage.get_trial_id_from_study_id_trial_number(study._study_id, n)
        except KeyError:
            pass
        else:
            raise AssertionError(f"Optuna reads more than {n} trials")
        for number in (1, 2, n // 2, n - 1):
            frozen = storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study._study_id, number))
            want = expected_trial(number)
            assert frozen.state.name == want["state"], (number, frozen.state)
            # SQLite's arithmetic may differ from Python's in the last bits: compare closely, not exactly.
            got = {"value": frozen.value if frozen.values else None, **frozen.params}
            assert _close(got, {"value": want["value"], **want["params"]}), (number, got, want)
        storage.remove_session()


def _close(got: dict[str, Any], want: dict[str, Any]) -> bool:
    if got.keys() != want.keys():
        return False
    return all(
        math.isclose(v, want[k], rel_tol=1e-12) if isinstance(v, float) else v == want[k] for k, v in got.items()
    )


def cached_study(folder: Path, n: int) -> Path:
    path = folder / f"scale-{n}.db"
    if not path.exists():
        t = time.perf_counter()
        build_study(path, n)
        print(f"built {path.name}: {n:,} trials in {time.perf_counter() - t:.1f} s ({path.stat().st_size >> 20} MB)")
    return path


# --- measuring in a child process ----------------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _window(app):
    from optgui.qt.settings import Settings
    from optgui.qt.window.main_window import MainWindow

    window = MainWindow(Settings())
    window.resize(1280, 800)
    window.show()
    window.study_list.live.setChecked(False)
    app.processEvents()
    return window


def _shown(app, widget) -> None:
    app.processEvents()
    widget.viewport().repaint()


def _settle(app, window, timeout: float = 300.0) -> None:
    """Wait until the window's reads in the worker thread are done (a large storage's study list is counted after
    the first plot): a live update is measured in the steady state, not against that read."""
    deadline = time.monotonic() + timeout
    while window.study_view.reads.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


def _progress(out: dict[str, float]) -> None:
    """Everything measured so far (the parent keeps the last line: a scenario killed later keeps these)."""
    print("RESULT " + json.dumps(out), flush=True)


def measure_open(app, db: Path, n: int, live: bool, table: bool) -> dict[str, float]:
    from PySide6.QtCore import Qt

    window = _window(app)
    view, bench = window.study_view, window.workbench
    t0, cpu0 = time.perf_counter(), time.process_time()
    window.open_storage(str(db), BIG)
    _shown(app, view.plot.view)
    # CPU time of the whole process next to wall time: on a machine shared with other work, wall time is mostly
    # waiting for a core.
    out = {"open_plot": time.perf_counter() - t0, "open_plot_cpu": time.process_time() - cpu0}
    assert view.data.n >= n, "the plot does not hold every trial"
    out["rss"] = _peak_rss_mb()
    _progress(out)
    if live:
        _settle(app, window)
        out["live_plot"], out["live_plot_cpu"] = _live_updates(app, db, window)
        _progress(out)
    if not table:
        return out
    t1, cpu1 = time.perf_counter(), time.process_time()
    bench.show_tab(bench.trials_page)
    _shown(app, bench.table.view)
    out["open_table"] = out["open_plot"] + time.perf_counter() - t1
    out["open_table_cpu"] = out["open_plot_cpu"] + time.process_time() - cpu1
    assert bench.table.model.rowCount() >= n, "the table does not hold every trial"
    out["rss"] = _peak_rss_mb()
    _progress(out)
    header = bench.table.view.horizontalHeader()
    t = time.perf_counter()
    header.setSortIndicator(bench.table.model.column_index("value"), Qt.SortOrder.DescendingOrder)
    _shown(app, bench.table.view)
    out["sort"] = time.perf_counter() - t
    t = time.perf_counter()
    bench.table.view.scrollToBottom()
    _shown(app, bench.table.view)
    out["scroll"] = time.perf_counter() - t
    if live:
        _settle(app, window)  # (the params of the table are read in the worker thread)
        out["live_table"], out["live_table_cpu"] = _live_updates(app, db, window)
    out["rss"] = _peak_rss_mb()
    window.verifier.cancel()
    window.close()
    return out


def _live_updates(app, db: Path, window) -> tuple[float, float]:
    """Median wall and CPU time (ms) of 9 updates of 10 new trials: poll, merge, and what is shown painted by the
    event loop (a forced repaint on top of that would count a paint twice). When the plot is shown it must have
    been painted."""
    plot = window.study_view.plot.view
    from tests.support.qt_tables import PaintCounter

    paints = PaintCounter(plot.viewport())
    times, cpu = [], []
    for _ in range(9):
        append_trials(db, 10)
        paints.count = 0
        t, c = time.perf_counter(), time.process_time()
        assert window.study_view.refresh() == 10
        app.processEvents()  # the poll's signals, then the paints they asked for
        app.processEvents()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if plot.isVisible():
            assert paints.count >= 1, "the plot was not painted"
    return 1000 * statistics.median(times), 1000 * statistics.median(cpu)


def measure_switch(app, db: Path) -> dict[str, float]:
    window = _window(app)
    view, bench = window.study_view, window.workbench
    window.open_storage(str(db), BIG)
    _shown(app, view.plot.view)
    _settle(app, window)  # switching between kept sessions, not against the count of a large storage
    out = {}
    for tab, key in ((None, "switch_plot"), (bench.trials_page, "switch_table")):
        if tab is not None:
            bench.show_tab(tab)
            _shown(app, bench.table.view)
        times, cpu = [], []
        for _ in range(3):
            for name in (SMALL, BIG):
                t, c = time.perf_counter(), time.process_time()
                window.open_study(name)
                _shown(app, view.plot.view)
                if tab is not None:
                    _shown(app, bench.table.view)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                assert view.summary.name == name
        out[key] = statistics.median(times)
        out[key + "_cpu"] = statistics.median(cpu)
    out["rss"] = _peak_rss_mb()
    window.verifier.cancel()
    window.close()
    return out


def child_main(scenario: str, db: Path, n: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import optuna

    from optgui.qt import dialogs
    from optgui.qt.window import app as qt_app

    app = qt_app.create_application([sys.argv[0]])
    qt_app.setup(app)
    sys.excepthook = sys.__excepthook__
    dialogs.error = lambda parent, title, text, details="": print(f"[dialog] {title}: {text}", file=sys.stderr)
    dialogs.choose = lambda *a, **k: 0
    dialogs.confirm = lambda *a, **k: True
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if scenario == "switch":
        result = measure_switch(app, db)
    else:
        result = measure_open(app, db, n, live=scenario == "open-live", table=scenario == "open-live")
    _progress(result)


def run_child(args, scenario: str, db: Path, n: int, folder: Path, code: Path | None = None) -> dict[str, Any]:
    """The scenario in a child process, killed above the memory cap or after the timeout; with `code`, the optgui
    package of that source tree is measured (this script's scenarios either way)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # The child runs this file by its path: its folder, not the checkout, would come first on its import path,
    # and the scenarios import the tests' support modules.
    checkout = Path(__file__).resolve().parents[2]
    roots = (str(code) if code is not None else "", str(checkout), env.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(p for p in roots if p)
    env.setdefault("OPTGUI_DATA_DIR", str(folder / "data"))
    env.setdefault("OPTGUI_CACHE_DIR", str(folder / "cache"))
    env.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", scenario, str(db), str(n)]
    cap_kb = int(args.memory_cap_gb * 1024 * 1024)
    started = time.monotonic()
    peak_kb = 0
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        failure = None
        while proc.poll() is None:
            rss_kb = _rss_kb(proc.pid)
            peak_kb = max(peak_kb, rss_kb)
            if rss_kb > cap_kb:
                failure = f"killed: RSS {rss_kb >> 10} MB over the cap of {args.memory_cap_gb:g} GB"
            elif time.monotonic() - started > args.timeout:
                failure = f"killed: still running after {args.timeout:g} s"
            if failure:
                proc.kill()
                proc.wait()
                break
            time.sleep(0.1)
        out.seek(0)
        text = out.read()
    elapsed = time.monotonic() - started
    results = [json.loads(line[len("RESULT ") :]) for line in text.splitlines() if line.startswith("RESULT ")]
    measured = results[-1] if results else {}
    if failure is None and proc.returncode == 0:
        return measured
    tail = " | ".join(line for line in text.strip().splitlines()[-3:] if not line.startswith("RESULT "))
    reason = failure or f"exit {proc.returncode}: {tail}"
    return {**measured, "failed": f"{reason} (after {elapsed:.0f} s, peak RSS seen {peak_kb >> 10} MB)"}


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- the report ------------------------------------------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def report(results: dict[str, float | str], sizes: list[int], baseline: dict[str, float | str] | None = None) -> None:
    """Each figure against its target; with a baseline (--against), the baseline's figure and new / baseline."""
    extra = f"{'baseline':>12}{'vs base':>9}" if baseline is not None else ""
    print(f"{'':<44}{'measured':>12}{'target':>10}{'ratio':>8}{'':<6}{extra}")
    for key, (label, target, unit) in TARGETS.items():
        # The labels name the target sizes; a run with other --sizes names its own.
        what = label.replace("10M", _size(sizes[-1])).replace("1M", _size(sizes[0]))
        got = results.get(key)
        if got is None:
            continue
        base = baseline.get(key) if baseline is not None else None
        versus = ""
        if isinstance(base, float | int):
            versus = f"{base:>10.3f} {unit:<2}" + (
                f"{got / base:>7.2f}x" if isinstance(got, float | int) and base else ""
            )
        elif isinstance(base, str):
            versus = f"  baseline: {base}"
        if isinstance(got, str):
            print(f"{what:<44}  {got}{versus}")
            continue
        if target is None:
            print(f"{what:<44}{got:>10.3f} {unit:<2}{'':<24}{versus}")
            continue
        ratio = got / target
        verdict = "ok" if ratio <= 1 else "OVER"
        print(f"{what:<44}{got:>10.3f} {unit:<2}{target:>7g} {unit:<2}{ratio:>6.2f}  {verdict:<4}{versus}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "optgui-bench-scale")
    parser.add_argument("--sizes", default="1000000,10000000", help="study sizes (the first is 'the 1M study')")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per scenario before it is killed")
    parser.add_argument("--memory-cap-gb", type=float, default=6.0, help="RSS above which a scenario is killed")
    parser.add_argument(
        "--large-only", action="store_true", help="only the larger sizes' open-to-plot (skip the 1M scenarios)"
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="a source tree of optgui (e.g. an unpacked `git archive main`) measured first, in the same run, as the "
        "baseline of each figure",
    )
    parser.add_argument("--child", nargs=3, metavar=("SCENARIO", "DB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child[0], Path(args.child[1]), int(args.child[2]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    args.cache.mkdir(parents=True, exist_ok=True)
    print(
        f"optgui scale benchmark: {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; cache {args.cache}; each scenario in a child process "
        f"(killed above {args.memory_cap_gb:g} GB RSS or after {args.timeout:g} s)"
    )
    baseline = None
    if args.against is not None:
        print(f"baseline: the optgui of {args.against}")
        baseline = measure_all(args, sizes, args.against.resolve())
    results = measure_all(args, sizes, None)
    report(results, sizes, baseline)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def measure_all(args, sizes: list[int], code: Path | None) -> dict[str, float | str]:
    """Every scenario, each in its child process, with the optgui of `code` (None: this tree's)."""
    results: dict[str, float | str] = {}
    work = Path(tempfile.mkdtemp(prefix="optgui-bench-scale-"))
    try:
        if not args.large_only:
            n = sizes[0]
            db = cached_study(args.cache, n)
            live_copy = work / "live.db"
            shutil.copyfile(db, live_copy)  # live updates append trials: never to the cached file
            opened = run_child(args, "open-live", live_copy, n, work, code)
            _collect(
                results,
                opened,
                {
                    "open_plot": "open_plot_1m",
                    "open_table": "open_table_1m",
                    "open_plot_cpu": "open_plot_cpu_1m",
                    "open_table_cpu": "open_table_cpu_1m",
                    "sort": "sort_1m",
                    "scroll": "scroll_1m",
                    "rss": "rss_open_1m",
                    "live_plot": "live_plot_1m",
                    "live_table": "live_table_1m",
                    "live_plot_cpu": "live_plot_cpu_1m",
                    "live_table_cpu": "live_table_cpu_1m",
                },
            )
            switched = run_child(args, "switch", db, n, work, code)
            names = ("switch_plot", "switch_plot_cpu", "switch_table", "switch_table_cpu")
            _collect(results, switched, {**{k: k for k in names}, "rss": "rss_switch"})
        for n_big in sizes[1:]:
            db = cached_study(args.cache, n_big)
            opened = run_child(args, "open-plot", db, n_big, work, code)
            _collect(
                results,
                opened,
                {"open_plot": "open_plot_10m", "open_plot_cpu": "open_plot_cpu_10m", "rss": "rss_open_10m"},
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _collect(results: dict[str, float | str], measured: dict[str, Any], names: dict[str, str]) -> None:
    """Measured values under their report names; what a failed scenario did not reach gets its failure."""
    for key, name in names.items():
        if key in measured:
            results[name] = measured[key]
        elif "failed" in measured:
            results[name] = measured["failed"]


if __name__ == "__main__":
    sys.exit(main())
