"""Benchmark of the read layer against Optuna on large SQLite studies (5 params per trial).

    python -m tests.benchmarks.bench_reader [--sizes 10000,100000,1000000] [--repeats 3] [--workdir DIR]
                                            [--keep]

For each size it builds a study (Optuna creates the study; trials are inserted with executemany in one
transaction, which takes seconds instead of the ~22 minutes `add_trials` would need for 100k) and measures, each in
a fresh child process so that peak memory (ru_maxrss of that process) belongs to one measurement:

- convergence: open + study summaries + numbers/states/values + best-so-far;
- full table: all trial columns with params and user attributes;
- poll: an incremental poll after another connection inserted 10 trials (median of 5 rounds);
- convergence and full table are measured --repeats times, alternately (this machine's speed drifts by ±30% over
  minutes): the median run is shown, with every run's time below the table;
- optuna: `optuna.load_study(...).trials` (only up to 100k trials: it needs ~1 minute there).

Targets (2 cores): 100k trials convergence ≤ 0.5 s, full table ≤ 2 s, peak RSS ≤ 400 MB, poll ≤ 5 ms;
1M trials convergence ≤ 5 s, peak RSS ≤ 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

STUDY = "bench"
OPTUNA_LIMIT = 100_000


def _distributions() -> dict[str, str]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
        distribution_to_json,
    )

    return {
        "x": distribution_to_json(FloatDistribution(-10.0, 10.0)),
        "y": distribution_to_json(FloatDistribution(1e-5, 1.0, log=True)),
        "n": distribution_to_json(IntDistribution(1, 100)),
        "z": distribution_to_json(FloatDistribution(0.0, 1.0, step=0.01)),
        "c": distribution_to_json(CategoricalDistribution(["adam", "sgd", "rmsprop"])),
    }


def _insert_trials(conn: sqlite3.Connection, study_id: int, first_number: int, count: int, seed: int) -> None:
    """Insert `count` finished trials with values and 5 params, in one transaction of executemany calls."""
    rng = random.Random(seed)
    dists = _distributions()
    (max_id,) = conn.execute("SELECT COALESCE(MAX(trial_id), 0) FROM trials").fetchone()
    start = datetime(2026, 1, 1)
    trials, values, params = [], [], []
    for k in range(count):
        trial_id = max_id + 1 + k
        number = first_number + k
        began = start + timedelta(seconds=number)
        roll = rng.random()
        state = "COMPLETE" if roll < 0.9 else "PRUNED" if roll < 0.95 else "FAIL"
        trials.append(
            (
                trial_id,
                number,
                study_id,
                state,
                began.isoformat(" ", "microseconds"),
                (began + timedelta(milliseconds=rng.randint(5, 900))).isoformat(" ", "microseconds"),
            )
        )
        if state != "FAIL":
            values.append((trial_id, 0, rng.gauss(0.0, 1.0) + 10.0 / (1 + number), "FINITE"))
        params.append((trial_id, "x", rng.uniform(-10, 10), dists["x"]))
        params.append((trial_id, "y", 10 ** rng.uniform(-5, 0), dists["y"]))
        params.append((trial_id, "n", float(rng.randint(1, 100)), dists["n"]))
        params.append((trial_id, "z", rng.randint(0, 100) / 100, dists["z"]))
        params.append((trial_id, "c", float(rng.randint(0, 2)), dists["c"]))
    with conn:
        conn.executemany(
            "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            trials,
        )
        conn.executemany(
            "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, ?)", values
        )
        conn.executemany(
            "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)",
            params,
        )


def build_study(path: Path, n_trials: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    began = time.perf_counter()
    optuna.create_study(storage=f"sqlite:///{path}", study_name=STUDY, direction="minimize")
    conn = sqlite3.connect(path)
    (study_id,) = conn.execute("SELECT study_id FROM studies WHERE study_name = ?", (STUDY,)).fetchone()
    _insert_trials(conn, study_id, 0, n_trials, seed=n_trials)
    conn.close()
    return time.perf_counter() - began


# --------------------------------------------------------------------------------------- child measurements
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(kind: str, path: Path) -> dict:
    if kind == "convergence":
        from optgui.core.storage._reader import open_reader

        began, cpu = time.perf_counter(), time.process_time()
        with open_reader(str(path)) as reader:
            summaries = reader.studies()
            table = reader.trials(STUDY, params=False, user_attrs=False, datetimes=False)
            best = table.best_so_far()
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        assert summaries[0].n_trials == len(table) and len(best) == len(table)
        return {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "rows": len(table)}
    if kind == "table":
        from optgui.core.storage._reader import open_reader

        began, cpu = time.perf_counter(), time.process_time()
        with open_reader(str(path)) as reader:
            table = reader.trials(STUDY)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        assert len(table.params) == 5
        return {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "rows": len(table)}
    if kind == "poll":
        from optgui.core.storage._reader import open_reader

        timings = []
        with open_reader(str(path)) as reader:
            watermark = reader.poll(STUDY).watermark
            writer = sqlite3.connect(path)
            (study_id,) = writer.execute("SELECT study_id FROM studies WHERE study_name = ?", (STUDY,)).fetchone()
            for round_ in range(5):
                (count,) = writer.execute("SELECT COUNT(*) FROM trials WHERE study_id = ?", (study_id,)).fetchone()
                _insert_trials(writer, study_id, count, 10, seed=round_)
                began = time.perf_counter()
                delta = reader.poll(STUDY, watermark)
                timings.append(time.perf_counter() - began)
                assert delta.n_new == 10, delta.n_new
                watermark = delta.watermark
            # Leave the study as it was for later measurements.
            with writer:
                ids = [
                    r[0]
                    for r in writer.execute(
                        "SELECT trial_id FROM trials WHERE study_id = ? ORDER BY trial_id DESC LIMIT 50", (study_id,)
                    )
                ]
                marks = ",".join("?" * len(ids))
                for table_name in ("trial_values", "trial_params"):
                    writer.execute(f"DELETE FROM {table_name} WHERE trial_id IN ({marks})", ids)
                writer.execute(f"DELETE FROM trials WHERE trial_id IN ({marks})", ids)
            writer.close()
        timings.sort()
        return {"seconds": timings[len(timings) // 2], "cpu": None, "peak_mb": _peak_mb(), "rows": 10}
    if kind == "optuna":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        began, cpu = time.perf_counter(), time.process_time()
        trials = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}").trials
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        return {"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "rows": len(trials)}
    if kind == "build":
        return {"seconds": build_study(path, int(os.environ["BENCH_SIZE"])), "cpu": None, "peak_mb": _peak_mb()}
    raise SystemExit(f"unknown measurement {kind}")


def run_child(kind: str, path: Path, env: dict | None = None) -> dict:
    # ru_maxrss survives fork+exec: a child forked from a big parent would report the parent's peak. So the
    # parent stays small (it never builds or reads a study itself) and every measurement is its own process.
    result = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--db", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict]) -> dict:
    """The run with the median time; peak memory is the largest of all runs."""
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**median, "peak_mb": max(r["peak_mb"] for r in runs), "runs": [r["seconds"] for r in runs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--workdir", help="where to build the study files (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the study files")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the convergence and full-table reads")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, Path(args.db))))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="optgui-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"optgui reader benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python "
        f"{sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; peak RSS per measurement in a child process; "
        "(cpu) = CPU seconds of that process, which other load on the machine barely changes"
    )
    rows = []
    try:
        for size in sizes:
            path = workdir / f"bench-{size}.db"
            path.unlink(missing_ok=True)
            build = run_child("build", path, {"BENCH_SIZE": str(size)})["seconds"]
            print(f"built {size:,} trials in {build:.1f} s ({path.stat().st_size / 2**20:.0f} MB)", flush=True)
            runs = {"convergence": [], "table": []}
            for _ in range(max(1, args.repeats)):
                for kind in runs:
                    runs[kind].append(run_child(kind, path))
            conv, table = (_median_run(runs[kind]) for kind in ("convergence", "table"))
            poll = run_child("poll", path)
            ref = run_child("optuna", path) if size <= OPTUNA_LIMIT else None
            rows.append((size, conv, table, poll, ref))
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    header = (
        "trials",
        "convergence s (cpu)",
        "conv. peak MB",
        "full table s (cpu)",
        "table peak MB",
        "poll(10 new) ms",
        "optuna .trials s (cpu)",
        "optuna peak MB",
        "speedup table (cpu)",
        "memory ratio",
    )
    lines = [header]
    for size, conv, table, poll, ref in rows:
        lines.append(
            (
                f"{size:,}",
                f"{conv['seconds']:.3f} ({conv['cpu']:.3f})",
                f"{conv['peak_mb']:.0f}",
                f"{table['seconds']:.3f} ({table['cpu']:.3f})",
                f"{table['peak_mb']:.0f}",
                f"{poll['seconds'] * 1000:.2f}",
                f"{ref['seconds']:.1f} ({ref['cpu']:.1f})" if ref else "skipped",
                f"{ref['peak_mb']:.0f}" if ref else "-",
                f"{ref['seconds'] / table['seconds']:.0f}x ({ref['cpu'] / table['cpu']:.0f}x)" if ref else "-",
                f"{ref['peak_mb'] / table['peak_mb']:.1f}x" if ref else "-",
            )
        )
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    for line in lines:
        print(" | ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=False)))
    for size, conv, table, _, _ in rows:
        print(
            f"{size:,} trials, every run (s): convergence {', '.join(f'{x:.3f}' for x in conv['runs'])}; "
            f"full table {', '.join(f'{x:.3f}' for x in table['runs'])}"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        "targets: 100k convergence <= 0.5 s, full table <= 2 s, peak RSS <= 400 MB, poll <= 5 ms; "
        "1M convergence <= 5 s, peak RSS <= 1.5 GB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
