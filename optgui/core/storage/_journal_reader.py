"""Optuna journal files (JournalFileBackend) parsed directly: the same replay rules as Optuna, without its objects.

A journal file is JSON lines, one operation per line (optuna/storages/journal/_storage.py,
JournalStorageReplayResult). This module replays the operations the way Optuna does for a reader that is not the
writing worker: operations on unknown studies or trials and updates of finished trials are ignored, a second
CREATE_STUDY with a taken name is ignored, a param whose distribution is incompatible with the one stored earlier
in the study is ignored, and DISCARD_TRIALS (op 10, written only by other implementations) is ignored.

File handling follows JournalFileBackend.read_logs: a last line without its newline is a write in progress and is
left for the next read; a line that is not valid JSON is tolerated only while it is the last line (Optuna retries
it), and is an error naming its line number once another line follows it.

Reads are incremental: the reader keeps the replayed state and each refresh parses only the bytes appended since.
The file is opened read-only and never locked (Optuna's writers lock with a separate lock file, and readers never
take it).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from optgui.core import json_text
from optgui.core.errors import StorageError
from optgui.core.storage._study_reader import StudyReader
from optgui.core.storage._tables import (
    DIRECTION_NAMES,
    NAT,
    STATE_NAMES,
    UNFINISHED_STATES,
    IntermediateValues,
    ParamColumn,
    ParamDistribution,
    StudySummary,
    TrialDelta,
    TrialTable,
    Watermark,
    durations,
    frozen_array,
    frozen_mapping,
)

(
    CREATE_STUDY,
    DELETE_STUDY,
    SET_STUDY_USER_ATTR,
    SET_STUDY_SYSTEM_ATTR,
    CREATE_TRIAL,
    SET_TRIAL_PARAM,
    SET_TRIAL_STATE_VALUES,
    SET_TRIAL_INTERMEDIATE_VALUE,
    SET_TRIAL_USER_ATTR,
    SET_TRIAL_SYSTEM_ATTR,
    DISCARD_TRIALS,
) = range(11)
_FINISHED = {1, 2, 3}
_NAT_INT = np.iinfo(np.int64).min  # NaT as the integer behind datetime64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPTGUI_PREFIX = "optgui:"
METRIC_NAMES_KEY = "study:metric_names"


def _utc_microseconds(text: str | None) -> int | None:
    """Microseconds since the epoch (UTC). Optuna 5 writes aware UTC; older versions wrote naive local time."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time, as Optuna's own replay assumes
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _Trial:
    __slots__ = (
        "trial_id",
        "study_id",
        "number",
        "state",
        "values",
        "start",
        "complete",
        "params",
        "user_attrs",
        "system_attrs",
        "intermediate",
    )

    def __init__(self, trial_id: int, study_id: int, number: int) -> None:
        self.trial_id, self.study_id, self.number = trial_id, study_id, number
        self.state = 0
        self.values: list[float] | None = None
        self.start: int | None = None
        self.complete: int | None = None
        self.params: dict[str, tuple[float, str]] = {}  # name -> (internal repr, distribution JSON)
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}
        self.intermediate: dict[int, float] = {}


class _Study:
    __slots__ = (
        "study_id",
        "name",
        "directions",
        "user_attrs",
        "system_attrs",
        "trial_ids",
        "changed_at",
        "changed_ids",
        "first_dist",
    )

    def __init__(self, study_id: int, name: str, directions: tuple[str, ...]) -> None:
        self.study_id, self.name, self.directions = study_id, name, directions
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}
        self.trial_ids: list[int] = []
        # Append-only change log: the line number of each change to one of this study's trials, and the trial.
        self.changed_at: list[int] = []
        self.changed_ids: list[int] = []
        self.first_dist: dict[str, ParamDistribution] = {}  # per param name: the distribution first stored


def _compatible(old: ParamDistribution, new: ParamDistribution) -> bool:
    """optuna.distributions.check_distribution_compatibility on stored JSON (class, log flag, categorical choices)."""
    if old.json == new.json:
        return True
    if json_text.loads(old.json).get("name") != json_text.loads(new.json).get("name") or old.kind != new.kind:
        return False
    if old.kind == "categorical":
        return old.choices == new.choices
    return old.log == new.log


class JournalStudyReader(StudyReader):
    """StudyReader over an Optuna journal file (see optgui.core.storage._reader for the contract)."""

    kind = "journal"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.display = str(path)
        self.schema = None
        self.notes = ()
        self._offset = 0  # bytes of complete, applied lines
        self._lines = 0  # complete lines applied
        self._studies: dict[int, _Study] = {}
        self._trials: list[_Trial] = []
        self._next_study_id = 0
        self._dists: dict[str, ParamDistribution] = {}
        self._closed = False
        self.refresh()

    # --------------------------------------------------------------------------------------------- parsing
    def refresh(self) -> int:
        """Apply lines appended since the last refresh; returns how many were applied."""
        if self._closed:
            raise StorageError(f"{self.display}: reader is closed")
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, 2)
                if size < self._offset:
                    raise StorageError(
                        f"{self.display} became shorter while being read: it was replaced or truncated; open it again"
                    )
                handle.seek(self._offset)
                data = handle.read(size - self._offset)
        except OSError as exc:
            raise StorageError(f"cannot read {self.display}: {exc.strerror or exc}") from None
        applied = 0
        position = 0
        while True:
            end = data.find(b"\n", position)
            if end < 0:
                break  # a partial last line: a write in progress
            line = data[position : end + 1]
            line_number = self._lines + 1
            try:
                record = json_text.loads(line)
            except json_text.JsonTooDeep:
                raise StorageError(
                    f"{self.display}: line {line_number} holds {json_text.TOO_DEEP} ({len(line)} bytes); "
                    "the journal was crafted or is corrupt"
                ) from None
            except ValueError:
                if data.find(b"\n", end + 1) < 0 and not data[end + 1 :].strip():
                    break  # corrupt, but last: Optuna tolerates it (and retries it on the next read)
                raise StorageError(
                    f"{self.display}: line {line_number} is not valid JSON ({_shorten(line)}); the journal is corrupt"
                ) from None
            try:
                self._apply(record, line_number)
            except StorageError:
                raise
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise StorageError(
                    f"{self.display}: line {line_number} is not a valid journal operation "
                    f"({exc.__class__.__name__}: {exc})"
                ) from None
            position = end + 1
            self._offset += len(line)
            self._lines = line_number
            applied += 1
        return applied

    def _dist(self, text: str) -> ParamDistribution:
        dist = self._dists.get(text)
        if dist is None:
            dist = self._dists[text] = ParamDistribution.from_json(text)
        return dist

    def _touch(self, trial: _Trial, line_number: int) -> None:
        study = self._studies.get(trial.study_id)
        if study is not None:
            study.changed_at.append(line_number)
            study.changed_ids.append(trial.trial_id)

    def _updatable(self, trial_id: Any) -> _Trial | None:
        if not isinstance(trial_id, int) or not 0 <= trial_id < len(self._trials):
            return None
        trial = self._trials[trial_id]
        return None if trial.state in _FINISHED else trial

    def _apply(self, log: dict, line_number: int) -> None:
        op = log["op_code"]
        trial: _Trial | None  # created here, or an unfinished one to update (None: the update is ignored)
        if op == CREATE_STUDY:
            name = log["study_name"]
            if any(s.name == name for s in self._studies.values()):
                return
            directions = tuple(DIRECTION_NAMES[int(d)] for d in log["directions"])
            self._studies[self._next_study_id] = _Study(self._next_study_id, name, directions)
            self._next_study_id += 1
        elif op == DELETE_STUDY:
            self._studies.pop(log["study_id"], None)
        elif op in (SET_STUDY_USER_ATTR, SET_STUDY_SYSTEM_ATTR):
            study = self._studies.get(log["study_id"])
            if study is not None:
                if op == SET_STUDY_USER_ATTR:
                    study.user_attrs.update(log["user_attr"])
                else:
                    study.system_attrs.update(log["system_attr"])
        elif op == CREATE_TRIAL:
            study = self._studies.get(log["study_id"])
            if study is None:
                return
            trial = _Trial(len(self._trials), study.study_id, len(study.trial_ids))
            trial.state = int(log.get("state", 0))
            dists = log.get("distributions", {})
            for name, internal in log.get("params", {}).items():
                trial.params[name] = (float(internal), dists[name])
                self._dist(dists[name])
            trial.start = _utc_microseconds(log.get("datetime_start"))
            trial.complete = _utc_microseconds(log.get("datetime_complete"))
            values = log.get("values")
            if values is None and log.get("value") is not None:
                values = [log["value"]]
            trial.values = None if values is None else [float(v) for v in values]
            trial.user_attrs = dict(log.get("user_attrs", {}))
            trial.system_attrs = dict(log.get("system_attrs", {}))
            trial.intermediate = {int(k): float(v) for k, v in log.get("intermediate_values", {}).items()}
            self._trials.append(trial)
            study.trial_ids.append(trial.trial_id)
            for name, (_, text) in trial.params.items():
                study.first_dist.setdefault(name, self._dist(text))
            self._touch(trial, line_number)
        elif op == SET_TRIAL_PARAM:
            trial = self._updatable(log["trial_id"])
            if trial is None:
                return
            name, text = log["param_name"], log["distribution"]
            dist = self._dist(text)
            study = self._studies.get(trial.study_id)
            first = study.first_dist.get(name) if study is not None else None
            if first is not None and not _compatible(first, dist):
                return
            trial.params[name] = (float(log["param_value_internal"]), text)
            if study is not None:
                study.first_dist.setdefault(name, dist)
            self._touch(trial, line_number)
        elif op == SET_TRIAL_STATE_VALUES:
            trial = self._updatable(log["trial_id"])
            if trial is None:
                return
            state = int(log["state"])
            if state == trial.state == 0:
                return  # the popped trial is already run by another process
            if state == 0:
                trial.start = _utc_microseconds(log["datetime_start"])
            if state in _FINISHED:
                trial.complete = _utc_microseconds(log["datetime_complete"])
            trial.state = state
            if log.get("values") is not None:
                trial.values = [float(v) for v in log["values"]]
            self._touch(trial, line_number)
        elif op == SET_TRIAL_INTERMEDIATE_VALUE:
            trial = self._updatable(log["trial_id"])
            if trial is not None:
                trial.intermediate[int(log["step"])] = float(log["intermediate_value"])
                self._touch(trial, line_number)
        elif op in (SET_TRIAL_USER_ATTR, SET_TRIAL_SYSTEM_ATTR):
            trial = self._updatable(log["trial_id"])
            if trial is not None:
                if op == SET_TRIAL_USER_ATTR:
                    trial.user_attrs.update(log["user_attr"])
                else:
                    trial.system_attrs.update(log["system_attr"])
                self._touch(trial, line_number)
        elif op == DISCARD_TRIALS:
            return
        else:
            raise StorageError(f"{self.display}: line {line_number} has an unknown operation code {op!r}")

    # -------------------------------------------------------------------------------------------- queries
    def _study(self, study_name: str) -> _Study:
        for study in self._studies.values():
            if study.name == study_name:
                return study
        names = [s.name for s in self._studies.values()]
        shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
        raise StorageError(
            f"no study named {study_name!r} in {self.display}"
            + (f" (studies: {shown})" if names else " (it has no studies)")
        )

    def study_names(self) -> list[str]:
        self.refresh()
        return [s.name for s in self._studies.values()]

    def studies(self, *, counts: bool = True) -> list[StudySummary]:
        # The journal is replayed into memory whole: counting costs nothing more, so `counts` changes nothing.
        self.refresh()
        out = []
        for study in self._studies.values():
            per_state: dict[str, int] = {}
            best: list[float] = [np.nan] * len(study.directions)
            first = last = None
            for tid in study.trial_ids:
                trial = self._trials[tid]
                name = STATE_NAMES[trial.state]
                per_state[name] = per_state.get(name, 0) + 1
                if trial.state == 1 and trial.values is not None:
                    for k, (value, direction) in enumerate(zip(trial.values, study.directions, strict=False)):
                        better = np.fmax if direction == "maximize" else np.fmin
                        best[k] = float(better(best[k], value))
                for moment in (trial.start, trial.complete):
                    if moment is not None:
                        last = moment if last is None else max(last, moment)
                if trial.start is not None:
                    first = trial.start if first is None else min(first, trial.start)
            metric_names = study.system_attrs.get(METRIC_NAMES_KEY)
            out.append(
                StudySummary(
                    study_id=study.study_id,
                    name=study.name,
                    directions=study.directions,
                    metric_names=tuple(metric_names) if isinstance(metric_names, list) else None,
                    n_trials=len(study.trial_ids),
                    state_counts=frozen_mapping({s: per_state[s] for s in STATE_NAMES if s in per_state}),
                    best_values=None if per_state.get("COMPLETE", 0) == 0 or any(np.isnan(best)) else tuple(best),
                    first_activity=_moment(first),
                    last_activity=_moment(last),
                    optgui_metadata=frozen_mapping(
                        {k: v for k, v in study.system_attrs.items() if k.startswith(OPTGUI_PREFIX)}
                    ),
                    user_attrs=frozen_mapping(study.user_attrs),
                )
            )
        return out

    def _table(
        self, study: _Study, trial_ids: list[int], *, params: bool = True, user_attrs: bool = True
    ) -> TrialTable:
        trials = [self._trials[t] for t in trial_ids]
        n, k = len(trials), len(study.directions)
        values = np.full((n, k), np.nan)
        for row, trial in enumerate(trials):
            if trial.values is not None:
                values[row, : min(k, len(trial.values))] = trial.values[:k]
        start = np.array([_NAT_INT if t.start is None else t.start for t in trials], dtype=np.int64).view(
            "datetime64[us]"
        )
        complete = np.array([_NAT_INT if t.complete is None else t.complete for t in trials], dtype=np.int64).view(
            "datetime64[us]"
        )
        columns: dict[str, ParamColumn] = {}
        if params:
            raw: dict[str, tuple[list, list, list]] = {}
            for row, trial in enumerate(trials):
                for name, (internal, text) in trial.params.items():
                    entry = raw.get(name)
                    if entry is None:
                        entry = raw[name] = ([], [], [])
                    entry[0].append(row)
                    entry[1].append(internal)
                    entry[2].append(text)
            for name, (rows, internals, texts) in raw.items():
                distinct = list(dict.fromkeys(texts))
                code_of = {text: code for code, text in enumerate(distinct)}
                column = np.full(n, np.nan)
                present = np.zeros(n, dtype=bool)
                index = np.full(n, -1, dtype=np.int16)
                column[rows] = internals
                present[rows] = True
                index[rows] = [code_of[t] for t in texts]
                columns[name] = ParamColumn(
                    name,
                    frozen_array(column),
                    frozen_array(present),
                    tuple(self._dist(t) for t in distinct),
                    frozen_array(index),
                )
        attrs: dict[str, np.ndarray] = {}
        if user_attrs:
            for row, trial in enumerate(trials):
                for key, value in trial.user_attrs.items():
                    attr_column = attrs.get(key)
                    if attr_column is None:
                        attr_column = attrs[key] = np.full(n, None, dtype=object)
                    attr_column[row] = value
        return TrialTable(
            study_name=study.name,
            directions=study.directions,
            trial_id=frozen_array(np.array([t.trial_id for t in trials], dtype=np.int64)),
            number=frozen_array(np.array([t.number for t in trials], dtype=np.int64)),
            state=frozen_array(np.array([t.state for t in trials], dtype=np.int8)),
            values=frozen_array(values),
            datetime_start=frozen_array(start),
            datetime_complete=frozen_array(complete),
            duration=frozen_array(durations(start, complete)),
            params=frozen_mapping(columns),
            user_attrs=frozen_mapping({k: frozen_array(v) for k, v in attrs.items()}),
        )

    def trials(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> TrialTable:
        self.refresh()
        study = self._study(study_name)
        return self._table(study, study.trial_ids, params=params, user_attrs=user_attrs)

    def trials_with_watermark(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> tuple[TrialTable, Watermark]:
        self.refresh()
        study = self._study(study_name)
        table = self._table(study, study.trial_ids, params=params, user_attrs=user_attrs)
        return table, self._mark(study)

    def _mark(self, study) -> Watermark:
        max_id = study.trial_ids[-1] if study.trial_ids else -1
        unfinished = tuple((t, ()) for t in study.trial_ids if self._trials[t].state in UNFINISHED_STATES)
        return Watermark(study_id=study.study_id, max_trial_id=max_id, unfinished=unfinished, log_offset=self._lines)

    def poll(self, study_name: str, watermark: Watermark | None = None) -> TrialDelta:
        self.refresh()
        study = self._study(study_name)
        mark = self._mark(study)
        if watermark is None or watermark.study_id != study.study_id or watermark.log_offset is None:
            table = self._table(study, study.trial_ids)
            return TrialDelta(table, mark, True, len(table), 0)
        start = bisect.bisect_right(study.changed_at, watermark.log_offset)
        ids = sorted(set(study.changed_ids[start:]))
        table = self._table(study, ids)
        n_new = sum(1 for t in ids if t > watermark.max_trial_id)
        return TrialDelta(table, mark, False, n_new, len(ids) - n_new)

    def intermediate_values(self, study_name: str, numbers: Sequence[int] | None = None) -> IntermediateValues:
        self.refresh()
        study = self._study(study_name)
        tid, num, step, value = [], [], [], []
        for t in self._trial_ids_of(study, numbers):
            trial = self._trials[t]
            for s in sorted(trial.intermediate):
                tid.append(trial.trial_id)
                num.append(trial.number)
                step.append(s)
                value.append(trial.intermediate[s])
        return IntermediateValues(
            frozen_array(np.array(tid, dtype=np.int64)),
            frozen_array(np.array(num, dtype=np.int64)),
            frozen_array(np.array(step, dtype=np.int64)),
            frozen_array(np.array(value, dtype=np.float64)),
        )

    def trial_system_attrs(
        self, study_name: str, prefix: str = OPTGUI_PREFIX, numbers: Sequence[int] | None = None
    ) -> dict[int, dict[str, Any]]:
        self.refresh()
        study = self._study(study_name)
        out: dict[int, dict[str, Any]] = {}
        for t in self._trial_ids_of(study, numbers):
            trial = self._trials[t]
            picked = {k: v for k, v in trial.system_attrs.items() if k.startswith(prefix)}
            if picked:
                out[trial.number] = picked
        return out

    def study_system_attrs(self, study_name: str, prefix: str) -> dict[str, Any]:
        self.refresh()
        study = self._study(study_name)
        return {k: v for k, v in study.system_attrs.items() if k.startswith(prefix)}

    def _trial_ids_of(self, study, numbers: Sequence[int] | None) -> list[int]:
        """The study's trial ids, in order; only those numbered `numbers` when given."""
        if numbers is None:
            return study.trial_ids
        ids = study.trial_ids
        out = []
        for n in sorted({int(n) for n in numbers}):
            # Optuna numbers a study's trials 0, 1, 2, ... in creation order: look there first.
            if 0 <= n < len(ids) and self._trials[ids[n]].number == n:
                out.append(ids[n])
            else:
                out.extend(t for t in ids if self._trials[t].number == n)
        return out

    def close(self) -> None:
        self._closed = True


def _moment(microseconds: int | None) -> np.datetime64:
    return NAT if microseconds is None else np.datetime64(microseconds, "us")


def _shorten(line: bytes, limit: int = 60) -> str:
    text = line.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "..."
