"""Objective check, the other half of reproducibility: re-evaluate a few recorded trials with the recorded objective.

Runs user code, so it only ever runs on explicit request (`optgui verify --objective-check K`), and in a child
process so that the objective's imports, globals and crashes stay out of the caller. The best trial and a small
random sample of COMPLETE trials (chosen reproducibly) are re-evaluated with `optuna.trial.FixedTrial(params)`,
which answers every suggest with the recorded value and never prunes, so an objective that reports intermediate
values runs to its final value; values are compared bit for bit, or within a relative tolerance.

Child:  python -P -s -m optgui.core.verify._objective_check STORAGE --study NAME --count K [--rtol R] [--objective REF]
        [--import-root DIR]
        prints {"event": "executing", "objective": REF, "file": PATH, "import_root": DIR} before it loads the
        objective (the caller tells the user what runs), then one JSON line {"event": "objective_check", ...} (or
        {"event": "error", ...}).

The child imports optgui with an isolated path (optgui.core.engine._child_process) and adds only the objective's import
root: the one recorded with the study's objective, or the one found for --objective by the caller.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence

from optuna.trial import FrozenTrial, TrialState

from optgui.core.engine import ObjectiveRef, load_objective, objective_import_root, parse_objective, python_command
from optgui.core.engine._objectives import _sha256
from optgui.core.errors import EXIT_ERROR, ObjectiveError, OptguiError
from optgui.core.records import StudyMetadata
from optgui.core.storage import read_study
from optgui.core.verify._process import child_environment
from optgui.core.verify._verdict import ObjectiveCheck, TrialRecheck


def choose_trials(
    trials: Sequence[FrozenTrial], directions: Sequence[str], count: int, *, salt: str = ""
) -> list[FrozenTrial]:
    """The best COMPLETE trial (by the first objective) and count-1 others drawn reproducibly."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values is not None]
    if not complete or count <= 0:
        return []
    sign = 1.0 if directions[0] == "minimize" else -1.0
    best = min(complete, key=lambda t: (sign * t.values[0], t.number))
    others = [t for t in complete if t.number != best.number]
    rng = random.Random(f"{salt}:{len(trials)}")
    sample = rng.sample(others, min(count - 1, len(others)))
    return [best] + sorted(sample, key=lambda t: t.number)


def values_match(recorded: Sequence[float], evaluated: Sequence[float], rtol: float | None) -> bool:
    if len(recorded) != len(evaluated):
        return False
    for a, b in zip(recorded, evaluated, strict=False):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            if not (math.isnan(a) and math.isnan(b)):
                return False
        elif rtol:
            if not math.isclose(a, b, rel_tol=rtol, abs_tol=0.0):
                return False
        elif a.hex() != b.hex():
            return False
    return True


def _objective_ref(snapshot, objective: str | None, import_root: str | None = None):

    if objective is not None:
        return parse_objective(objective, import_root=import_root), ""
    meta = StudyMetadata.from_system_attrs(snapshot.system_attrs).check()  # it runs code: nothing malformed
    if meta.run is None:  # checked metadata has a run record exactly when optgui ran the study
        raise ObjectiveError(
            "the objective check needs the objective the study was run with: this study has no "
            "optgui metadata, so name it with --objective FILE.py:FUNCTION"
        )
    ref = ObjectiveRef.from_record(meta.run["objective"])
    note = ""
    if ref.kind == "file" and ref.sha256:
        path = ref.file_path
        if not path.is_file():
            raise ObjectiveError(f"the recorded objective file {path} no longer exists")
        now = _sha256(path)
        if now != ref.sha256:
            note = f"objective file {path} changed since the run (sha256 {ref.sha256[:12]}… recorded, {now[:12]}… now)"
    return ref, note


def evaluate(
    snapshot,
    count: int,
    rtol: float | None,
    objective: str | None = None,
    *,
    import_root: str | None = None,
    announce: Callable[[object], None] | None = None,
) -> ObjectiveCheck:
    """In this process: load the objective and re-evaluate the chosen trials (user code runs here).

    announce(ref) is called with the ObjectiveRef right before its code is loaded."""

    ref, note = _objective_ref(snapshot, objective, import_root)
    if announce is not None:
        announce(ref)
    bridge = _bridge_in_recorded_environment(snapshot, ref)
    func = bridge if bridge is not None else load_objective(ref)
    try:
        return _recheck(snapshot, func, count, rtol, note)
    finally:
        if bridge is not None:
            bridge.close()


def _bridge_in_recorded_environment(snapshot, ref: ObjectiveRef):
    """The objective in the interpreter the study last ran it in (`--python`), or None for optgui's own."""
    from optgui.core.engine import BridgeObjective, PythonEnvironmentError, recorded_environment

    if ref.kind == "builtin":
        return None
    meta = StudyMetadata.from_system_attrs(snapshot.system_attrs).check()
    environment = recorded_environment(meta.run, meta.segments) if meta.run is not None else None
    if environment is None:
        return None
    bridge = BridgeObjective(environment["executable"], ref.ref, import_root=ref.import_root)
    try:
        bridge.start()
    except (PythonEnvironmentError, OSError) as exc:
        raise ObjectiveError(f"the objective check cannot use the recorded environment: {exc}") from None
    return bridge


def _recheck(snapshot, func, count: int, rtol: float | None, note: str) -> ObjectiveCheck:
    import optuna

    results = []
    for trial in choose_trials(snapshot.trials, snapshot.directions, count, salt=snapshot.name):
        recorded = tuple(float(v) for v in trial.values)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = func(optuna.trial.FixedTrial(dict(trial.params), number=trial.number))
            evaluated = tuple(float(v) for v in (out if isinstance(out, (list, tuple)) else [out]))
        except Exception as exc:  # noqa: BLE001 - a failing objective is a result, not a crash of the check
            results.append(TrialRecheck(trial.number, recorded, None, False, f"{exc.__class__.__name__}: {exc}"))
            continue
        results.append(TrialRecheck(trial.number, recorded, evaluated, values_match(recorded, evaluated, rtol)))
    if not results:
        note = (note + "; " if note else "") + "no COMPLETE trials to re-evaluate"
    return ObjectiveCheck(rtol, tuple(results), note)


def run_objective_check(
    storage: str,
    study_name: str,
    count: int,
    *,
    rtol: float | None = None,
    objective: str | None = None,
    timeout: float | None = None,
    announce: Callable[[dict], None] | None = None,
) -> ObjectiveCheck:
    """Re-evaluate in a child process; raises OptguiError with the child's message on failure.

    announce(info) is called, before the objective's code runs, with what the child is about to execute:
    {"objective": REF, "file": PATH or None, "import_root": DIR or None}."""
    import tempfile

    args = [storage, "--study", study_name, "--count", str(count)]
    if rtol is not None:
        args += ["--rtol", repr(rtol)]
    if objective is not None:
        args += ["--objective", objective]

        root = objective_import_root(objective)  # found with our path, without running it: the child's is isolated
        if root:
            args += ["--import-root", root]
    with tempfile.TemporaryFile("w+") as errors:  # a file: a chatty objective cannot block on a full pipe
        proc = subprocess.Popen(
            python_command("optgui.core.verify._objective_check", *args),
            env=child_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            result = _read_child(proc, announce, timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if result is not None:
            return result
        errors.seek(0)
        tail = next((line for line in reversed(errors.read().splitlines()) if line.strip()), "")
    raise OptguiError(f"the objective check process exited with code {proc.returncode}" + (f": {tail}" if tail else ""))


def _read_child(proc, announce, timeout: float | None) -> ObjectiveCheck | None:
    """The child's JSON lines until its result; None when it ended without one."""
    import threading

    timer = None
    expired = threading.Event()
    if timeout is not None:

        def expire():
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, expire)
        timer.start()
    try:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            obj = json.loads(line)
            if obj.get("event") == "executing" and announce is not None:
                announce({k: obj.get(k) for k in ("objective", "file", "import_root")})
            elif obj.get("event") == "objective_check":
                return _check_from_json(obj["check"])
            elif obj.get("event") == "error":
                raise OptguiError(obj["message"])
    finally:
        if timer is not None:
            timer.cancel()
    if expired.is_set():
        raise OptguiError(f"the objective check did not finish within {timeout} s")
    return None


def _check_from_json(c: dict) -> ObjectiveCheck:
    return ObjectiveCheck(
        c["rtol"],
        tuple(
            TrialRecheck(t["trial"], _floats(t["recorded"]), _floats(t["evaluated"]), t["reproduced"], t.get("error"))
            for t in c["trials"]
        ),
        c.get("note", ""),
    )


def _floats(values):
    if values is None:
        return None
    return tuple(float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf")) for v in values)


def _json_float(v: float):
    if math.isfinite(v):
        return v
    return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optgui.core.verify._objective_check")
    parser.add_argument("storage")
    parser.add_argument("--study", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rtol", type=float)
    parser.add_argument("--objective")
    parser.add_argument("--import-root")
    args = parser.parse_args(argv)
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the objective prints goes to stderr, not into our JSON
    sys.stdout = sys.stderr
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:

        def announce(ref) -> None:
            info = {"objective": ref.ref, "file": ref.path, "import_root": ref.import_root}
            out.write(json.dumps({"event": "executing", **info}) + "\n")

        check = evaluate(
            read_study(args.storage, args.study),
            args.count,
            args.rtol,
            args.objective,
            import_root=args.import_root,
            announce=announce,
        )
        trials = [
            {
                "trial": t.trial,
                "recorded": [_json_float(v) for v in t.recorded or ()],
                "evaluated": None if t.evaluated is None else [_json_float(v) for v in t.evaluated],
                "reproduced": t.reproduced,
                "error": t.error,
            }
            for t in check.trials
        ]
        out.write(
            json.dumps(
                {"event": "objective_check", "check": {"rtol": check.rtol, "trials": trials, "note": check.note}}
            )
            + "\n"
        )
        return 0
    except OptguiError as exc:
        out.write(json.dumps({"event": "error", "message": str(exc)}) + "\n")
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001
        out.write(json.dumps({"event": "error", "message": f"{exc.__class__.__name__}: {exc}"}) + "\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
