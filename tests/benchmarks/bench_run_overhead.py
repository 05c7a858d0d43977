"""Checkpoint and bookkeeping overhead of optgui's runner versus plain Optuna on the same SQLite setup.

    python tests/benchmarks/bench_run_overhead.py [--trials 1000] [--block 100]

Plain Optuna (study.optimize, sampler kept in memory) and optgui's StudyRunner (paused in-process at every block
boundary, which saves a state and starts a segment) run TPESampler(seed=1) on the 2-D quadratic, each on its own
SQLite file, in interleaved blocks A B B A A B ... over the same trial ranges (TPE's cost grows with the trial count).
Each block is timed over its trial loop (first ask to last trial); the pause/resume the benchmark inserts between
optgui's blocks is timed apart. Prints each block's per-trial times, the median paired ratio optgui/plain with its
spread (target <= 1.02), optgui's own bookkeeping per trial, timed directly (the loop minus Optuna's ask, tell and
the objective), and the cost of one pause + resume.
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
    # Each block is timed over its trial loop for both sides: from the start of its first ask to the end of its
    # last trial (plain: optimize returning; optgui: the loop reaching the pause the benchmark asked for). The
    # pause and resume the benchmark needs between blocks (state save + segment record, which a real run pays
    # once per pause) are timed separately and reported as their own line.
    first_ask = {"plain": None, "optgui": None}
    plain_ask = plain.ask

    def plain_timed_ask(*a, **kw):
        if first_ask["plain"] is None:
            first_ask["plain"] = time.perf_counter()
        return plain_ask(*a, **kw)

    plain.ask = plain_timed_ask
    original_timed_ask = study.ask

    def optgui_first_ask(*a, **kw):
        if first_ask["optgui"] is None:
            first_ask["optgui"] = time.perf_counter()
        return original_timed_ask(*a, **kw)

    study.ask = optgui_first_ask
    loop_end = [0.0]
    boundary = []
    original_end, original_next = runner._end_segment, runner._start_next_segment

    def end_segment(reason):
        loop_end[0] = time.perf_counter()
        t0 = time.perf_counter()
        try:
            return original_end(reason)
        finally:
            boundary.append(time.perf_counter() - t0)

    def start_next_segment():
        t0 = time.perf_counter()
        try:
            return original_next()
        finally:
            boundary[-1] += time.perf_counter() - t0

    runner._end_segment, runner._start_next_segment = end_segment, start_next_segment
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
        first_ask["plain"] = first_ask["optgui"] = None
        timings = {}

        def run_plain():
            plain.optimize(objective, n_trials=n)
            timings["plain"] = (time.perf_counter() - first_ask["plain"]) / n

        def run_optgui():
            nonlocal worker
            block_end[0] = start + n
            paused.clear()
            if worker is None:
                worker = threading.Thread(target=runner.run)
                worker.start()
            else:
                runner.request_resume()
            paused.wait()
            timings["optgui"] = (loop_end[0] - first_ask["optgui"]) / n

        # Which side goes first alternates, so that whatever favours a position (caches, the other file's
        # pending writes) favours both sides equally.
        for side in ((run_plain, run_optgui) if (start // args.block) % 2 == 0 else (run_optgui, run_plain)):
            side()
        a, b = timings["plain"], timings["optgui"]
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
    print(f"pause + resume between blocks (not in the ratios; paid once per pause): "
          f"{statistics.median(boundary) * 1e3:.1f} ms median over {len(boundary)} pauses")
    print(f"plain Optuna mean: {statistics.mean(a for _, a, _ in rows) * 1e3:.2f} ms/trial; "
          f"optgui mean: {statistics.mean(b for _, _, b in rows) * 1e3:.2f} ms/trial")


if __name__ == "__main__":
    main()
