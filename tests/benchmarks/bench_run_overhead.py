"""Checkpoint and bookkeeping overhead of optgui's runner versus plain Optuna on the same SQLite setup.

    python -m tests.benchmarks.bench_run_overhead [--trials 1000] [--block 100] [--no-control]

Plain Optuna and optgui's StudyRunner run TPESampler(seed=1) on the 2-D quadratic, each on its own SQLite file,
interleaved trial by trial in one thread: the runner runs its real loop, and after each of its trials the listener
runs the same trial number on the plain study with Optuna's own per-trial step (`optuna.study._optimize._run_trial`,
what `study.optimize` calls per trial). Interleaving per trial matters: this machine's speed drifts by ±20% over
seconds, so blocks of 100 trials each (the first version of this benchmark) measured a plain-vs-plain control at
0.73-1.13 and could not resolve a 2% difference.

The runner is paused at every block boundary (a state save and a new segment, as a user's pause); that boundary is
timed apart and is not in the ratios. Each block's ratio is optgui's summed trial times over plain's for the same
trial numbers; the median block ratio and its spread are printed (target <= 1.02). A control (a second plain study,
interleaved the same way) shows the harness's own bias and noise; `--no-control` skips it. optgui's bookkeeping per
trial is also timed directly: its loop minus Optuna's ask, tell and the objective.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import tempfile
import threading
import time
import warnings
from pathlib import Path

import optuna
import optuna.study._tell as tell_module
from optuna.study._optimize import _run_trial

from optgui.core.engine._builtin_objectives import quadratic
from optgui.core.engine._events import RunStateChanged, TrialFinished
from optgui.core.engine._runner import RunRequest, StudyRunner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--no-control", action="store_true", help="skip the plain-vs-plain control")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="optgui-bench-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # (a large study file is made in it)
    objective = quadratic()

    def plain_study(name: str) -> optuna.Study:
        return optuna.create_study(
            storage=f"sqlite:///{tmp / name}", study_name="bench", sampler=optuna.samplers.TPESampler(seed=1)
        )

    plain = plain_study("plain.db")
    control = None if args.no_control else plain_study("control.db")

    # Time inside Optuna's ask/tell and the objective during optgui's trials is not optgui's bookkeeping.
    in_runner_trial = [False]
    optuna_time = [0.0]
    original_tell = tell_module._tell_with_warning

    def timed_tell(*a, **kw):
        t0 = time.perf_counter()
        try:
            return original_tell(*a, **kw)
        finally:
            if in_runner_trial[0]:
                optuna_time[0] += time.perf_counter() - t0

    def timed_objective(trial):
        t0 = time.perf_counter()
        try:
            return objective(trial)
        finally:
            optuna_time[0] += time.perf_counter() - t0

    times = {"optgui": [0.0] * args.trials, "plain": [0.0] * args.trials, "control": [0.0] * args.trials}
    boundary: list[float] = []
    mark = [None]  # when the runner's current trial began: the listener's return, or the end of a resume
    paused = threading.Event()

    def run_plain_trial(study: optuna.Study) -> float:
        study._thread_local.in_optimize_loop = True  # as optimize's sequential loop sets it
        t0 = time.perf_counter()
        _run_trial(study, objective, ())
        return time.perf_counter() - t0

    def listener(event) -> None:
        if isinstance(event, TrialFinished):
            number = event.number
            times["optgui"][number] = time.perf_counter() - mark[0]
            in_runner_trial[0] = False
            # ABBA within the pair of comparison sides, so that neither always follows optgui's trial.
            sides = [("plain", plain), ("control", control)]
            for name, study in sides if number % 2 == 0 else sides[::-1]:
                if study is not None:
                    times[name][number] = run_plain_trial(study)
            if (number + 1) % args.block == 0 and number + 1 < args.trials:
                runner.request_pause()
            in_runner_trial[0] = True
            mark[0] = time.perf_counter()
        elif isinstance(event, RunStateChanged):
            if event.state == "paused":
                boundary.append(time.perf_counter() - mark[0])  # the loop's checks + ending the segment
                paused.set()
            elif event.state == "running" and boundary:
                boundary[-1] += time.perf_counter() - resume_started[0]  # starting the next segment
                mark[0] = time.perf_counter()
            elif event.state in ("completed", "failed", "stopped"):
                paused.set()

    runner = StudyRunner(
        RunRequest(
            storage=str(tmp / "optgui.db"),
            study_name="bench",
            objective="builtin:quadratic",
            sampler="TPESampler(seed=1)",
            n_trials=args.trials,
        ),
        listener,
        objective=timed_objective,
    )
    runner.prepare()
    study = runner.study
    original_ask = study.ask

    def timed_ask(*a, **kw):
        if mark[0] is None:
            mark[0] = time.perf_counter()
            in_runner_trial[0] = True
        t0 = time.perf_counter()
        try:
            return original_ask(*a, **kw)
        finally:
            optuna_time[0] += time.perf_counter() - t0

    study.ask = timed_ask
    tell_module._tell_with_warning = timed_tell
    resume_started = [0.0]
    worker = threading.Thread(target=runner.run)
    worker.start()
    while True:
        paused.wait()
        paused.clear()
        if not worker.is_alive() or runner.n_finished >= args.trials:
            break
        resume_started[0] = time.perf_counter()
        runner.request_resume()
    worker.join()
    tell_module._tell_with_warning = original_tell

    def block_ratios(side: str, base: str) -> list[float]:
        return [
            sum(times[side][s : s + args.block]) / sum(times[base][s : s + args.block])
            for s in range(0, args.trials, args.block)
        ]

    ratios = block_ratios("optgui", "plain")
    for i, start in enumerate(range(0, args.trials, args.block)):
        n = min(args.block, args.trials - start)
        a = sum(times["plain"][start : start + n]) / n
        b = sum(times["optgui"][start : start + n]) / n
        line = (
            f"trials {start:5d}-{start + n - 1:5d}: plain {a * 1e3:7.2f} ms/trial   optgui {b * 1e3:7.2f} "
            f"ms/trial   ratio {ratios[i]:.3f}"
        )
        if control is not None:
            line += f"   control/plain {sum(times['control'][start : start + n]) / (a * n):.3f}"
        print(line, flush=True)
    total_optgui, total_plain = sum(times["optgui"]), sum(times["plain"])
    # The runner's loop minus what Optuna and the objective did inside it: the ask/tell/objective timers only
    # run while one of the runner's trials is in flight (the plain trials the listener runs are excluded).
    bookkeeping = (total_optgui - optuna_time[0]) / args.trials
    print()
    print(
        f"median paired ratio optgui/plain over {len(ratios)} blocks of {args.block} trials: "
        f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
        f"all trials {total_optgui / total_plain:.3f}; target <= 1.02"
    )
    if control is not None:
        controls = block_ratios("control", "plain")
        print(
            f"control plain/plain (the harness's bias and noise): median {statistics.median(controls):.3f} "
            f"(min {min(controls):.3f}, max {max(controls):.3f}); all trials "
            f"{sum(times['control']) / total_plain:.3f}"
        )
    print(
        f"optgui bookkeeping inside the trial loop, timed directly: {bookkeeping * 1e6:.0f} us/trial "
        f"({bookkeeping / (total_optgui / args.trials) * 100:.2f}% of a trial)"
    )
    if boundary:
        print(
            f"pause + resume at block ends (not in the ratios; paid once per pause): "
            f"{statistics.median(boundary) * 1e3:.1f} ms median over {len(boundary)} pauses"
        )
    print(
        f"plain Optuna mean: {total_plain / args.trials * 1e3:.2f} ms/trial; "
        f"optgui mean: {total_optgui / args.trials * 1e3:.2f} ms/trial"
    )


if __name__ == "__main__":
    main()
