"""Seeded random SIGKILL soak: kill `optgui run` at random moments, resume, and compare with plain Optuna.

    python -m tests.benchmarks.soak_kill [--seed N] [--studies 6] [--trials 30]

For each study a sampler/objective pair is drawn; the run is started and killed with SIGKILL after a random delay
(drawn from the seed, printed first so a failure can be replayed with --seed) until it finishes, then its finished
trials (abandoned ones dropped) are compared bit for bit with the uninterrupted plain-Optuna reference.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.determinism import STUDY, first_difference, recorded, reference

PAIRS = [
    ("RandomSampler(seed={s})", "builtin:quadratic"),
    ("TPESampler(seed={s})", "builtin:mixed"),
    ("TPESampler(seed={s})", "builtin:pruned"),
    ("CmaEsSampler(seed={s})", "builtin:quadratic"),
    ("QMCSampler(seed={s}, scramble=True)", "builtin:quadratic"),
    ("NSGAIISampler(seed={s}, population_size=6)", "builtin:multi"),
    ("BruteForceSampler(seed={s})", "builtin:discrete"),
    ("GridSampler({{'x': [0, 1, 2, 3, 4, 5], 'y': [0, 1, 2, 3, 4, 5]}}, seed={s})", "builtin:discrete"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--studies", type=int, default=6)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print(f"soak seed {seed}", flush=True)
    rnd = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="optgui-soak-"))
    failures = 0
    for i in range(args.studies):
        sampler_t, objective = rnd.choice(PAIRS)
        sampler = sampler_t.format(s=rnd.randrange(1000))
        db = str(tmp / f"s{i}.db")
        kills = 0
        cmd = [
            sys.executable,
            "-m",
            "optgui",
            "run",
            db,
            "--study",
            STUDY,
            "--objective",
            objective,
            "--sampler",
            sampler,
            "--n-trials",
            str(args.trials),
            "--quiet",
        ]
        started = time.perf_counter()
        while True:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            delay = rnd.uniform(0.5, 3.0)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
            if proc.returncode != 0:
                print(f"  study {i}: exit {proc.returncode}: {proc.stderr.read().strip()}")
                failures += 1
            break
        expected = reference(sampler, objective, args.trials)
        got = recorded(db)
        diff = first_difference(expected, got)
        verdict = "identical" if diff is None else f"DIVERGED at position {diff}"
        failures += diff is not None
        print(
            f"  study {i}: {sampler} on {objective}: {kills} kills, {len(got)} trials, {verdict} "
            f"({time.perf_counter() - started:.1f}s)",
            flush=True,
        )
    print(f"{args.studies - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
