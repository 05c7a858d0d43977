"""Benchmark of listing a study's artifacts and of `optgui inspect --json` with notes and artifacts.

    python -m tests.benchmarks.bench_artifacts [--artifacts 1000] [--inspect-size 100000] [--repeats 3]
                                               [--workdir DIR] [--keep]

1. Listing: a SQLite study of 100 trials whose objective uploads 10 small files each with
   `optuna.artifacts.upload_artifact` into a FileSystemArtifactStore (1,000 artifacts). Measured in one process,
   alternately, median of --repeats:
   - optgui: open the reader, read every artifact's metadata (`read_artifacts`) and stat each stored file for its
     size (what the trials table's count and the artifact list need);
   - baseline: Optuna's own way, `optuna.artifacts.get_all_artifact_meta` for the study and each of its trials
     (after `load_study`), without sizes.
   Target: ≤ 0.5 s for 1,000 artifacts.
2. inspect: the study bench_reader.py builds (--inspect-size trials, 5 params), measured as `python -m optgui
   inspect … --json` in a fresh process, before and after 1,000 trial notes (dashboard format), a study note and
   1,000 artifact records were added to it; the ratio is with/without. Target: ≤ 3 s at 100k trials.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.benchmarks.bench_reader import STUDY, build_study

REPO = Path(__file__).resolve().parents[2]
PER_TRIAL = 10


def build_artifact_study(folder: Path, n_artifacts: int) -> tuple[Path, Path]:
    import optuna
    from optuna.artifacts import FileSystemArtifactStore, upload_artifact

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path, store = folder / "artifacts.db", folder / "artifacts"
    store.mkdir()
    source = folder / "source.txt"
    source.write_text("x" * 100)
    artifact_store = FileSystemArtifactStore(base_path=store)

    def objective(trial: optuna.Trial) -> float:
        for _ in range(PER_TRIAL):
            upload_artifact(artifact_store=artifact_store, file_path=str(source), study_or_trial=trial)
        return trial.suggest_float("x", 0, 1)

    study = optuna.create_study(study_name="art", storage=f"sqlite:///{path}")
    study.optimize(objective, n_trials=n_artifacts // PER_TRIAL)
    return path, store


def time_optgui_listing(path: Path, store: Path) -> tuple[float, int]:
    from optgui.core.annotations import artifact_size, read_artifacts
    from optgui.core.storage import open_reader

    began = time.perf_counter()
    with open_reader(str(path)) as reader:
        artifacts = read_artifacts(reader, "art")
    every = [*artifacts.study, *(a for n in sorted(artifacts.trials) for a in artifacts.trials[n])]
    sizes = [artifact_size(store, a.artifact_id) for a in every]
    seconds = time.perf_counter() - began
    assert all(size == 100 for size in sizes)
    return seconds, len(every)


def time_optuna_listing(path: Path) -> tuple[float, int]:
    import optuna
    from optuna.artifacts import get_all_artifact_meta

    began = time.perf_counter()
    study = optuna.load_study(study_name="art", storage=f"sqlite:///{path}")
    count = len(get_all_artifact_meta(study))
    for trial in study.get_trials(deepcopy=False):
        count += len(get_all_artifact_meta(trial, storage=study._storage))
    seconds = time.perf_counter() - began
    return seconds, count


def annotate(path: Path, notes: int, artifacts: int) -> None:
    """Add a study note, `notes` trial notes and `artifacts` trial artifact records, as the dashboard and Optuna
    store them, with SQL (the study has too many trials for the APIs to be quick)."""
    conn = sqlite3.connect(path)
    (study_id,) = conn.execute("SELECT study_id FROM studies WHERE study_name = ?", (STUDY,)).fetchone()
    ids = [
        row[0] for row in conn.execute("SELECT trial_id FROM trials WHERE study_id = ? ORDER BY number", (study_id,))
    ]
    step = max(1, len(ids) // max(1, notes))
    rows = [(study_id, "dashboard:note_ver", "1"), (study_id, "dashboard:note_str:0", json.dumps("# Study"))]
    for trial_id in ids[::step][:notes]:
        rows.append((study_id, f"dashboard:{trial_id}:note_ver", "1"))
        rows.append((study_id, f"dashboard:{trial_id}:note_str:0", json.dumps(f"note of trial id {trial_id}")))
    conn.executemany("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (?, ?, ?)", rows)
    trial_rows = []
    for trial_id in ids[::step][:artifacts]:
        artifact_id = str(uuid.uuid4())
        meta = {"artifact_id": artifact_id, "filename": "plot.png", "mimetype": "image/png", "encoding": None}
        trial_rows.append((trial_id, f"artifacts:{artifact_id}", json.dumps(json.dumps(meta))))
    conn.executemany("INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, ?, ?)", trial_rows)
    conn.commit()
    conn.close()


def time_inspect(db: Path, out: Path) -> float:
    command = [sys.executable, "-m", "optgui", "inspect", str(db), "--study", STUDY, "--json"]
    with out.open("w") as sink:
        began = time.perf_counter()
        subprocess.run(command, stdout=sink, check=True, cwd=REPO)
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=1000)
    parser.add_argument("--inspect-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-artifacts-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        path, store = build_artifact_study(work, args.artifacts)
        optgui_times, optuna_times = [], []
        for _ in range(args.repeats):
            seconds, count = time_optgui_listing(path, store)
            optgui_times.append(seconds)
            base, base_count = time_optuna_listing(path)
            optuna_times.append(base)
            assert count == base_count == args.artifacts, (count, base_count)
        mine, theirs = statistics.median(optgui_times), statistics.median(optuna_times)
        print(f"listing {args.artifacts} artifacts (metadata + sizes): {mine:.3f} s (target <= 0.5 s)")
        print(
            f"  baseline optuna get_all_artifact_meta per trial (no sizes): {theirs:.3f} s; ratio {mine / theirs:.2f}"
        )
        print(f"  runs: optgui {[round(t, 3) for t in optgui_times]}, optuna {[round(t, 3) for t in optuna_times]}")

        db = work / "inspect.db"
        build_study(db, args.inspect_size)
        plain = [time_inspect(db, work / "plain.json") for _ in range(args.repeats)]
        annotate(db, notes=1000, artifacts=1000)
        annotated = [time_inspect(db, work / "annotated.json") for _ in range(args.repeats)]
        document = json.loads((work / "annotated.json").read_text())
        assert len(document["notes"]["trials"]) == 1000 and len(document["artifacts"]["trials"]) == 1000
        with_notes, without = statistics.median(annotated), statistics.median(plain)
        print(
            f"inspect --json, {args.inspect_size} trials with 1000 notes and 1000 artifacts: {with_notes:.2f} s "
            f"(target <= 3 s); without them: {without:.2f} s; ratio {with_notes / without:.2f}"
        )
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
