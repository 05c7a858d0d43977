"""Benchmark of `optgui inspect STORAGE --study S` output on a large SQLite study (5 params per trial).

    python -m tests.benchmarks.bench_inspect [--size 100000] [--repeats 3] [--workdir DIR] [--keep]

The study is built as bench_reader.py builds it (Optuna creates the study; trials are inserted with executemany in
one transaction). Each measurement is the whole command, `python -m optgui inspect …` in a fresh process with its
output going to a file, so start-up, reading and encoding are all counted:

- json:   `--json` (streamed with the C encoder);
- jsonl:  `--jsonl` (one trial per line);
- table:  the text table;
- indent: the baseline, measured in the same run: the same trial rows encoded the way `--json` did before
  (`json.dump(…, indent=1)`, i.e. Python's pure encoder), in a child that reads the study the same way.

Repeats alternate between the kinds (this machine's speed drifts over minutes); the median is shown, and the ratio
of each kind to the baseline. Target: `--json` on 100k trials ≤ 3 s (it took 14 s with indent=1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_reader import STUDY, build_study

REPO = Path(__file__).resolve().parents[2]

KINDS = ("json", "jsonl", "table", "indent")

# The baseline: today's --json, which formatted the same rows with indent=1 (Python's pure encoder).
_INDENT_BASELINE = """
import json, sys
from optgui.commands import inspect as ins
from optgui.core.storage._reader import open_reader

with open_reader(sys.argv[1]) as reader:
    summary = next(s for s in reader.studies() if s.name == sys.argv[2])
    table = reader.trials(sys.argv[2])
    data = {"schema": ins.JSON_SCHEMA, "study": summary.as_json(), "trials": list(ins.trial_rows(table))}
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
    sys.stdout.write("\\n")
"""


def _command(kind: str, db: Path) -> list[str]:
    if kind == "indent":
        return [sys.executable, "-c", _INDENT_BASELINE, str(db), STUDY]
    flags = {"json": ["--json"], "jsonl": ["--jsonl"], "table": []}[kind]
    return [sys.executable, "-m", "optgui", "inspect", str(db), "--study", STUDY, *flags]


def measure(kind: str, db: Path, out: Path) -> float:
    with out.open("w") as sink:
        began = time.perf_counter()
        result = subprocess.run(
            _command(kind, db), stdout=sink, stderr=subprocess.PIPE, text=True, cwd=REPO, check=False
        )
        seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{result.stderr}")
    return seconds


def check_output(kind: str, out: Path, size: int) -> None:
    """The outputs are what they claim: JSON documents / lines with every trial."""
    text = out.read_text()
    if kind in ("json", "indent"):
        assert len(json.loads(text)["trials"]) == size
    elif kind == "jsonl":
        lines = text.splitlines()
        assert len(lines) == size and json.loads(lines[-1])["number"] == size - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"inspect-{args.size}.db"
    try:
        if not db.exists():
            began = time.perf_counter()
            os.environ["BENCH_SIZE"] = str(args.size)
            build_study(db, args.size)
            print(f"built {args.size} trials in {time.perf_counter() - began:.1f} s", flush=True)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for round_ in range(args.repeats):
            for kind in KINDS:
                out = workdir / f"out-{kind}.txt"
                times[kind].append(measure(kind, db, out))
                if round_ == 0:
                    check_output(kind, out, args.size)
        base = statistics.median(times["indent"])
        print(f"\noptgui inspect --study, {args.size} trials, median of {args.repeats} (seconds, ratio to indent=1)")
        for kind in KINDS:
            median = statistics.median(times[kind])
            runs = ", ".join(f"{t:.2f}" for t in times[kind])
            print(f"  {kind:7s} {median:6.2f} s  ×{median / base:5.2f}   [{runs}]")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
