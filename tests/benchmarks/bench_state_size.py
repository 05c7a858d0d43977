"""Size of the saved sampler state per resume boundary for NSGA-II, as stored and as a full copy would be.

    python -m tests.benchmarks.bench_state_size [--boundaries 200,1000,2000] [--population 50] [--db PATH]

Runs `NSGAIISampler(seed=1, population_size=P)` on builtin:multi with optgui on SQLite, one run per boundary
(each rerun ends a segment there), then prints for each `optgui:state:<b>`: the bytes stored, the study
attributes it stores, and the bytes of the full record (every sampler-owned study attribute copied, as states were
stored before they became incremental). GA samplers add one parent cache per generation, so the full copy grows
with the generation count while the stored record holds only the generations since the previous boundary plus the
RNG states (~7 KB: two MT19937 states). NSGA-II on SQLite gets slower with the trial count (Optuna reads every
trial per suggestion): 2000 trials take minutes.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import warnings
from pathlib import Path

from optgui.core import records
from optgui.core.engine._runner import RunRequest, StudyRunner


def run_to(path: Path, spec: str, n_trials: int) -> None:
    request = RunRequest(
        storage=str(path), study_name="size", objective="builtin:multi", sampler=spec, n_trials=n_trials
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        StudyRunner(request).run()


def state_records(path: Path) -> dict[int, str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT key, value_json FROM study_system_attributes WHERE key LIKE 'optgui:state:%'")
        return {int(key[len(records.KEY_STATE) :]): value for key, value in rows}
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boundaries", default="200,1000,2000")
    parser.add_argument("--population", type=int, default=50)
    parser.add_argument("--db", type=Path, default=None, help="keep the study here (default: a temporary file)")
    args = parser.parse_args()
    spec = f"NSGAIISampler(seed=1, population_size={args.population})"
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "size.db"
        for boundary in (int(b) for b in args.boundaries.split(",")):
            run_to(path, spec, boundary)
        raw = state_records(path)
    full = records.StudyMetadata.from_system_attrs({records.state_key(b): json.loads(v) for b, v in raw.items()}).states
    print(f"{spec}, builtin:multi, SQLite")
    print(f"{'boundary':>8} {'stored bytes':>13} {'attrs stored':>13} {'full copy bytes':>16} {'attrs in full':>14}")
    for boundary in sorted(raw):
        stored = json.loads(raw[boundary])
        full_bytes = len(json.dumps(full[boundary]))
        print(
            f"{boundary:>8} {len(raw[boundary]):>13} {len(stored['study_attrs']):>13} {full_bytes:>16} "
            f"{len(full[boundary]['study_attrs']):>14}"
        )


if __name__ == "__main__":
    main()
