"""Checkpoint and bookkeeping overhead of optgui's runner versus plain Optuna on the same SQLite setup.

    python tests/benchmarks/bench_run_overhead.py [--trials 1000] [--block 100]

Plain Optuna (study.optimize, sampler kept in memory) and optgui's StudyRunner (paused in-process at every block
boundary, which saves a state and starts a segment) run TPESampler(seed=1) on the 2-D quadratic, each on its own
SQLite file, in interleaved blocks A B A B ... over the same trial ranges (TPE's cost grows with the trial count).
Prints each block's per-trial times, the median paired ratio optgui/plain with its spread (target <= 1.02), and
optgui's own bookkeeping per trial, timed directly (the loop minus Optuna's ask, tell and the objective).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import warnings
from pathlib import Path

import optuna
import optuna.study._tell as tell_module

from optgui.core.builtin_objectives import quadratic
from optgui.core.events import RunStateChanged, TrialFinished
from optgui.core.runner import RunRequest, StudyRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--block", type=int, default=100)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="optgui-bench-"))

    plain = optuna.create_study(storage=f"sqlite:///{tmp / 'plain.db'}", study_name="bench",
                                sampler=optuna.samplers.TPESampler(seed=1))
    objective = quadratic()

    # optgui's runner, instrumented: time inside Optuna's ask/tell and the objective is not bookkeeping.
    optuna_time = [0.0]
    original_tell = tell_module._tell_with_warning

    def timed_tell(*a, **kw):
        t0 = time.perf_counter()
        try:
            return original_tell(*a, **kw)
        finally:
            optuna_time[0] += time.perf_counter() - t0

    def timed_objective(trial):
        t0 = time.perf_counter()
        try:
            return objective(trial)
        finally:
            optuna_time[0] += time.perf_counter() - t0

    paused = threading.Event()
    block_end = [args.block]

    def listener(event):
        if isinstance(event, TrialFinished) and event.number == block_end[0] - 1:
            runner.request_pause()
        elif isinstance(event, RunStateChanged) and event.state in ("paused", "completed"):
            paused.set()

    runner = StudyRunner(RunRequest(storage=str(tmp / "optgui.db"), study_name="bench",
                                    objective="builtin:quadratic", sampler="TPESampler(seed=1)",
                                    n_trials=args.trials), listener, objective=timed_objective)
    runner.prepare()
    study = runner.study
    original_ask = study.ask

    def timed_ask(*a, **kw):
        t0 = time.perf_counter()
        try:
            return original_ask(*a, **kw)
        finally:
            optuna_time[0] += time.perf_counter() - t0

    study.ask = timed_ask
    tell_module._tell_with_warning = timed_tell
    loop_time = [0.0]
    original_one = runner._run_one_trial

    def timed_one():
        t0 = time.perf_counter()
        try:
            return original_one()
        finally:
            loop_time[0] += time.perf_counter() - t0

    runner._run_one_trial = timed_one
    worker = None
    rows = []
    for start in range(0, args.trials, args.block):
        n = min(args.block, args.trials - start)
        t0 = time.perf_counter()
        plain.optimize(objective, n_trials=n)
        a = (time.perf_counter() - t0) / n
        block_end[0] = start + n
        paused.clear()
        t0 = time.perf_counter()
        if worker is None:
            worker = threading.Thread(target=runner.run)
            worker.start()
        else:
            runner.request_resume()
        paused.wait()
        b = (time.perf_counter() - t0) / n
        rows.append((start, a, b))
        print(f"trials {start:5d}-{start + n - 1:5d}: plain {a * 1e3:7.2f} ms/trial   optgui {b * 1e3:7.2f} "
              f"ms/trial   ratio {b / a:.3f}", flush=True)
    runner.request_resume()
    worker.join()
    ratios = [b / a for _, a, b in rows]
    bookkeeping = (loop_time[0] - optuna_time[0]) / args.trials
    print()
    print(f"median paired ratio optgui/plain: {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}, {len(ratios)} pairs; target <= 1.02)")
    print(f"optgui bookkeeping inside the trial loop, timed directly: {bookkeeping * 1e6:.0f} us/trial "
          f"({bookkeeping / statistics.median([b for _, _, b in rows]) * 100:.2f}% of a trial)")
    print(f"plain Optuna mean: {statistics.mean(a for _, a, _ in rows) * 1e3:.2f} ms/trial; "
          f"optgui mean: {statistics.mean(b for _, _, b in rows) * 1e3:.2f} ms/trial")


if __name__ == "__main__":
    main()
