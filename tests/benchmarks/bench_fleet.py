"""Throughput of parallel runs on PostgreSQL: 1, 2 and 4 workers, deterministic and free-running mode.

    python -m tests.benchmarks.bench_fleet [--url URL] [--sleep 0.2] [--trials-per-worker 8] [--repeats 1]

Each configuration is one `optgui run --workers N` (TPESampler(seed=1), builtin:slow(sleep=S), whose suggests are
its search-space part). Throughput is finished trials divided by the time from the first evaluation's start to the
last trial's end, read from the study itself: process start-up is not counted in either mode (a deterministic
coordinator asks its first batch while its workers are still starting, which is not throughput). Configurations
are interleaved when repeated; the medians are reported, with the CPU time of all processes of the run and the
load average (the machine may be shared). The deterministic mode's efficiency is its throughput over
free-running's with the same number of workers (target >= 0.8 at 4 workers with batch 4). The URL defaults to
OPTGUI_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import optuna

REPO = Path(__file__).resolve().parents[2]


def _evaluation_start(trial) -> dt.datetime:
    """When the trial's evaluation began: its first claim (deterministic mode; UTC, made naive local like Optuna's
    datetimes) or its ask (free-running mode, where a worker evaluates right after asking)."""
    claim = trial.system_attrs.get("optgui:claim:0")
    if claim is None:
        return trial.datetime_start
    return dt.datetime.fromisoformat(claim["at"]).astimezone().replace(tzinfo=None)


def run_one(
    url: str, workers: int, mode: str, batch: int, pipeline: bool, sleep: float, n_trials: int
) -> tuple[float, float, float]:
    """(throughput in trials/s, wall seconds, CPU seconds of the coordinator and workers)."""
    name = f"bench-fleet-{mode}-{workers}-{uuid.uuid4().hex[:8]}"
    cmd = [
        sys.executable,
        "-m",
        "optgui",
        "run",
        url,
        "--study",
        name,
        "--objective",
        f"builtin:slow(sleep={sleep})",
        "--sampler",
        "TPESampler(seed=1)",
        "--n-trials",
        str(n_trials),
        "--workers",
        str(workers),
        "--mode",
        mode,
        "--quiet",
    ]
    if mode == "deterministic":
        cmd += ["--batch", str(batch)] + (["--pipeline"] if pipeline else [])
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        storage = optuna.storages.RDBStorage(url)
        trials = optuna.load_study(study_name=name, storage=storage).trials
        optuna.delete_study(study_name=name, storage=storage)
        storage.engine.dispose()
    finished = [t for t in trials if t.state.is_finished()]
    span = (max(t.datetime_complete for t in finished) - min(_evaluation_start(t) for t in finished)).total_seconds()
    return len(finished) / span, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("OPTGUI_TEST_POSTGRES_URL"))
    parser.add_argument("--sleep", type=float, default=0.2)
    parser.add_argument("--trials-per-worker", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts to measure")
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("no PostgreSQL URL: pass --url or set OPTGUI_TEST_POSTGRES_URL (.ci/services.sh)")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    configs = [
        (w, mode, pipe)
        for w in args.workers
        for mode, pipe in (("free", False), ("deterministic", False), ("deterministic", True))
    ]
    results: dict[tuple, list[tuple]] = {c: [] for c in configs}
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        for workers, mode, pipe in configs:
            n = args.trials_per_worker * max(workers, args.batch)
            results[(workers, mode, pipe)].append(run_one(args.url, workers, mode, args.batch, pipe, args.sleep, n))
    load_after = os.getloadavg()
    ideal = 1.0 / args.sleep

    def median(config, i=0):
        return statistics.median(r[i] for r in results[config])

    print(
        f"objective sleeps {args.sleep * 1000:.0f} ms (ideal {ideal:.1f} trials/s per worker); batch {args.batch}; "
        f"{os.cpu_count()} cores; median of {args.repeats}; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after"
    )
    print(
        f"{'workers':>7}  {'free':>8}  {'determ.':>8}  {'pipelined':>9}  {'det/free':>8}  {'pipe/free':>9}   "
        "wall/CPU s: free, determ., pipelined"
    )
    for workers in args.workers:
        free, det, pipe = (
            median((workers, m, p)) for m, p in (("free", False), ("deterministic", False), ("deterministic", True))
        )
        times = ", ".join(
            f"{median((workers, m, p), 1):.1f}/{median((workers, m, p), 2):.1f}"
            for m, p in (("free", False), ("deterministic", False), ("deterministic", True))
        )
        print(
            f"{workers:>7}  {free:>8.2f}  {det:>8.2f}  {pipe:>9.2f}  {det / free:>8.2f}  {pipe / free:>9.2f}   {times}"
        )
    most = max(args.workers)
    best = max((median((most, "deterministic", p)) / median((most, "free", False)), p) for p in (False, True))
    print(
        "(throughput in finished trials per second; deterministic/free >= 0.8 at 4 workers is the target; at "
        f"{most} workers: {best[0]:.2f} {'met' if best[0] >= 0.8 else 'NOT met'}, best with"
        f"{' --pipeline' if best[1] else 'out --pipeline'}. --pipeline hides the coordinator's sampling behind the "
        "evaluations; it is the deterministic configuration for throughput)"
    )


if __name__ == "__main__":
    main()
