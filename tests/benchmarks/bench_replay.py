"""Replay cost versus the sampler's own cost, and the cost of extending a verified study.

    python -m tests.benchmarks.bench_replay [--trials 1000] [--extra 10]

Prints, from one run (compare the ratios, not absolute times: these machines are noisy):
  * the original in-memory `optimize` of a TPE study (trivial objective: the time is the sampler's and Optuna's);
  * the verifier's replay of that history (target: at most 1.2x the original);
  * extending a verified study by a few new trials, in the same session (Verifier.extend) and in a new session
    that resumes from a cache checkpoint (copy of the verified prefix + restored sampler state).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import optuna

from optgui.core.engine._builtin_objectives import BUILTINS
from optgui.core.verify._verifier import Verifier

SPEC = "TPESampler(seed=42)"


def make_study(n: int):
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=42), study_name="bench")
    t0 = time.perf_counter()
    study.optimize(BUILTINS["mixed"](), n_trials=n)
    return study, time.perf_counter() - t0


def new_verifier(study) -> Verifier:
    return Verifier(study_name=study.study_name, directions=["minimize"], system_attrs={}, spec=SPEC)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--extra", type=int, default=10)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    n, extra = args.trials, args.extra

    study, t_original = make_study(n)
    trials = study.get_trials(deepcopy=False)
    verifier = new_verifier(study)
    t0 = time.perf_counter()
    progress = verifier.extend(trials)
    t_replay = time.perf_counter() - t0
    assert verifier.verdict().kind == "verified" and progress.checked == n, verifier.verdict().summary()
    print(f"TPE, {n} trials (5-D mixed space), in memory")
    print(f"  original optimize:             {t_original:8.2f} s")
    print(f"  replay (verifier):             {t_replay:8.2f} s   ratio {t_replay / t_original:.2f}x (target <= 1.2x)")

    checkpoint = verifier.checkpoint()
    t0 = time.perf_counter()
    study.optimize(BUILTINS["mixed"](), n_trials=extra)
    t_more = time.perf_counter() - t0
    all_trials = study.get_trials(deepcopy=False)
    t0 = time.perf_counter()
    verifier.extend(all_trials)
    t_extend = time.perf_counter() - t0
    assert verifier.verdict().n_checked == n + extra
    resumed = new_verifier(study)
    t0 = time.perf_counter()
    resumed.resume(checkpoint, all_trials[:n])
    t_restore = time.perf_counter() - t0
    resumed.extend(all_trials)
    t_resumed = time.perf_counter() - t0
    assert resumed.verdict().kind == "verified" and resumed.verdict().n_checked == n + extra
    print(f"Extending the verified {n}-trial study by {extra} trials")
    print(f"  original optimize of them:     {t_more * 1000:8.1f} ms")
    print(f"  Verifier.extend (same session):{t_extend * 1000:8.1f} ms   ratio {t_extend / t_more:.2f}x")
    print(
        f"  resume from checkpoint + extend:{t_resumed * 1000:7.1f} ms   (of which rebuilding the prefix "
        f"{t_restore * 1000:.1f} ms; a full replay took {t_replay * 1000:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
