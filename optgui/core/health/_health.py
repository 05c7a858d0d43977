"""Run health: is a study running, idle, finished, stalled, failing, or left with orphaned RUNNING trials?

Computed from the reader's columns (states, datetimes) and the study's optgui records (lease, workers, target), so
`optgui inspect`, the window and the workspace say the same thing. No per-trial Python objects: a 100k-trial study
costs a few numpy passes.

The states, in the order they win when several apply:
- orphaned: RUNNING trials whose writer is gone (an optgui lease or fleet workers that are all stale, or whose
  process is gone on this host);
- possibly orphaned: a plain-Optuna study (no lease to ask) with a RUNNING trial older than k × the median trial
  duration while no other trial finished since it started;
- stalled: RUNNING trials, but no trial finished for k × the median trial duration (and at least `min_stall`);
  the silence counts from the last finished trial or, when later, from the moment the live optgui writer started
  (a run resumed after a day is not stalled by that day);
- failing: the failure rate over the last N finished trials is above the threshold (evidence: the most common
  `optgui:error` message);
- running: a live optgui writer or RUNNING trials;
- finished: an optgui run reached its target and nothing runs;
- idle: nothing runs (a plain-Optuna study without RUNNING trials is idle, never finished).
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optgui.core.engine import lease_is_live
from optgui.core.records import KEY_LEASE, KEY_TARGET, KEY_WORKER, TRIAL_ABANDONED, TRIAL_ERROR, TrialError
from optgui.core.storage import COMPLETE, FAIL, PRUNED, RUNNING, StudyReader, StudySummary, TrialTable

_FINISHED = (COMPLETE, PRUNED, FAIL)
_DEAD_WORKER_STATES = ("exited", "failed")


class HealthState(enum.StrEnum):
    RUNNING = "running"
    IDLE = "idle"
    FINISHED = "finished"
    STALLED = "stalled"
    FAILING = "failing"
    ORPHANED = "orphaned"
    POSSIBLY_ORPHANED = "possibly orphaned"


@dataclass(frozen=True)
class HealthThresholds:
    """stall_factor (k): a run is stalled, and a plain-Optuna RUNNING trial possibly orphaned, after k × the median
    trial duration without a finished trial; min_stall: never sooner than this many seconds (a study of 10 ms trials
    is not stalled after 50 ms); failure_window (N) and failure_threshold: failing when more than this fraction of
    the last N finished trials failed (judged once at least min_failure_window trials finished)."""

    stall_factor: float = 5.0
    min_stall: float = 60.0
    failure_window: int = 20
    failure_threshold: float = 0.5
    min_failure_window: int = 5


@dataclass(frozen=True)
class RunHealth:
    """What `assess` found. summary: one line for a header or a list (the state and its main evidence);
    evidence: every observation behind it, as sentences; the numbers: RUNNING trials, orphaned ones, the failure
    rate over the last N finished trials and the pruning rate over all finished ones (None without finished trials),
    the median duration of finished trials and the seconds since the last one finished (None when unknown), and the
    most common `optgui:error` among the recent failures."""

    state: HealthState
    summary: str
    evidence: tuple[str, ...] = ()
    running: int = 0
    orphaned: int = 0
    failure_rate: float | None = None
    pruning_rate: float | None = None
    median_duration: float | None = None
    since_last_finish: float | None = None
    common_error: str | None = None
    orphaned_numbers: tuple[int, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "summary": self.summary,
            "evidence": list(self.evidence),
            "running": self.running,
            "orphaned": self.orphaned,
            "orphaned_trials": list(self.orphaned_numbers),
            "failure_rate": self.failure_rate,
            "pruning_rate": self.pruning_rate,
            "median_duration": self.median_duration,
            "since_last_finish": self.since_last_finish,
            "common_error": self.common_error,
        }


def study_health(
    reader: StudyReader,
    summary: StudySummary,
    *,
    thresholds: HealthThresholds | None = None,
    now: _dt.datetime | None = None,
    running_since: _dt.datetime | None = None,
) -> RunHealth:
    """The health of one study of an open reader (its summary from `reader.studies()`); reads the trials' states
    and datetimes, and the `optgui:error`/`optgui:abandoned` attributes of the recent failures. running_since: see
    `assess`."""
    thresholds = thresholds or HealthThresholds()
    table = reader.trials(summary.name, params=False, user_attrs=False)
    window = _failure_window(table, thresholds)
    failed = table.number[window][table.state[window] == FAIL].tolist()
    attrs = reader.trial_system_attrs(summary.name, "optgui:", numbers=failed) if failed else {}
    errors = [TrialError.text_of(a[TRIAL_ERROR]) for a in attrs.values() if a.get(TRIAL_ERROR) is not None]
    abandoned = _count_abandoned(reader, summary, table)
    return assess(
        table,
        summary.optgui_metadata,
        errors=errors,
        abandoned=abandoned,
        thresholds=thresholds,
        now=now,
        running_since=running_since,
    )


def _count_abandoned(reader: StudyReader, summary: StudySummary, table: TrialTable) -> int:
    """Abandoned trials (FAIL, tagged by crash recovery) do not count towards an optgui run's target; read only
    when the target could be met, because it reads the attributes of every failed trial."""
    target = _target(summary.optgui_metadata)
    if target is None:
        return 0
    fails = table.number[table.state == FAIL].tolist()
    if not fails:
        return 0
    attrs = reader.trial_system_attrs(summary.name, TRIAL_ABANDONED, numbers=fails)
    return sum(1 for a in attrs.values() if a.get(TRIAL_ABANDONED))


def assess(
    table: TrialTable,
    metadata: Mapping[str, Any],
    *,
    errors: list[str] | tuple[str, ...] = (),
    abandoned: int = 0,
    thresholds: HealthThresholds | None = None,
    now: _dt.datetime | None = None,
    running_since: _dt.datetime | None = None,
) -> RunHealth:
    """The health of a study from its trials (states and datetimes) and its optgui metadata (decoded `optgui:`
    study attributes); errors: the `optgui:error` texts of the recent failures; abandoned: failed trials that crash
    recovery abandoned (they do not count towards the target); running_since: when the caller's own run last began
    or resumed running, if it knows (a run paused for an hour is not stalled by that hour once it resumes; the
    lease says when a writer started, not when it resumed)."""
    k = thresholds or HealthThresholds()
    moment = now or _dt.datetime.now(_dt.UTC)
    now64 = np.datetime64(moment.astimezone(_dt.UTC).replace(tzinfo=None), "us")
    finished = np.isin(table.state, _FINISHED)
    n_finished = int(finished.sum())
    median = _median_duration(table, finished)
    last_finish = _latest(table.datetime_complete[finished])
    since = None if last_finish is None else _seconds(now64 - last_finish)
    running_rows = np.flatnonzero(table.state == RUNNING)
    window = _failure_window(table, k)
    failure_rate = float((table.state[window] == FAIL).mean()) if len(window) else None
    pruning_rate = float((table.state == PRUNED).sum() / n_finished) if n_finished else None
    common_error = Counter(errors).most_common(1)[0][0] if errors else None
    writer = _writer_alive(metadata, moment)
    started = _later(_writer_started(metadata, moment) if writer else None, _utc64(running_since))
    quiet_from = _later(last_finish, started)
    facts = _Facts(
        k=k,
        median=median,
        since=None if quiet_from is None else _seconds(now64 - quiet_from),
        since_run_start=started is not None and quiet_from == started,
        n_running=len(running_rows),
        failure_rate=failure_rate if len(window) >= min(k.failure_window, k.min_failure_window) else None,
        window=len(window),
        common_error=common_error,
    )
    evidence: list[str] = []
    orphaned: np.ndarray = np.array([], dtype=np.int64)
    possibly = False
    if len(running_rows) and writer is False:
        orphaned = running_rows
        evidence.append(f"{_count(len(running_rows), 'RUNNING trial')} but {_writer_gone(metadata)}")
    elif len(running_rows) and writer is None and median is not None:
        orphaned = _possibly_orphaned(table, running_rows, now64, last_finish, facts.limit)
        possibly = bool(len(orphaned))
        if possibly:
            age = _seconds(now64 - table.datetime_start[orphaned].min())
            evidence.append(
                f"{_count(len(orphaned), 'RUNNING trial')} started {_duration(age)} ago "
                f"({age / median:.0f}× the median {_duration(median)}) and no trial finished since"
            )
    state = _state(facts, metadata, table, n_finished - abandoned, writer, len(orphaned), possibly, evidence)
    return RunHealth(
        state=state,
        summary=_summary(state, facts, evidence),
        evidence=tuple(evidence),
        running=len(running_rows),
        orphaned=len(orphaned),
        failure_rate=failure_rate,
        pruning_rate=pruning_rate,
        median_duration=median,
        since_last_finish=since,
        common_error=common_error,
        orphaned_numbers=tuple(table.number[orphaned].tolist()),
    )


@dataclass(frozen=True)
class _Facts:
    k: HealthThresholds
    median: float | None
    since: float | None  # seconds without a finished trial while a run could finish one
    n_running: int
    failure_rate: float | None  # None until the window holds enough trials to judge
    window: int
    common_error: str | None
    since_run_start: bool = False  # the silence counts from the live writer's start, not a finished trial

    @property
    def limit(self) -> float | None:
        """Seconds without a finished trial after which a run is stalled."""
        return None if self.median is None else max(self.k.stall_factor * self.median, self.k.min_stall)

    @property
    def failing(self) -> bool:
        return self.failure_rate is not None and self.failure_rate > self.k.failure_threshold


def _state(
    facts: _Facts,
    metadata: Mapping[str, Any],
    table: TrialTable,
    counted: int,
    writer: bool | None,
    n_orphaned: int,
    possibly: bool,
    evidence: list[str],
) -> HealthState:
    if n_orphaned:
        return HealthState.POSSIBLY_ORPHANED if possibly else HealthState.ORPHANED
    if facts.failing:
        evidence.append(
            f"{facts.failure_rate:.0%} of the last {facts.window} finished trials failed"
            + (f"; most often: {facts.common_error}" if facts.common_error else "")
        )
    limit = facts.limit
    if facts.n_running and limit is not None and facts.since is not None and facts.since > limit:
        assert facts.median is not None
        evidence.insert(
            0,
            f"no trial finished {'in the ' if facts.since_run_start else 'for '}{_duration(facts.since)}"
            f"{' since the run started' if facts.since_run_start else ''}, {facts.since / facts.median:.0f}× "
            f"the median {_duration(facts.median)}",
        )
        return HealthState.STALLED
    if facts.failing:
        return HealthState.FAILING
    if facts.n_running or writer is True:
        return HealthState.RUNNING
    target = _target(metadata)
    if target is not None and counted >= target:
        evidence.append(f"the run reached its target of {_count(target, 'trial')}")
        return HealthState.FINISHED
    return HealthState.IDLE


def _summary(state: HealthState, facts: _Facts, evidence: list[str]) -> str:
    if evidence:
        return f"{state}: {evidence[0]}"
    if state is HealthState.RUNNING and facts.n_running:
        return f"running: {_count(facts.n_running, 'trial')} in progress"
    return str(state)


def _failure_window(table: TrialTable, k: HealthThresholds) -> np.ndarray:
    """Rows of the last N finished trials (in trial-number order)."""
    finished = np.flatnonzero(np.isin(table.state, _FINISHED))
    return finished[-k.failure_window :] if k.failure_window > 0 else finished[:0]


def _median_duration(table: TrialTable, finished: np.ndarray) -> float | None:
    durations = table.duration[finished]
    durations = durations[np.isfinite(durations)]
    return float(np.median(durations)) if len(durations) else None


def _possibly_orphaned(
    table: TrialTable, rows: np.ndarray, now64: np.datetime64, last_finish: np.datetime64 | None, limit: float | None
) -> np.ndarray:
    """RUNNING trials older than the stall limit while nothing finished after they started."""
    if limit is None:
        return rows[:0]
    starts = table.datetime_start[rows]
    known = ~np.isnat(starts)
    elapsed = np.asarray(now64 - np.where(known, starts, now64), dtype="timedelta64[us]")
    age = elapsed.astype(np.int64) / 1e6  # seconds; 0 where the start is unknown
    quiet = np.ones(len(rows), dtype=bool) if last_finish is None else (starts > last_finish)
    return rows[known & (age > limit) & quiet]


def _writer_alive(metadata: Mapping[str, Any], now: _dt.datetime) -> bool | None:
    """True when optgui's writer (a leased run or a fleet worker) lives, False when every one it recorded is
    gone, None when the study has no optgui writer to ask (plain Optuna)."""
    owners = [metadata[KEY_LEASE]] if isinstance(metadata.get(KEY_LEASE), dict) else []
    owners += [v for key, v in metadata.items() if key.startswith(KEY_WORKER) and isinstance(v, dict)]
    if not owners:
        return None
    return any(_owner_alive(owner, now) for owner in owners)


def _writer_started(metadata: Mapping[str, Any], now: _dt.datetime) -> np.datetime64 | None:
    """When the live optgui writer began: the earliest start (a lease's `acquired`, a worker's `started`) of the
    recorded owners that live; None when none of them says."""
    owners = [metadata[KEY_LEASE]] if isinstance(metadata.get(KEY_LEASE), dict) else []
    owners += [v for key, v in metadata.items() if key.startswith(KEY_WORKER) and isinstance(v, dict)]
    starts: list[np.datetime64] = []
    for owner in owners:
        began = owner.get("acquired", owner.get("started"))
        if not isinstance(began, str) or not _owner_alive(owner, now):
            continue
        try:
            moment = _dt.datetime.fromisoformat(began)
        except ValueError:  # a malformed record says nothing
            continue
        stamp = _utc64(moment)
        if stamp is not None:
            starts.append(stamp)
    return min(starts) if starts else None


def _utc64(moment: _dt.datetime | None) -> np.datetime64 | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.UTC).replace(tzinfo=None)
    return np.datetime64(moment, "us")


def _later(a: np.datetime64 | None, b: np.datetime64 | None) -> np.datetime64 | None:
    if a is None or b is None:
        return b if a is None else a
    return max(a, b)


def _owner_alive(record: dict, now: _dt.datetime) -> bool:
    if record.get("state") in _DEAD_WORKER_STATES:
        return False
    try:
        return lease_is_live(record, now)
    except (KeyError, TypeError, ValueError):  # a malformed record vouches for nobody
        return False


def _writer_gone(metadata: Mapping[str, Any]) -> str:
    lease = metadata.get(KEY_LEASE)
    if isinstance(lease, dict) and not lease.get("released"):
        owner = f"process {lease.get('pid')} on {lease.get('host')}"
        return f"their writer, {owner}, is gone (last heartbeat {lease.get('heartbeat')})"
    return "no optgui process runs the study"


def _target(metadata: Mapping[str, Any]) -> int | None:
    target = metadata.get(KEY_TARGET)
    value = target.get("n_trials") if isinstance(target, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _latest(column: np.ndarray) -> np.datetime64 | None:
    known = column[~np.isnat(column)]
    return known.max() if len(known) else None


def _seconds(delta: np.timedelta64) -> float:
    return float(delta / np.timedelta64(1, "s"))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _duration(seconds: float) -> str:
    """A duration as people read it: 850 ms, 42 s, 12 min, 3.5 h, 2.1 days."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
