"""Throughput of parallel runs on PostgreSQL: 1, 2 and 4 workers, deterministic and free-running mode.

    python tests/benchmarks/bench_fleet.py [--url URL] [--sleep 0.2] [--trials-per-worker 8] [--repeats 1]

Each configuration is one `optgui run --workers N` (TPESampler(seed=1), builtin:slow(sleep=S), whose suggests are
its search-space part). Throughput is finished trials divided by the time from the first trial's start to the last
trial's end, read from the study itself (process start-up is not counted). Configurations are interleaved when
repeated; the medians are reported. The deterministic mode's efficiency is its throughput over free-running's with
the same number of workers (target >= 0.8 at 4 workers with batch 4). The URL defaults to
OPTGUI_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import optuna

REPO = Path(__file__).resolve().parents[2]


def run_one(url: str, workers: int, mode: str, batch: int, pipeline: bool, sleep: float, n_trials: int) -> float:
    name = f"bench-fleet-{mode}-{workers}-{uuid.uuid4().hex[:8]}"
    cmd = [sys.executable, "-m", "optgui", "run", url, "--study", name, "--objective", f"builtin:slow(sleep={sleep})",
           "--sampler", "TPESampler(seed=1)", "--n-trials", str(n_trials), "--workers", str(workers), "--mode", mode,
           "--quiet"]
    if mode == "deterministic":
        cmd += ["--batch", str(batch)] + (["--pipeline"] if pipeline else [])
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        storage = optuna.storages.RDBStorage(url)
        trials = optuna.load_study(study_name=name, storage=storage).trials
        optuna.delete_study(study_name=name, storage=storage)
        storage.engine.dispose()
    finished = [t for t in trials if t.state.is_finished()]
    span = (max(t.datetime_complete for t in finished) - min(t.datetime_start for t in finished)).total_seconds()
    return len(finished) / span


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("OPTGUI_TEST_POSTGRES_URL"))
    parser.add_argument("--sleep", type=float, default=0.2)
    parser.add_argument("--trials-per-worker", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    if not args.url:
        raise SystemExit("no PostgreSQL URL: pass --url or set OPTGUI_TEST_POSTGRES_URL (.ci/services.sh)")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    configs = [(w, mode, pipe) for w in (1, 2, 4) for mode, pipe in
               (("free", False), ("deterministic", False), ("deterministic", True))]
    results: dict[tuple, list[float]] = {c: [] for c in configs}
    for _ in range(args.repeats):
        for workers, mode, pipe in configs:
            n = args.trials_per_worker * max(workers, args.batch)
            results[(workers, mode, pipe)].append(run_one(args.url, workers, mode, args.batch, pipe, args.sleep, n))
    ideal = 1.0 / args.sleep
    print(f"objective sleeps {args.sleep * 1000:.0f} ms (ideal {ideal:.1f} trials/s per worker); batch {args.batch}; "
          f"{os.cpu_count()} cores; median of {args.repeats}")
    print(f"{'workers':>7}  {'free':>8}  {'determ.':>8}  {'pipelined':>9}  {'det/free':>8}  {'pipe/free':>9}")
    for workers in (1, 2, 4):
        free = statistics.median(results[(workers, "free", False)])
        det = statistics.median(results[(workers, "deterministic", False)])
        pipe = statistics.median(results[(workers, "deterministic", True)])
        print(f"{workers:>7}  {free:>8.2f}  {det:>8.2f}  {pipe:>9.2f}  {det / free:>8.2f}  {pipe / free:>9.2f}")
    print("(throughput in finished trials per second; det/free >= 0.8 at 4 workers is the target)")


if __name__ == "__main__":
    main()
