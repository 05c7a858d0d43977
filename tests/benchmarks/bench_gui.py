"""GUI benchmark: event-loop lateness without and during a TPE run, opening a 100k-trial study, one live update.

    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_gui [--trials 1000] [--repeats 3]

Lateness is how late a 10 ms QTimer fires (p50/p99/max, median over the repeats), during the run and the 2.5 s
after it ends. The run goes through the real window (study view, run controller, live plot, badge), so the numbers
include the GUI's own per-update work; the engine runs in its own process, as in the application. The GUI thread's
CPU time is printed next to wall times (it does not grow when other processes load the machine), with the load
average.
"GC untuned" repeats one run without the collector tuning the app applies (gc.freeze() after start-up; during a
run, collections paced by the GUI's flush timer instead of automatic ones), as the baseline in the same process.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
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
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402

TICK_MS = 10
# The lateness of a run includes what follows its end: the last reads, the verifier's start and first polls, the
# deferred full garbage collection (optgui.qt.run.run_controller.FULL_COLLECTION_AFTER_MS).
AFTER_RUN_SECONDS = 2.5
SETTLE_SECONDS = 1.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lateness(app, until, max_seconds: float) -> np.ndarray:
    """Run the event loop with a 10 ms precise timer until `until()` is true; lateness of each tick in ms."""
    samples = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    last = [None]

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None:
            samples.append(now - last[0] - TICK_MS)
        last[0] = now

    timer.timeout.connect(tick)
    loop = QEventLoop()
    deadline = time.monotonic() + max_seconds
    check = QTimer()
    check.timeout.connect(lambda: (until() or time.monotonic() > deadline) and loop.quit())
    clock.start()
    timer.start()
    check.start(50)
    loop.exec()  # the real event loop, as in the application
    check.stop()
    timer.stop()
    return np.maximum(np.array(samples), 0.0)


def settle(seconds: float) -> None:
    """Run the event loop for a while (first paints, background reads of a newly opened window)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def stats(a: np.ndarray) -> tuple[float, float, float]:
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.max())


def make_window():
    from optgui.qt.settings import Settings
    from optgui.qt.window.main_window import MainWindow

    window = MainWindow(Settings())
    window.resize(1280, 800)
    window.show()
    window.study_list.live.setChecked(False)
    return window


def timed_run(app, folder: Path, n_trials: int, index: int, tuned: bool):
    from optgui.qt.window.main_window import define_study

    db = folder / f"run{index}.db"
    define_study(
        storage=str(db),
        study_name="bench",
        objective="builtin:quadratic",
        sampler="TPESampler(seed=1)",
        n_trials=n_trials,
    )
    window = make_window()
    window.open_storage(str(db), "bench")
    settle(SETTLE_SECONDS)  # the window is shown and laid out before anyone can click Start
    import optgui.qt.run.run_controller as rc

    rc.PACE_COLLECTOR = tuned
    if not tuned:
        gc.unfreeze()
    else:
        gc.collect()
        gc.freeze()
    view = window.study_view
    updates = [0]
    window.controller.trials_landed.connect(lambda *_: updates.__setitem__(0, updates[0] + 1))
    t0 = time.monotonic()
    cpu0 = time.thread_time()
    ended: list[float] = []

    def run_over_and_settled() -> bool:
        if window.controller.active or window.controller.state == "starting":
            return False
        if not ended:
            ended.append(time.monotonic())
        return time.monotonic() - ended[0] >= AFTER_RUN_SECONDS

    view.panel.buttons["Resume" if view.panel.resume_action.isEnabled() else "Start"].click()
    samples = lateness(app, run_over_and_settled, max_seconds=900)
    elapsed = ended[0] - t0 if ended else time.monotonic() - t0
    cpu_per_update = (time.thread_time() - cpu0) / max(updates[0], 1)
    rc.PACE_COLLECTOR = True
    done = view.data.counts()["COMPLETE"]
    window.verifier.cancel()
    window.close()
    return samples, elapsed, done, cpu_per_update


def build_large_study(path: Path, n: int) -> None:
    """Optuna makes the study; trials go in with one executemany (add_trials would take ~13 ms per trial)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(storage=f"sqlite:///{path}", study_name="big")
        study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=1)
    append_trials(path, n - 1)


def append_trials(path: Path, k: int) -> None:
    rng = np.random.default_rng(len(str(path)) + k)
    con = sqlite3.connect(path)
    with con:
        ((study_id,),) = con.execute("SELECT study_id FROM studies WHERE study_name = 'big'")
        ((top,),) = con.execute("SELECT MAX(number) FROM trials WHERE study_id = ?", (study_id,))
        ((max_id,),) = con.execute("SELECT MAX(trial_id) FROM trials")
        start = "2026-01-01 00:00:00.000000"
        states = rng.choice(["COMPLETE"] * 90 + ["PRUNED"] * 7 + ["FAIL"] * 3, size=k)
        con.executemany(
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(max_id + 1 + i, top + 1 + i, study_id, str(states[i]), start, start) for i in range(k)],
        )
        values = 10.0 / (1 + np.arange(top + 1, top + 1 + k)) ** 0.5 * rng.lognormal(0, 1, k)
        con.executemany(
            "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, 'FINITE')",
            [(max_id + 1 + i, float(values[i])) for i in range(k) if states[i] != "FAIL"],
        )
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="optgui-bench-"))
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    os.environ.setdefault("OPTGUI_DATA_DIR", str(folder / "data"))
    from optgui.qt.window import app as qt_app

    app = qt_app.create_application([sys.argv[0]])
    qt_app.setup(app)
    sys.excepthook = sys.__excepthook__
    from optgui.qt import dialogs

    # Nothing may wait for a click here: errors are printed, questions take their default answer.
    dialogs.error = lambda parent, title, text, details="": print(f"[dialog] {title}: {text}", file=sys.stderr)
    dialogs.choose = lambda *a, **k: 0
    dialogs.confirm = lambda *a, **k: True
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    print(
        f"optgui GUI benchmark: {os.cpu_count()} CPUs, Qt platform {app.platformName()}, "
        f"median of {args.repeats}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    idle_rows, run_rows, run_info = [], [], []
    for r in range(args.repeats):
        window = make_window()
        idle_rows.append(stats(lateness(app, lambda: False, max_seconds=3.0)))
        window.close()
        samples, elapsed, done, cpu = timed_run(app, folder, args.trials, r, tuned=True)
        run_rows.append(stats(samples))
        run_info.append((elapsed, done, cpu))
    untuned, u_elapsed, _, _ = timed_run(app, folder, args.trials, 99, tuned=False)
    gc.collect()
    gc.freeze()

    def row(name, rows):
        med = [statistics.median(col) for col in zip(*rows, strict=False)]
        print(f"  {name:<34} p50 {med[0]:6.2f} ms   p99 {med[1]:6.2f} ms   max {med[2]:6.2f} ms")

    print(f"Event-loop lateness of a {TICK_MS} ms timer:")
    row("no run", idle_rows)
    row(f"TPE run, {args.trials} trials, SQLite", run_rows)
    row("  same, GC untuned (1 run)", [stats(untuned)])
    print(
        f"  run time {statistics.median(e for e, _, _ in run_info):.1f} s (untuned {u_elapsed:.1f} s), "
        f"{run_info[0][1]} trials; peak RSS {rss_mb():.0f} MB"
    )
    print(
        f"  GUI thread CPU per live update during the run: "
        f"{1000 * statistics.median(c for _, _, c in run_info):.2f} ms (whole GUI-thread CPU / updates)"
    )

    big = folder / "big.db"
    t = time.perf_counter()
    build_large_study(big, args.big)
    print(f"Built a {args.big}-trial study in {time.perf_counter() - t:.1f} s")
    opens, updates, update_cpu = [], [], []
    for _ in range(args.repeats):
        window = make_window()
        app.processEvents()
        t = time.perf_counter()
        window.open_storage(str(big), "big")
        window.study_view.plot.view.viewport().repaint()
        opens.append(time.perf_counter() - t)
        assert window.study_view.data.n >= args.big
        for _ in range(5):
            append_trials(big, 10)
            t = time.perf_counter()
            cpu = time.thread_time()
            n = window.study_view.refresh()
            window.study_view.plot.view.viewport().repaint()
            updates.append(time.perf_counter() - t)
            update_cpu.append(time.thread_time() - cpu)
            assert n == 10
        window.verifier.cancel()
        window.close()
    print(
        f"Open a {args.big}-trial study to the convergence plot drawn: {statistics.median(opens):.3f} s "
        f"(runs: {', '.join(f'{x:.3f}' for x in opens)})"
    )
    print(
        f"One live update with 10 new trials (poll + plot + repaint): {1000 * statistics.median(updates):.1f} ms "
        f"median, {1000 * max(updates):.1f} ms max; GUI thread CPU {1000 * statistics.median(update_cpu):.1f} ms "
        "median"
    )
    print(f"Peak RSS {rss_mb():.0f} MB; load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
