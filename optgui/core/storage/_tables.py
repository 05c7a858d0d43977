"""The reader's results: immutable, columnar snapshots of studies and trials (numpy arrays, read-only).

Every result is a frozen dataclass whose arrays have `writeable=False`, so one snapshot can be handed to another
thread (e.g. from a reader thread to the GUI) without copying or locking.

Conventions shared by every table:
- Rows are trials in trial_id order (which is also trial-number order within a study).
- `state` holds Optuna's TrialState values as int8: 0 RUNNING, 1 COMPLETE, 2 PRUNED, 3 FAIL, 4 WAITING
  (STATE_NAMES[code] gives the name).
- Datetimes are numpy datetime64[us] in UTC (tz-naive numpy values meaning UTC); NaT where not set.
- Objective values are float64 with shape (n_trials, n_objectives); NaN where a trial has no value (e.g. FAIL or
  RUNNING), ±inf as stored.
- Params hold Optuna's internal representation as float64 (a categorical's index into its choices); NaN where
  the trial has no such param. ParamColumn.decoded() gives the values Optuna would return.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from optgui.core import json_text

STATE_NAMES = ("RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING")
STATE_CODES = {name: code for code, name in enumerate(STATE_NAMES)}
RUNNING, COMPLETE, PRUNED, FAIL, WAITING = range(5)
UNFINISHED_STATES = (RUNNING, WAITING)
DIRECTION_NAMES = ("not_set", "minimize", "maximize")  # Optuna's StudyDirection values 0, 1, 2

NAT = np.datetime64("NaT", "us")

# Distribution class names, including the pre-3.0 ones that old files still contain.
_FLOAT_NAMES = {"FloatDistribution", "UniformDistribution", "LogUniformDistribution", "DiscreteUniformDistribution"}
_INT_NAMES = {"IntDistribution", "IntUniformDistribution", "IntLogUniformDistribution"}


def frozen_array(values: Any, dtype: Any = None) -> np.ndarray:
    """A read-only numpy array (copying only when needed)."""
    array = np.asarray(values, dtype=dtype)
    if array.flags.writeable:
        if array.base is not None and not array.flags.owndata:
            array = array.copy()
        array.flags.writeable = False
    return array


def frozen_mapping(items: Mapping) -> Mapping:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class ParamDistribution:
    """One param distribution as Optuna stored it.

    kind: "float", "int" or "categorical" (legacy classes such as UniformDistribution map to these);
    json: the stored JSON text, exactly; choices: the categorical choices (None otherwise); low/high/step/log as
    stored (None when not applicable).
    """

    kind: str
    json: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @classmethod
    def from_json(cls, text: str) -> ParamDistribution:
        data = json_text.loads(text)  # ValueError for undecodable (also too deeply nested) text
        if "name" in data:
            name, attrs = data["name"], data.get("attributes", {})
        else:  # Optuna's abbreviated form {"type": "float", ...}
            name, attrs = (
                {"categorical": "CategoricalDistribution", "float": "FloatDistribution", "int": "IntDistribution"}.get(
                    data.get("type"), "?"
                ),
                data,
            )
        if name == "CategoricalDistribution":
            return cls("categorical", text, choices=tuple(attrs["choices"]))
        if name in _FLOAT_NAMES:
            step = attrs.get("step", attrs.get("q"))
            log = bool(attrs.get("log", name == "LogUniformDistribution"))
            return cls("float", text, low=attrs.get("low"), high=attrs.get("high"), step=step, log=log)
        if name in _INT_NAMES:
            log = bool(attrs.get("log", name == "IntLogUniformDistribution"))
            return cls("int", text, low=attrs.get("low"), high=attrs.get("high"), step=attrs.get("step", 1), log=log)
        raise ValueError(f"unknown distribution {name!r}")

    def decode(self, internal: float) -> Any:
        """The value Optuna returns for this internal representation (its `to_external_repr`)."""
        if self.kind == "categorical":
            assert self.choices is not None
            return self.choices[int(internal)]
        if self.kind == "int":
            return int(internal)
        return float(internal)

    def to_optuna(self):
        """The equivalent optuna.distributions object (imports optuna)."""
        from optuna.distributions import json_to_distribution

        return json_to_distribution(self.json)


@dataclass(frozen=True)
class ParamColumn:
    """One param across a table's trials.

    values: float64 internal representation, NaN where absent; present: bool mask of trials that have the param
    (a float param fixed to NaN is present and NaN); distributions: every distinct distribution stored for this
    name (usually one; ranges may differ between trials, e.g. dynamic bounds); distribution_index: int16 index into
    `distributions` per trial, -1 where absent.
    """

    name: str
    values: np.ndarray
    present: np.ndarray
    distributions: tuple[ParamDistribution, ...]
    distribution_index: np.ndarray

    @property
    def distribution(self) -> ParamDistribution:
        """The most recently stored distribution (all of them decode the same way; see `distributions`)."""
        used = self.distribution_index[self.present]
        return self.distributions[int(used[-1]) if len(used) else -1]

    @property
    def is_categorical(self) -> bool:
        return self.distributions[-1].kind == "categorical"

    def decoded(self) -> np.ndarray:
        """Optuna's external values as an object array, None where absent (categoricals decoded to their choices)."""
        out = np.full(len(self.values), None, dtype=object)
        for code, dist in enumerate(self.distributions):
            rows = np.flatnonzero(self.distribution_index == code)
            if dist.kind == "float":
                out[rows] = self.values[rows].tolist()
            else:
                out[rows] = [dist.decode(v) for v in self.values[rows].tolist()]
        return out


@dataclass(frozen=True)
class TrialTable:
    """A study's trials (or a subset: a poll's new and changed trials) as columns.

    Columns: trial_id (int64), number (int64), state (int8 codes, STATE_NAMES), values (float64, n × n_objectives),
    datetime_start / datetime_complete (datetime64[us] UTC, NaT if unset), duration (float64 seconds, NaN unless
    both datetimes are set), params (name -> ParamColumn, in the order the params were first stored), user_attrs
    (key -> object array of JSON-decoded values, None where absent). Intermediate values are read on demand with
    StudyReader.intermediate_values().
    """

    study_name: str
    directions: tuple[str, ...]
    trial_id: np.ndarray
    number: np.ndarray
    state: np.ndarray
    values: np.ndarray
    datetime_start: np.ndarray
    datetime_complete: np.ndarray
    duration: np.ndarray
    params: Mapping[str, ParamColumn] = field(default_factory=lambda: frozen_mapping({}))
    user_attrs: Mapping[str, np.ndarray] = field(default_factory=lambda: frozen_mapping({}))

    def __len__(self) -> int:
        return len(self.trial_id)

    @property
    def n_objectives(self) -> int:
        return self.values.shape[1]

    @property
    def state_names(self) -> np.ndarray:
        """State names per row (object array)."""
        return np.array(STATE_NAMES, dtype=object)[self.state]

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.params)

    def rows_in_state(self, *states: int) -> np.ndarray:
        """Row indices of trials in any of the given state codes."""
        return np.flatnonzero(np.isin(self.state, states))

    def best_so_far(self, objective: int = 0) -> np.ndarray:
        """Running best of one objective over COMPLETE trials in row order; NaN before the first COMPLETE trial.

        Rows that are not COMPLETE carry the best value so far, so the result plots directly against `number`.
        """
        column = np.where(self.state == COMPLETE, self.values[:, objective], np.nan)
        if self.directions[objective] == "maximize":
            return np.fmax.accumulate(column) if len(column) else column
        return np.fmin.accumulate(column) if len(column) else column

    def with_rows_replaced(self, newer: TrialTable) -> TrialTable:
        """This table updated with a poll's rows: rows of `newer` replace rows with the same trial_id.

        Returns a new table in trial_id order; the inputs are unchanged.
        """
        if len(newer) == 0:
            return self
        keep = ~np.isin(self.trial_id, newer.trial_id)
        return concat_tables([select_rows(self, np.flatnonzero(keep)), newer])


def _take(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return frozen_array(array[rows])


def select_rows(table: TrialTable, rows: np.ndarray) -> TrialTable:
    """The table restricted to `rows` (row indices, in the order given); params absent from all rows are dropped."""
    params = {}
    for name, column in table.params.items():
        present = column.present[rows]
        if present.any():
            params[name] = ParamColumn(
                name,
                _take(column.values, rows),
                frozen_array(present),
                column.distributions,
                _take(column.distribution_index, rows),
            )
    user_attrs = {}
    for key, attr_values in table.user_attrs.items():
        taken = attr_values[rows]
        if any(v is not None for v in taken):
            user_attrs[key] = frozen_array(taken)
    return TrialTable(
        table.study_name,
        table.directions,
        _take(table.trial_id, rows),
        _take(table.number, rows),
        _take(table.state, rows),
        _take(table.values, rows),
        _take(table.datetime_start, rows),
        _take(table.datetime_complete, rows),
        _take(table.duration, rows),
        frozen_mapping(params),
        frozen_mapping(user_attrs),
    )


def concat_tables(tables: list[TrialTable]) -> TrialTable:
    """Rows of all tables (same study), sorted by trial_id. Param and attribute columns are unioned."""
    tables = [t for t in tables if len(t)] or tables[:1]
    first = tables[0]
    if len(tables) == 1:
        return first
    order = np.argsort(np.concatenate([t.trial_id for t in tables]), kind="stable")
    n = len(order)

    def cat(name: str) -> np.ndarray:
        return frozen_array(np.concatenate([getattr(t, name) for t in tables])[order])

    names: list[str] = []
    for t in tables:
        names.extend(k for k in t.params if k not in names)
    params = {}
    for name in names:
        dists: list[ParamDistribution] = []
        values, present, index = [], [], []
        for t in tables:
            column = t.params.get(name)
            if column is None:
                values.append(np.full(len(t), np.nan))
                present.append(np.zeros(len(t), dtype=bool))
                index.append(np.full(len(t), -1, dtype=np.int16))
                continue
            remap = np.empty(len(column.distributions) + 1, dtype=np.int16)
            remap[-1] = -1
            for code, dist in enumerate(column.distributions):
                if dist not in dists:
                    dists.append(dist)
                remap[code] = dists.index(dist)
            values.append(column.values)
            present.append(column.present)
            index.append(remap[column.distribution_index])
        params[name] = ParamColumn(
            name,
            frozen_array(np.concatenate(values)[order]),
            frozen_array(np.concatenate(present)[order]),
            tuple(dists),
            frozen_array(np.concatenate(index)[order]),
        )
    keys: list[str] = []
    for t in tables:
        keys.extend(k for k in t.user_attrs if k not in keys)
    user_attrs = {}
    for key in keys:
        parts = [t.user_attrs.get(key, np.full(len(t), None, dtype=object)) for t in tables]
        user_attrs[key] = frozen_array(np.concatenate(parts)[order])
    assert n == sum(len(t) for t in tables)
    return TrialTable(
        first.study_name,
        first.directions,
        cat("trial_id"),
        cat("number"),
        cat("state"),
        frozen_array(np.concatenate([t.values for t in tables])[order]),
        cat("datetime_start"),
        cat("datetime_complete"),
        cat("duration"),
        frozen_mapping(params),
        frozen_mapping(user_attrs),
    )


def durations(start: np.ndarray, complete: np.ndarray) -> np.ndarray:
    """Seconds from start to complete; NaN where either is NaT."""
    delta = (complete - start).astype("timedelta64[us]").astype(np.float64) / 1e6
    delta[np.isnat(start) | np.isnat(complete)] = np.nan
    return delta


@dataclass(frozen=True)
class IntermediateValues:
    """Reported intermediate values as long-format columns, sorted by (trial_id, step): one row per report."""

    trial_id: np.ndarray
    number: np.ndarray
    step: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.trial_id)

    def of_trial(self, number: int) -> dict[int, float]:
        """{step: value} of one trial, as Optuna's FrozenTrial.intermediate_values."""
        rows = np.flatnonzero(self.number == number)
        return dict(zip(self.step[rows].tolist(), self.value[rows].tolist(), strict=False))


@dataclass(frozen=True)
class StudySummary:
    """One study at a glance, from a single pass over the storage.

    directions: "minimize"/"maximize" per objective; metric_names: Optuna's metric names or None;
    state_counts: {state name: count} for states that occur; best_values: per objective, the best value among
    COMPLETE trials (for several objectives this is the ideal point, not one trial's values), None when no trial
    is COMPLETE; first_activity / last_activity: earliest start and latest start-or-completion (datetime64[us]
    UTC, NaT without trials); optgui_metadata: study system attributes whose keys start with "optgui:", with
    their JSON values decoded (raw text if not JSON); user_attrs: study user attributes.
    """

    study_id: int
    name: str
    directions: tuple[str, ...]
    metric_names: tuple[str, ...] | None
    n_trials: int
    state_counts: Mapping[str, int]
    best_values: tuple[float, ...] | None
    first_activity: np.datetime64
    last_activity: np.datetime64
    optgui_metadata: Mapping[str, Any]
    user_attrs: Mapping[str, Any] = field(default_factory=lambda: frozen_mapping({}))
    #: False for a summary read with `studies(counts=False)`: state_counts, best_values and the activity times
    #: are not read yet (empty, None, NaT); n_trials is.
    counted: bool = True

    @property
    def is_multi_objective(self) -> bool:
        return len(self.directions) > 1

    def as_json(self) -> dict:
        """A JSON-ready dict (non-finite floats become strings "inf", "-inf", "nan")."""
        return {
            "name": self.name,
            "directions": list(self.directions),
            "metric_names": list(self.metric_names) if self.metric_names is not None else None,
            "n_trials": self.n_trials,
            "state_counts": dict(self.state_counts),
            "best_values": [json_float(v) for v in self.best_values] if self.best_values is not None else None,
            "first_activity": iso_utc(self.first_activity),
            "last_activity": iso_utc(self.last_activity),
            "optgui_metadata": dict(self.optgui_metadata),
            "user_attrs": dict(self.user_attrs),
        }


@dataclass(frozen=True)
class Watermark:
    """Where a poll stopped: pass it to the next poll. Opaque to callers; cheap to keep and compare.

    study_id and anchor (the study's first trial id and start) identify the study's incarnation: SQLite reuses
    the ids of a deleted study, and a deleted and recreated study gets a full reload;
    max_trial_id: the highest trial_id seen; unfinished: (trial_id, fingerprint) of RUNNING/WAITING trials, which
    can still change; recent_ids: the study's trial ids just below max_trial_id (server databases can commit a
    lower id after a higher one); log_offset / log_number: the journal position (journal files only).
    """

    study_id: int
    max_trial_id: int
    unfinished: tuple[tuple[int, tuple], ...] = ()
    recent_ids: frozenset = frozenset()
    log_offset: int | None = None
    anchor: tuple | None = None


@dataclass(frozen=True)
class TrialDelta:
    """A poll's result: `table` holds trials added or changed since the watermark passed in (all trials when
    `is_full`), `watermark` is the one to pass next time. `has_more`: the poll stopped at a batch limit (a poll
    far behind a fast writer); poll again at once for the rest."""

    table: TrialTable
    watermark: Watermark
    is_full: bool
    n_new: int
    n_changed: int
    has_more: bool = False


def json_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def iso_utc(value: np.datetime64) -> str | None:
    if np.isnat(value):
        return None
    return str(value.astype("datetime64[us]")) + "Z"
