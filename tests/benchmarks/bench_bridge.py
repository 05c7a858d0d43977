"""Per-trial overhead of running the objective through optgui's bridge (`--python`) versus in-process.

    python -m tests.benchmarks.bench_bridge [--trials 1000] [--python PATH]

Two studies with TPESampler(seed=1) run the same file objective (two suggest_float, one report, a return),
interleaved trial by trial in one thread (this machine's speed drifts over seconds; per-trial interleaving keeps
both sides under the same load): one calls the objective in-process, the other through a BridgeObjective (the
objective in PATH, default this Python, one bridge process for the run). Both studies draw identical parameters, so
the sampler's work inside each suggest is the same on both sides; the difference of the objective call's time for
the same trial number is the bridge's overhead (its messages and the JSON over the socket). Printed: both medians
side by side, and the median and 90th percentile of the paired per-trial difference (target: median <= 2 ms).

The bridge's cost is a few process round trips per trial (here three: the trial and two suggests; the report is sent
without waiting for an answer), so it is bounded by how fast this machine switches between two processes. That floor
is measured first, in the same run: the median round trip of a one-line JSON message between this process and a
child of PATH over a socket pair, times the trial's round trips. On a loaded machine (more runnable processes than
cores) each wake-up waits for a time slice, and both numbers grow together.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import optuna

from optgui.core.engine._bridge import BridgeObjective
from optgui.core.engine._objectives import load_objective, parse_objective

OBJECTIVE = """
def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_float("y", -10, 10)
    value = (x - 2) ** 2 + (y + 1) ** 2
    trial.report(value, 0)
    return value
"""


_ECHO = """
import socket, sys
sock = socket.socket(fileno=int(sys.argv[1]))
reader = sock.makefile("rb")
for line in reader:
    sock.sendall(line)
"""
ROUND_TRIPS_PER_TRIAL = 3  # the trial and two suggests (report is sent without waiting for an answer)


def round_trip_ms(python: str, n: int = 2000) -> float:
    """The median time of one JSON line sent to a child of `python` and echoed back (the machine's floor)."""
    import socket
    import subprocess

    parent, child = socket.socketpair()
    proc = subprocess.Popen([python, "-I", "-c", _ECHO, str(child.fileno())], pass_fds=(child.fileno(),))
    child.close()
    reader = parent.makefile("rb")
    samples = []
    message = b'{"v": 1, "op": "call", "name": "suggest_float", "args": ["x", -10, 10], "kwargs": {}}\n'
    for _ in range(n):
        t0 = time.perf_counter()
        parent.sendall(message)
        reader.readline()
        samples.append(time.perf_counter() - t0)
    reader.close()
    parent.close()  # (the child's loop ends at end of stream)
    proc.wait()
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--python", default=sys.executable, help="the objective's interpreter for the bridge")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="optgui-bench-bridge-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # (a large study file is made in it)
    (folder / "objective.py").write_text(OBJECTIVE)
    ref = parse_objective(f"{folder / 'objective.py'}:objective")
    in_process = load_objective(ref)
    bridge = BridgeObjective(args.python, ref.ref, import_root=ref.import_root)
    started = time.perf_counter()
    bridge.start()
    print(f"bridge start (interpreter + objective import): {(time.perf_counter() - started) * 1000:.1f} ms")
    floor = round_trip_ms(args.python)
    print(
        f"this machine's process round trip: median {floor:.3f} ms; x{ROUND_TRIPS_PER_TRIAL} per trial = "
        f"{floor * ROUND_TRIPS_PER_TRIAL:.3f} ms"
    )
    studies = [optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1)) for _ in range(2)]
    times: list[list[float]] = [[], []]
    try:
        for _ in range(args.trials):
            for side, (study, objective) in enumerate(zip(studies, (in_process, bridge), strict=True)):
                trial = study.ask()
                t0 = time.perf_counter()
                value = objective(trial)
                times[side].append(time.perf_counter() - t0)
                study.tell(trial, value)
    finally:
        bridge.close()
    a, b = studies[0].trials, studies[1].trials
    assert [t.params for t in a] == [t.params for t in b], "the two sides drew different parameters"
    overhead = sorted((y - x) * 1000 for x, y in zip(times[0], times[1], strict=True))
    print(f"{args.trials} TPE trials, objective call per trial (median):")
    print(f"  in-process      {statistics.median(times[0]) * 1000:8.3f} ms")
    print(f"  through bridge  {statistics.median(times[1]) * 1000:8.3f} ms   ({args.python})")
    print(
        f"bridge overhead per trial: median {statistics.median(overhead):.3f} ms, "
        f"p90 {overhead[int(len(overhead) * 0.9)]:.3f} ms  (target: median <= 2 ms)"
    )


if __name__ == "__main__":
    main()
