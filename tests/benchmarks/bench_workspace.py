"""Benchmark of listing a workspace: a folder of study files, each summarised with its studies' health.

    python -m tests.benchmarks.bench_workspace [--files 200] [--trials 1000] [--optuna-files 10] [--repeats 3]
                                               [--workdir DIR] [--keep]

One study of --trials trials is made by real Optuna (RandomSampler, 3 params, SQLite); it is copied --files times
into a folder tree (10 subfolders) and the study inside each copy is renamed with SQL, so every file is a distinct,
valid Optuna database. Measured, each --repeats times, alternately:

- optgui: `read_workspace(folder)` — the scan, every file opened read-only, its study summaries and health
  (what `optgui inspect FOLDER` and the window's workspace list do);
- optuna: `optuna.get_all_study_summaries(storage)` for each of the first --optuna-files files, scaled to --files
  (what a tool built on Optuna's API does to list the studies of many files; without health).

Target (2 cores): 200 files of 1,000 trials listed in ≤ 2 s.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path


def make_template(path: Path, n_trials: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="template", storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(seed=0)
    )

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        y = trial.suggest_int("y", 1, 100)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        return x * x + y + (c == "b")

    study.optimize(objective, n_trials=n_trials)


def make_folder(template: Path, folder: Path, n_files: int) -> list[Path]:
    paths = []
    for i in range(n_files):
        sub = folder / f"group{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"study{i:03d}.db"
        shutil.copyfile(template, path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE studies SET study_name = ?", (f"study-{i:03d}",))
        conn.close()
        paths.append(path)
    return paths


def time_optgui(folder: Path, expected: int) -> float:
    from optgui.core.health import read_workspace

    start = time.perf_counter()
    workspace = read_workspace(folder)
    elapsed = time.perf_counter() - start
    assert len(workspace.files) == expected and workspace.n_studies == expected, workspace.skipped
    assert all(f.error is None for f in workspace.files)
    return elapsed


def time_optuna(paths: list[Path], scale: float) -> float:
    import optuna

    start = time.perf_counter()
    for path in paths:
        storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
        optuna.get_all_study_summaries(storage)
        storage.remove_session()
        storage.engine.dispose()
    return (time.perf_counter() - start) * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--optuna-files", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="optgui-bench-workspace-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        template = workdir / "template.db"
        if not template.exists():
            start = time.perf_counter()
            make_template(template, args.trials)
            print(f"template: {args.trials} trials made by Optuna in {time.perf_counter() - start:.1f} s")
        folder = workdir / "folder"
        shutil.rmtree(folder, ignore_errors=True)
        paths = make_folder(template, folder, args.files)
        sample = paths[: args.optuna_files]
        scale = args.files / max(1, len(sample))
        optgui_times, optuna_times = [], []
        for _ in range(args.repeats):
            optgui_times.append(time_optgui(folder, args.files))
            optuna_times.append(time_optuna(sample, scale))
        ours, theirs = statistics.median(optgui_times), statistics.median(optuna_times)
        print(f"{args.files} files x {args.trials} trials")
        runs = ", ".join(f"{t:.2f}" for t in optgui_times)
        print(f"  optgui read_workspace (with health):  {ours:6.2f} s   runs: {runs}")
        print(
            f"  optuna get_all_study_summaries:       {theirs:6.2f} s   (measured on {len(sample)} files, scaled; "
            f"runs: {', '.join(f'{t:.2f}' for t in optuna_times)})"
        )
        print(f"  ratio optuna / optgui: {theirs / ours:.1f}x; target <= 2 s: {'met' if ours <= 2 else 'NOT met'}")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
