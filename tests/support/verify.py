"""Building real studies for the verifier tests: optgui runs (in process, or the CLI with fault points) and plain
Optuna studies, plus SQL tampering of SQLite copies."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
import sys
import warnings
from pathlib import Path

import optuna

from optgui.core.engine._builtin_objectives import DISCRETE_GRID
from optgui.core.engine._events import RunStateChanged, TrialFinished
from optgui.core.engine._runner import RunRequest, StudyRunner
from tests.support.determinism import STUDY, objective_for, run_cli

ROOT = Path(__file__).resolve().parents[2]

# Every built-in sampler with a search space and objective that exercises it within ~20 trials.
SAMPLERS = {
    "random": ("RandomSampler(seed=11)", "builtin:quadratic"),
    "tpe": ("TPESampler(seed=11)", "builtin:mixed"),
    "cmaes": ("CmaEsSampler(seed=11)", "builtin:quadratic"),
    "qmc": ("QMCSampler(seed=11)", "builtin:quadratic"),
    "nsgaii": ("NSGAIISampler(seed=11, population_size=6)", "builtin:multi"),
    "nsgaiii": ("NSGAIIISampler(seed=11, population_size=6)", "builtin:multi"),
    "gp": ("GPSampler(seed=11, n_startup_trials=4)", "builtin:quadratic"),
    "grid": (f"GridSampler(search_space={DISCRETE_GRID!r}, seed=11)", "builtin:discrete"),
    "bruteforce": ("BruteForceSampler(seed=11)", "builtin:discrete"),
}


def cli_env() -> dict:
    """The commands tests start (`python -m optgui ...`) import this worktree's optgui, whatever is installed.

    optgui's own child processes ignore PYTHONPATH (optgui.core.engine._child_process): they find optgui through the
    installation, which for a test run is this worktree installed in editable mode."""
    return {"PYTHONPATH": str(ROOT) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")}


def run_in_process(
    storage,
    sampler: str,
    objective: str,
    n_trials: int,
    *,
    pause_after: int | None = None,
    study_name: str = STUDY,
    trust_pickles: bool = False,
):
    """An optgui run in this process; with pause_after, pause (new segment) after that trial and resume at once.
    trust_pickles: adopt a study whose CMA-ES pickles plain Optuna wrote (as `--trust-pickles` does)."""
    request = RunRequest(
        storage=str(storage),
        study_name=study_name,
        objective=objective,
        sampler=sampler,
        n_trials=n_trials,
        trust_pickles=trust_pickles,
    )
    runner = StudyRunner(request)

    def listener(event):
        if isinstance(event, TrialFinished) and pause_after is not None and event.number == pause_after:
            runner.request_pause()
        elif isinstance(event, RunStateChanged) and event.state == "paused":
            runner.request_resume()

    runner._listener = listener
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runner.run()


def run_cli_here(storage, sampler, objective, n_trials, **kw):
    return run_cli(str(storage), sampler, objective, n_trials, extra_env=cli_env(), **kw)


def plain_study(
    storage, sampler: str, objective: str, n_trials: int, *, study_name: str = STUDY, n_jobs: int = 1, directions=None
):
    from optgui.core.engine._samplers import parse_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            storage=f"sqlite:///{storage}",
            study_name=study_name,
            sampler=parse_spec(sampler).build(),
            directions=directions or ["minimize"],
        )
        study.optimize(objective_for(objective), n_trials=n_trials, n_jobs=n_jobs, catch=(Exception,))
    return study


def append_plain_trials(storage, sampler: str, objective: str, n_trials: int, *, study_name: str = STUDY):
    """Another process's trials, with its own sampler, appended to an existing study."""
    from optgui.core.engine._samplers import parse_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.load_study(
            study_name=study_name, storage=f"sqlite:///{storage}", sampler=parse_spec(sampler).build()
        )
        study.optimize(objective_for(objective), n_trials=n_trials, catch=(Exception,))


def file_state(path) -> tuple:
    """Content hash and mtime: what must not change when a study is only inspected."""
    path = Path(path)
    siblings = sorted(p.name for p in path.parent.iterdir())
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, siblings


# --- tampering (direct SQL on a copy) -----------------------------------------------------------------------
def tampered_copy(src, dst, *statements) -> Path:
    shutil.copy(src, dst)
    conn = sqlite3.connect(dst)
    try:
        for st in statements:
            if callable(st):
                st(conn)
            else:
                conn.execute(st)
        conn.commit()
    finally:
        conn.close()
    return Path(dst)


def nudge_param(number: int, name: str):
    def apply(conn):
        ((pid, value),) = conn.execute(
            "SELECT param_id, param_value FROM trial_params JOIN trials USING (trial_id) "
            "WHERE trials.number = ? AND param_name = ?",
            (number, name),
        ).fetchall()
        conn.execute(
            "UPDATE trial_params SET param_value = ? WHERE param_id = ?", (math.nextafter(value, math.inf), pid)
        )

    return apply


def delete_trial(number: int):
    def apply(conn):
        ((tid,),) = conn.execute("SELECT trial_id FROM trials WHERE number = ?", (number,)).fetchall()
        for table in (
            "trial_params",
            "trial_values",
            "trial_intermediate_values",
            "trial_system_attributes",
            "trial_user_attributes",
        ):
            conn.execute(f"DELETE FROM {table} WHERE trial_id = ?", (tid,))
        conn.execute("DELETE FROM trials WHERE trial_id = ?", (tid,))

    return apply


def swap_trials(a: int, b: int):
    def apply(conn):
        conn.execute("UPDATE trials SET number = -1 WHERE number = ?", (a,))
        conn.execute("UPDATE trials SET number = ? WHERE number = ?", (a, b))
        conn.execute("UPDATE trials SET number = ? WHERE number = -1", (b,))

    return apply


def change_recorded_seed(seed: int):
    def apply(conn):
        ((value,),) = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = 'optgui:run'").fetchall()
        run = json.loads(value)
        run["seed"] = seed
        run["sampler"]["kwargs"]["seed"] = seed
        conn.execute("UPDATE study_system_attributes SET value_json = ? WHERE key = 'optgui:run'", (json.dumps(run),))

    return apply


def python() -> str:
    return sys.executable


def _trial_id(conn, number: int) -> int:
    ((tid,),) = conn.execute("SELECT trial_id FROM trials WHERE number = ?", (number,)).fetchall()
    return tid


def set_trial_state(number: int, state: str):
    """Re-state a trial (e.g. COMPLETE -> FAIL), dropping its values as Optuna stores a failed trial."""

    def apply(conn):
        tid = _trial_id(conn, number)
        conn.execute("UPDATE trials SET state = ? WHERE trial_id = ?", (state, tid))
        if state != "COMPLETE":
            conn.execute("DELETE FROM trial_values WHERE trial_id = ?", (tid,))

    return apply


def edit_distribution(number: int, name: str, **attributes):
    """Change attributes of one parameter's recorded distribution (the value stays)."""

    def apply(conn):
        tid = _trial_id(conn, number)
        ((text,),) = conn.execute(
            "SELECT distribution_json FROM trial_params WHERE trial_id = ? AND param_name = ?", (tid, name)
        ).fetchall()
        dist = json.loads(text)
        dist["attributes"].update(attributes)
        conn.execute(
            "UPDATE trial_params SET distribution_json = ? WHERE trial_id = ? AND param_name = ?",
            (json.dumps(dist), tid, name),
        )

    return apply


def next_choice(number: int, name: str):
    """Replace a categorical parameter's recorded choice by the next one in its list."""

    def apply(conn):
        tid = _trial_id(conn, number)
        ((index, text),) = conn.execute(
            "SELECT param_value, distribution_json FROM trial_params WHERE trial_id = ? AND param_name = ?",
            (tid, name),
        ).fetchall()
        n_choices = len(json.loads(text)["attributes"]["choices"])
        conn.execute(
            "UPDATE trial_params SET param_value = ? WHERE trial_id = ? AND param_name = ?",
            ((int(index) + 1) % n_choices, tid, name),
        )

    return apply


def set_trial_value(number: int, value: float):
    def apply(conn):
        conn.execute("UPDATE trial_values SET value = ? WHERE trial_id = ?", (value, _trial_id(conn, number)))

    return apply


def edit_run_record(**fields):
    """Overwrite top-level fields of the run record only (not the sampler spec inside it)."""

    def apply(conn):
        ((value,),) = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = 'optgui:run'").fetchall()
        conn.execute(
            "UPDATE study_system_attributes SET value_json = ? WHERE key = 'optgui:run'",
            (json.dumps({**json.loads(value), **fields}),),
        )

    return apply


def edit_segment_end(index: int, **fields):
    """Overwrite fields of a segment's end record."""

    def apply(conn):
        key = f"optgui:segment:{index}"
        ((value,),) = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = ?", (key,)).fetchall()
        segment = json.loads(value)
        segment["end"] = {**segment["end"], **fields}
        conn.execute("UPDATE study_system_attributes SET value_json = ? WHERE key = ?", (json.dumps(segment), key))

    return apply
