"""Reproduce one trial: a standalone Python script that re-runs the objective with exactly that trial's params.

The script gives the objective an `optuna.trial.FixedTrial` holding the trial's params as Optuna returned them
(`suggest_*` returns the recorded value; `report` does nothing, `should_prune` is False), and prints `repr()` of
what the objective returned, converted as Optuna converts it (a float, or a list of floats for several
objectives), as its last line. For a deterministic objective that line equals the recorded value bit for bit.

The header names the objective reference, its sha256 and the interpreter and versions recorded with the run; the
script warns on stderr when the objective's file changed since, or the versions differ. A `builtin:` objective is
built by optgui (the script imports optgui); a file or module objective needs only its own environment and Optuna.

Building the script reads the study read-only through the reader: nothing of the study is executed (the objective
is named, never imported) and nothing is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optgui import __version__
from optgui.core.errors import StudyStateError
from optgui.core.records import KEY_RUN, StudyMetadata
from optgui.core.storage import STATE_NAMES, StudySummary, TrialTable, open_reader


@dataclass(frozen=True)
class TrialToReproduce:
    """What the script needs of one trial, read from the study."""

    storage: str  # the storage as shown (no password)
    study: str
    number: int
    state: str
    params: dict[str, Any]  # external values, in the order the params were stored
    values: tuple[float, ...] | None  # None unless COMPLETE (or PRUNED with a value)
    directions: tuple[str, ...]
    objective: dict[str, Any]  # the objective record: kind, ref, path, function, sha256, import_root
    versions: dict[str, Any] = field(default_factory=dict)

    @property
    def values_repr(self) -> str:
        """What the script prints for this trial's recorded values: repr(float), or repr(list) for several."""
        if self.values is None:
            return "None"
        return repr(self.values[0]) if len(self.values) == 1 else repr(list(self.values))


def read_trial(storage: str, study: str, number: int, *, objective: str | None = None) -> TrialToReproduce:
    """Read trial `number` of `study` read-only. `objective`: a reference to use when the study does not record
    one (a study optgui did not run, or a trial from before optgui ran it). Raises StudyStateError naming what
    is missing."""
    with open_reader(storage) as reader:
        summary = next((s for s in reader.studies() if s.name == study), None)
        if summary is None:
            names = ", ".join(repr(n) for n in reader.study_names()) or "none"
            raise StudyStateError(f"no study named {study!r} in {reader.display} (studies: {names})")
        table = reader.trials(study, user_attrs=False, datetimes=False)
        display = reader.display
    rows = np.flatnonzero(table.number == number)
    if len(rows) == 0:
        raise StudyStateError(f"study {study!r} has no trial {number} (trials 0–{len(table) - 1})")
    row = int(rows[0])
    recorded = _objective_record(summary, number, len(table), objective)
    run = summary.optgui_metadata.get(KEY_RUN) or {}
    return TrialToReproduce(
        storage=display,
        study=study,
        number=number,
        state=str(STATE_NAMES[int(table.state[row])]),
        params=_params_of(table, row),
        values=_values_of(table, row),
        directions=tuple(table.directions),
        objective=recorded,
        versions=dict(run.get("versions") or {}) if isinstance(run, dict) else {},
    )


def _objective_record(summary: StudySummary, number: int, n_trials: int, given: str | None) -> dict[str, Any]:
    """The objective of trial `number`: the one given, else the run's, if optgui made that trial."""
    if given is not None:
        from optgui.core.engine import parse_objective  # names the objective; never imports it

        return dict(parse_objective(given).to_record())
    meta = StudyMetadata.from_system_attrs(dict(summary.optgui_metadata))
    if meta.run is None:
        raise StudyStateError(
            f"study {summary.name!r} was not run by optgui, so the objective of trial {number} is unknown; "
            "pass --objective REF to name it"
        )
    if meta.segments and number not in meta.optgui_trial_numbers(n_trials):
        raise StudyStateError(
            f"trial {number} of study {summary.name!r} was not made by optgui (it is history from before optgui "
            "ran the study, or another process wrote it), so its objective is unknown; pass --objective REF to name it"
        )
    return dict(meta.run["objective"])


def _params_of(table: TrialTable, row: int) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, column in table.params.items():
        if not column.present[row]:
            continue
        distribution = column.distributions[int(column.distribution_index[row])]
        params[name] = distribution.decode(float(column.values[row]))
    return params


def _values_of(table: TrialTable, row: int) -> tuple[float, ...] | None:
    values = tuple(float(v) for v in table.values[row])
    return None if all(math.isnan(v) for v in values) else values


def py_literal(value: Any) -> str:
    """Python source that evaluates to `value` (a param value: float, int, str, bool, None), exactly."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value!r}")'
    if isinstance(value, (list, tuple)):
        items = ", ".join(py_literal(item) for item in value)
        return f"[{items}]"
    return repr(value)


def reproduce_script(trial: TrialToReproduce) -> str:
    """The script's text (see the module docstring)."""
    objective = trial.objective
    return "".join(
        [
            _header(trial),
            _constants(trial),
            _ENVIRONMENT_CHECK,
            _LOADERS[str(objective.get("kind"))],
            _MAIN,
        ]
    )


def _versions_line(versions: dict[str, Any]) -> str:
    packages = ", ".join(
        f"{name} {version}" for name, version in versions.items() if name not in ("python", "greenlet") and version
    )
    python = versions.get("python")
    return f"Python {python}" + (f", {packages}" if packages else "") if python else packages or "(not recorded)"


def _header(trial: TrialToReproduce) -> str:
    objective = trial.objective
    lines = [
        f"Re-run trial {trial.number} of study {trial.study!r} with exactly its parameters; print its value.",
        "",
        f"Storage:    {trial.storage}",
        f"Trial:      {trial.number} ({trial.state}), recorded value {trial.values_repr}",
        f"Objective:  {objective.get('ref')}",
        f"sha256:     {objective.get('sha256') or '(none recorded)'}",
        f"Recorded:   {_versions_line(trial.versions)}",
        f"Written by optgui {__version__}.",
        "",
        "The objective receives an optuna.trial.FixedTrial: every trial.suggest_* returns the recorded value,",
        "trial.report() does nothing and trial.should_prune() is False. The last line printed is repr() of the",
        "value as Optuna stores it (a list of floats for several objectives). Warnings go to stderr.",
    ]
    if objective.get("kind") == "builtin":
        lines.append("A built-in objective: the script imports optgui to build it.")
    if trial.state == "PRUNED":
        lines.append("The trial was pruned: here it runs to the end, so its value may differ from the recorded one.")
    body = "\n".join(_docstring_safe(line) for line in lines)
    return f'#!/usr/bin/env python3\n"""{body}\n"""\n'


def _docstring_safe(line: str) -> str:
    """A line that reads back unchanged inside the script's triple-quoted docstring."""
    return line.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _constants(trial: TrialToReproduce) -> str:
    objective = trial.objective
    ref = str(objective.get("ref"))
    params = "".join(f"    {name!r}: {py_literal(value)},\n" for name, value in trial.params.items())
    versions = {k: v for k, v in trial.versions.items() if isinstance(v, str) and k != "python"}
    recorded = py_literal(list(trial.values)) if trial.values is not None else "None"
    return f"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import platform
import sys
from pathlib import Path

import optuna

STUDY = {trial.study!r}
TRIAL_NUMBER = {trial.number!r}
N_OBJECTIVES = {len(trial.directions)!r}
OBJECTIVE_REF = {ref!r}
OBJECTIVE_PATH = {objective.get("path")!r}
OBJECTIVE_TARGET = {ref.rpartition(":")[0]!r}
FUNCTIONS = {str(objective.get("function") or "").split(",")!r}
IMPORT_ROOT = {objective.get("import_root")!r}
RECORDED_SHA256 = {objective.get("sha256")!r}
RECORDED_PYTHON = {trial.versions.get("python")!r}
RECORDED_VERSIONS = {versions!r}
RECORDED_VALUES = {recorded}
PARAMS = {{
{params}}}
"""


_ENVIRONMENT_CHECK = '''

def warn(message: str) -> None:
    print(f"reproduce: warning: {message}", file=sys.stderr)


def check_environment() -> None:
    """Say what differs from the run: the objective's file, Python, the packages the sampler used."""
    if RECORDED_SHA256 and OBJECTIVE_PATH and Path(OBJECTIVE_PATH).is_file():
        now = hashlib.sha256(Path(OBJECTIVE_PATH).read_bytes()).hexdigest()
        if now != RECORDED_SHA256:
            warn(
                f"the objective file {OBJECTIVE_PATH} changed since the run "
                f"(sha256 {RECORDED_SHA256[:12]}... recorded, {now[:12]}... now): the value may differ"
            )
    if RECORDED_PYTHON and platform.python_version() != RECORDED_PYTHON:
        warn(f"Python {platform.python_version()} here, {RECORDED_PYTHON} recorded")
    for name, recorded in RECORDED_VERSIONS.items():
        try:
            now = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            now = None
        if now != recorded:
            warn(f"{name} {now or 'not installed'} here, {recorded} recorded")
'''

_FILE_LOADER = '''

def load_objective():
    """Import the objective's file by path, with its folder first on the import path (as optgui ran it)."""
    path = Path(OBJECTIVE_PATH)
    if not path.is_file():
        sys.exit(f"reproduce: error: the objective file {path} does not exist")
    sys.path.insert(0, IMPORT_ROOT or str(path.parent))
    spec = importlib.util.spec_from_file_location("optgui_reproduced_objective", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [getattr(module, name) for name in FUNCTIONS]
'''

_MODULE_LOADER = '''

def load_objective():
    """Import the objective's module by name (its recorded import root first, when it has one)."""
    if IMPORT_ROOT:
        sys.path.insert(0, IMPORT_ROOT)
    module = importlib.import_module(OBJECTIVE_TARGET)
    if RECORDED_SHA256 and getattr(module, "__file__", None):
        now = hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()
        if now != RECORDED_SHA256:
            warn(f"the objective module {module.__file__} changed since the run: the value may differ")
    return [getattr(module, name) for name in FUNCTIONS]
'''

_BUILTIN_LOADER = '''

def load_objective():
    """optgui's built-in objective, built by optgui."""
    from optgui.core.engine import load_objective as build, parse_objective

    return [build(parse_objective(OBJECTIVE_REF))]
'''

_LOADERS = {"file": _FILE_LOADER, "module": _MODULE_LOADER, "builtin": _BUILTIN_LOADER}

_MAIN = '''

def as_optuna_values(result):
    """The value as Optuna stores it: float(value), or a list of floats for several objectives."""
    if isinstance(result, (list, tuple)):
        values = [float(v) for v in result]
        return values[0] if N_OBJECTIVES == 1 and len(values) == 1 else values
    return float(result)


def main() -> None:
    check_environment()
    functions = load_objective()
    trial = optuna.trial.FixedTrial(PARAMS, number=TRIAL_NUMBER)
    result = None
    for function in functions:  # one objective, or search_space then evaluate (a two-part objective)
        result = function(trial)
    print(repr(as_optuna_values(result)))


if __name__ == "__main__":
    main()
'''


def reproduce_trial(storage: str, study: str, number: int, *, objective: str | None = None) -> str:
    """The script re-running trial `number` of `study` (read_trial, then reproduce_script)."""
    return reproduce_script(read_trial(storage, study, number, objective=objective))
