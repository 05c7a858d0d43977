"""Helpers for the fleet tests: the plain-Optuna batched reference loop, an objective file in two parts, and
running `optgui run --workers N` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import optuna

from optgui.core.engine._samplers import parse_spec
from tests.support.determinism import first_difference, trial_signature

REPO = Path(__file__).resolve().parents[2]

# An objective in two parts. The delay is random (its own RNG, seeded per run from the environment) and never
# changes the value, so any difference between runs can only come from sampling or ordering.
OBJECTIVE_SOURCE = textwrap.dedent("""
    import math, os, random, time
    import optuna

    _delays = random.Random(os.environ.get("FLEET_JITTER_SEED", "0") + str(os.getpid()))
    MAX_SLEEP = float(os.environ.get("FLEET_MAX_SLEEP", "0.03"))
    # A test that must act mid-run holds trials from FLEET_GATE_FROM on until the file FLEET_GATE exists, so a fast
    # machine cannot finish the run first. Waiting never changes a value.
    GATE = os.environ.get("FLEET_GATE")
    GATE_FROM = int(os.environ.get("FLEET_GATE_FROM", "0"))

    def _wait_for_gate(trial):
        deadline = time.monotonic() + 300
        while GATE and trial.number >= GATE_FROM and not os.path.exists(GATE) and time.monotonic() < deadline:
            time.sleep(0.05)

    def search_space(trial):
        trial.suggest_float("x", -10.0, 10.0)
        trial.suggest_int("n", 1, 8)
        trial.suggest_categorical("kind", ["a", "b", "c"])

    def evaluate(trial):
        x = trial.suggest_float("x", -10.0, 10.0)
        n = trial.suggest_int("n", 1, 8)
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        _wait_for_gate(trial)
        time.sleep(_delays.random() * MAX_SLEEP)
        loss = (x - 2.0) ** 2 + (n - 3) ** 2 * 0.5 + {"a": 0.0, "b": 0.7, "c": 1.3}[kind]
        for step in range(3):
            trial.report(loss * (3 - step), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return loss

    def objective(trial):
        search_space(trial)
        return evaluate(trial)
""")


def write_objective(folder: Path) -> Path:
    path = folder / "fleet_objective.py"
    path.write_text(OBJECTIVE_SOURCE)
    return path


def load_parts(path: Path):
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - the test's own objective file
    return namespace["search_space"], namespace["evaluate"]


def batched_reference(
    sampler: str, path: Path, n_trials: int, batch: int, *, study_name: str, pipeline: bool = False, naive: bool = False
) -> list[tuple]:
    """Plain Optuna in one thread: ask k trials (each followed by its suggests), evaluate them, tell them in
    trial-number order. naive=True is the usual mistake: ask the batch, then let each trial's suggests run in
    whatever order the workers happen to reach them (here: backwards), as define-by-run objectives on workers do."""
    search_space, evaluate = load_parts(path)
    return batched_reference_of(
        sampler, search_space, evaluate, n_trials, batch, study_name=study_name, pipeline=pipeline, naive=naive
    )


def batched_reference_of(
    sampler: str,
    search_space,
    evaluate,
    n_trials: int,
    batch: int,
    *,
    study_name: str,
    pipeline: bool = False,
    naive: bool = False,
) -> list[tuple]:
    """batched_reference with the two parts of the objective given as functions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(sampler=parse_spec(sampler).build(), study_name=study_name)
        asked = 0

        def ask(size):
            nonlocal asked
            trials = []
            for _ in range(size):
                trial = study.ask()
                if not naive:
                    search_space(trial)
                trials.append(trial)
            if naive:
                for trial in reversed(trials):
                    search_space(trial)
            asked += size
            return trials

        pending = [ask(min(batch, n_trials))]
        while pending:
            if pipeline and asked < n_trials and len(pending) == 1:
                pending.append(ask(min(batch, n_trials - asked)))
            current = pending.pop(0)
            outcomes = []
            for trial in current:
                try:
                    outcomes.append((trial, evaluate(trial), None))
                except optuna.TrialPruned:
                    outcomes.append((trial, None, optuna.trial.TrialState.PRUNED))
            for trial, value, state in outcomes:
                study.tell(trial, value, state=state)
            if not pending and asked < n_trials:
                pending.append(ask(min(batch, n_trials - asked)))
    return [trial_signature(t) for t in study.trials]


def naive_restart_reference(
    sampler: str,
    path: Path,
    n_trials: int,
    batch: int,
    *,
    study_name: str,
    restart_after_tell: int,
    pipeline: bool = False,
) -> list[tuple]:
    """What plain Optuna gives when the process running the batched loop dies after telling trial
    `restart_after_tell` and is simply started again: the trials in flight are failed as stale (and not counted),
    and the new process's sampler starts from its seed. The failed trials are left out of the result."""
    search_space, evaluate = load_parts(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(sampler=parse_spec(sampler).build(), study_name=study_name)
        asked = 0
        failed: set[int] = set()

        def ask(size):
            nonlocal asked
            trials = []
            for _ in range(size):
                trial = study.ask()
                search_space(trial)
                trials.append(trial)
            asked += size
            return trials

        pending = [ask(min(batch, n_trials))]
        restarted = False
        while pending:
            if pipeline and asked < n_trials and len(pending) == 1:
                pending.append(ask(min(batch, n_trials - asked)))
            current = pending.pop(0)
            for trial in current:
                if restarted or trial.number <= restart_after_tell:
                    try:
                        study.tell(trial, evaluate(trial))
                    except optuna.TrialPruned:
                        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                else:
                    failed.add(trial.number)
                if not restarted and trial.number == restart_after_tell:
                    restarted = True
                    in_flight = [t for t in current if t.number > trial.number] + [t for b in pending for t in b]
                    for stale in in_flight:
                        study.tell(stale, state=optuna.trial.TrialState.FAIL)
                        failed.add(stale.number)
                    asked -= len(in_flight)
                    pending = []
                    study.sampler = parse_spec(sampler).build()
                    break
            if not pending and asked < n_trials:
                pending.append(ask(min(batch, n_trials - asked)))
    return [trial_signature(t) for t in study.trials if t.number not in failed]


def recorded_signatures(storage, study_name: str) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name=study_name, storage=storage)
        return [trial_signature(t) for t in study.get_trials(deepcopy=False)]


def child_env(**extra) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OPTGUI_FAULT", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def optgui_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "optgui", *args]


def run_fleet(
    storage: str,
    study: str,
    objective: str,
    sampler: str,
    n_trials: int,
    *,
    workers: int,
    batch: int,
    mode: str = "deterministic",
    pipeline: bool = False,
    env: dict | None = None,
    timeout: float = 240,
    background: bool = False,
    output=None,
):
    """output: a file for stdout and stderr (instead of capturing them), for a run whose workers outlive it."""
    cmd = optgui_cmd(
        "run",
        storage,
        "--study",
        study,
        "--objective",
        objective,
        "--sampler",
        sampler,
        "--n-trials",
        str(n_trials),
        "--workers",
        str(workers),
        "--mode",
        mode,
        "--quiet",
    )
    if mode == "deterministic":
        cmd += ["--batch", str(batch)] + (["--pipeline"] if pipeline else [])
    if background:
        return subprocess.Popen(cmd, env=env or child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if output is not None:
        return subprocess.run(cmd, env=env or child_env(), stdout=output, stderr=output, text=True, timeout=timeout)
    return subprocess.run(cmd, env=env or child_env(), capture_output=True, text=True, timeout=timeout)


def fleet_difference(reference: list[tuple], storage, study_name: str) -> str | None:
    """None when the study's trials equal the reference; else what differs, with the first differing trial's
    claims, posted result and error, so that a rare failure on a loaded machine says what happened."""
    recorded = recorded_signatures(storage, study_name)
    index = first_difference(reference, recorded)
    if index is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trials = optuna.load_study(study_name=study_name, storage=storage).get_trials(deepcopy=False)
    trial = trials[index] if index < len(trials) else None
    attrs = {k: v for k, v in trial.system_attrs.items() if k.startswith("optgui:")} if trial else {}
    return (
        f"trial {index} differs (reference {len(reference)} trials, recorded {len(recorded)}):\n"
        f"  reference: {reference[index] if index < len(reference) else None}\n"
        f"  recorded:  {recorded[index] if index < len(recorded) else None}\n"
        f"  intermediate values: {trial.intermediate_values if trial else None}\n"
        f"  optgui attributes: {attrs}"
    )
