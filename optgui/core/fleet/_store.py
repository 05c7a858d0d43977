"""The fleet: many worker processes on one study, coordinated only through the study's own storage.

Nothing here needs a side channel: a worker on another machine needs the storage URL and the study name, nothing
else. Every record is an Optuna system attribute with the `optgui:` prefix (typed in optgui.core.records), so the
database stays a plain Optuna database.

Study system attributes
  optgui:fleet            the fleet's live record, written by whoever leads it (the coordinator in deterministic
                          mode, `optgui run --mode free` in free-running mode): {"mode", "batch", "pipeline",
                          "session": token, "state": running|pausing|paused|stopping|stopped|completed,
                          "asked_below": N (every trial < N has its whole suggest phase stored),
                          "released_below": N (workers may evaluate RUNNING trials < N), "host", "pid", "at"}
  optgui:control          the last fleet command: {"command": "run"|"pause"|"resume"|"stop", "seq": n, "at",
                          "by"}; every process of the fleet polls it between trials (at most every ~1 s idle)
  optgui:worker:<i>       one per worker process, i = 0, 1, ... never reused: {"index", "host", "pid", "token",
                          "mode", "seed" (free mode: the worker's own sampler seed), "state", "trial",
                          "n_evaluated", "started", "heartbeat"}; heartbeat every HEARTBEAT_SECONDS

Trial system attributes
  optgui:claim:<a>        attempt a at evaluating the trial: {"worker", "at"}. Inserted, never updated: the
                          storage's UNIQUE(trial_id, key) makes exactly one worker win each attempt (journal files:
                          an exclusive file lock around check-and-write). A dead claimer's trial is claimed again
                          under a+1.
  optgui:result           the evaluation, posted by the worker instead of telling: {"state": COMPLETE|PRUNED|FAIL,
                          "values": [...]|null, "message", "worker", "attempt", "duration"}; the coordinator tells
                          it, in trial-number order
  optgui:asked_by         free-running mode: {"worker": i} — whose sampler (seed + i) suggested the trial

A worker is dead when it ran on this host and its pid is gone, or when its heartbeat is older than STALE_SECONDS.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from optuna.trial import TrialState

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine._lease import owner_is_live
from optgui.core.errors import OptguiError, StudyStateError
from optgui.core.records import (
    KEY_CONTROL,
    KEY_FLEET,
    KEY_WORKER,
    TRIAL_ASKED_BY,
    TRIAL_CLAIM,
    TRIAL_RESULT,
    ControlRecord,
    FleetCommand,
    WorkerRecord,
    worker_key,
)
from optgui.core.records import claim_key as claim_key  # the fleet's keys are used as fl.<name>
from optgui.core.storage import open_for_run, parse_storage

MODES = ("deterministic", "free")
COMMANDS = ("pause", "resume", "stop")
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0


def worker_is_alive(record: dict | None, now: _dt.datetime | None = None) -> bool:
    """A worker that has not exited, whose pid lives (same host) and whose heartbeat is fresh."""
    if not record or record.get("state") in ("exited", "failed"):
        return False
    return owner_is_live(record, STALE_SECONDS, now)


@dataclass(frozen=True)
class RunningTrial:
    trial_id: int
    number: int
    attrs: dict  # the trial's optgui: system attributes

    @property
    def result(self) -> dict | None:
        return self.attrs.get(TRIAL_RESULT)

    @property
    def claims(self) -> list[tuple[int, dict]]:
        out = [(int(k[len(TRIAL_CLAIM) :]), v) for k, v in self.attrs.items() if k.startswith(TRIAL_CLAIM)]
        return sorted(out, key=lambda item: item[0])


class FleetStore:
    """The few storage operations a fleet needs beyond Optuna's API: small targeted reads (never the study's big
    saved-state attributes) and insert-once writes (atomic claims)."""

    def __init__(self, storage, study_id: int):
        self.storage = storage
        self.study_id = study_id

    # --- study attributes ------------------------------------------------------------------------------------
    def fleet_attrs(self) -> dict[str, Any]:
        """optgui:fleet, optgui:control and every optgui:worker:<i> (not the saved sampler states)."""
        raise NotImplementedError

    def fleet_state(self) -> dict[str, Any]:
        """optgui:fleet and optgui:control only: the cheap read that processes of the fleet poll often."""
        attrs = self.fleet_attrs()
        return {k: v for k, v in attrs.items() if k in (KEY_FLEET, KEY_CONTROL)}

    def set_study_attr(self, key: str, value) -> None:
        self.storage.set_study_system_attr(self.study_id, key, value)

    def insert_study_attr_once(self, key: str, value) -> bool:
        raise NotImplementedError

    # --- trials ----------------------------------------------------------------------------------------------
    def running_trials(self) -> list[RunningTrial]:
        """RUNNING trials of the study in number order, each with its optgui: system attributes."""
        raise NotImplementedError

    def results(self, trial_ids: Iterable[int]) -> dict[int, dict]:
        """The posted results (optgui:result) of the given trials, by trial id."""
        wanted = set(trial_ids)
        return {t.trial_id: t.result for t in self.running_trials() if t.trial_id in wanted and t.result is not None}

    def insert_trial_attr_once(self, trial_id: int, key: str, value) -> bool:
        raise NotImplementedError

    def set_trial_attr(self, trial_id: int, key: str, value) -> None:
        self.storage.set_trial_system_attr(trial_id, key, value)

    def close(self) -> None:
        pass


class RdbFleetStore(FleetStore):
    def __init__(self, storage, study_id: int):
        super().__init__(storage, study_id)
        self._engine = oi.sql_engine(storage)
        self._m = oi.rdb_models()

    def fleet_attrs(self) -> dict[str, Any]:
        import sqlalchemy as sa

        table = self._m.StudySystemAttributeModel.__table__
        query = sa.select(table.c.key, table.c.value_json).where(
            table.c.study_id == self.study_id,
            sa.or_(table.c.key.in_([KEY_FLEET, KEY_CONTROL]), table.c.key.like(f"{KEY_WORKER}%")),
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def fleet_state(self) -> dict[str, Any]:
        import sqlalchemy as sa

        table = self._m.StudySystemAttributeModel.__table__
        query = sa.select(table.c.key, table.c.value_json).where(
            table.c.study_id == self.study_id, table.c.key.in_([KEY_FLEET, KEY_CONTROL])
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def results(self, trial_ids: Iterable[int]) -> dict[int, dict]:
        import sqlalchemy as sa

        ids = list(trial_ids)
        if not ids:
            return {}
        attrs = self._m.TrialSystemAttributeModel.__table__
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(attrs.c.trial_id, attrs.c.value_json).where(
                    attrs.c.trial_id.in_(ids), attrs.c.key == TRIAL_RESULT
                )
            ).fetchall()
        return {trial_id: json.loads(value) for trial_id, value in rows}

    def insert_study_attr_once(self, key: str, value) -> bool:
        import sqlalchemy as sa

        table = self._m.StudySystemAttributeModel.__table__
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(table).values(study_id=self.study_id, key=key, value_json=json.dumps(value)))
        except sa.exc.IntegrityError:
            return False
        return True

    def running_trials(self) -> list[RunningTrial]:
        import sqlalchemy as sa

        trials = self._m.TrialModel.__table__
        attrs = self._m.TrialSystemAttributeModel.__table__
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(trials.c.trial_id, trials.c.number).where(
                    trials.c.study_id == self.study_id, trials.c.state == TrialState.RUNNING
                )
            ).fetchall()
            ids = [r[0] for r in rows]
            found: dict[int, dict] = {i: {} for i in ids}
            if ids:
                for trial_id, key, value in conn.execute(
                    sa.select(attrs.c.trial_id, attrs.c.key, attrs.c.value_json).where(
                        attrs.c.trial_id.in_(ids), attrs.c.key.like("optgui:%")
                    )
                ):
                    found[trial_id][key] = json.loads(value)
        return sorted((RunningTrial(tid, num, found[tid]) for tid, num in rows), key=lambda t: t.number)

    def insert_trial_attr_once(self, trial_id: int, key: str, value) -> bool:
        import sqlalchemy as sa

        table = self._m.TrialSystemAttributeModel.__table__
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(table).values(trial_id=trial_id, key=key, value_json=json.dumps(value)))
        except sa.exc.IntegrityError:
            return False
        return True


class JournalFleetStore(FleetStore):
    """Journal files have no unique constraints: an exclusive lock on a file beside the journal makes
    check-and-write atomic. One machine (or a file system whose locks work across machines)."""

    def __init__(self, storage, study_id: int, journal_path: str):
        super().__init__(storage, study_id)
        self._lock_path = journal_path + ".optgui-lock"
        self._thread_lock = threading.Lock()

    @contextlib.contextmanager
    def _exclusive(self):
        with self._thread_lock, open(self._lock_path, "a+b") as handle:
            if sys.platform == "win32":  # pragma: no cover - no fcntl on Windows
                import msvcrt

                handle.seek(0)
                while True:
                    try:
                        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                        break
                    except OSError:
                        time.sleep(0.01)
                try:
                    yield
                finally:
                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released by the OS if the process dies
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def fleet_attrs(self) -> dict[str, Any]:
        attrs = self.storage.get_study_system_attrs(self.study_id)
        return {k: v for k, v in attrs.items() if k in (KEY_FLEET, KEY_CONTROL) or k.startswith(KEY_WORKER)}

    def insert_study_attr_once(self, key: str, value) -> bool:
        with self._exclusive():
            if key in self.storage.get_study_system_attrs(self.study_id):
                return False
            self.storage.set_study_system_attr(self.study_id, key, value)
            return True

    def running_trials(self) -> list[RunningTrial]:
        trials = self.storage.get_all_trials(self.study_id, deepcopy=False, states=(TrialState.RUNNING,))
        return [
            RunningTrial(oi.trial_id(t), t.number, {k: v for k, v in t.system_attrs.items() if k.startswith("optgui:")})
            for t in sorted(trials, key=lambda t: t.number)
        ]

    def insert_trial_attr_once(self, trial_id: int, key: str, value) -> bool:
        with self._exclusive():
            if key in self.storage.get_trial(trial_id).system_attrs:
                return False
            self.storage.set_trial_system_attr(trial_id, key, value)
            return True


def require_parallel_storage(kind: str) -> None:
    """Refuse a storage kind ("sqlite", "journal", "rdb") that parallel workers cannot share."""
    if kind == "sqlite":
        # SQLite serialises writers with a 5 s busy timeout and no row locks: parallel workers on one file fail
        # with "database is locked" (Optuna's own FAQ says the same). A journal file is the one-machine route.
        raise OptguiError(
            "parallel workers need a PostgreSQL/MySQL URL or an Optuna journal file (.log/.jsonl); "
            "SQLite cannot take concurrent writers"
        )


def fleet_store(storage, study_id: int, ref) -> FleetStore:
    if ref.kind == "journal":
        return JournalFleetStore(storage, study_id, str(ref.path))
    require_parallel_storage(ref.kind)
    return RdbFleetStore(storage, study_id)


def open_fleet_store(storage_text: str, study_name: str) -> FleetStore:
    """The fleet records of an existing study, for a process that only watches or steers the fleet (the GUI).
    Raises OptguiError with a message for the user (SQLite, missing file, no such study)."""

    ref = parse_storage(storage_text)
    require_parallel_storage(ref.kind)
    storage, _ = open_for_run(ref, create=False)
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        raise StudyStateError(f"no study {study_name!r} in {ref.display}") from None
    return fleet_store(storage, study_id, ref)


def dispose_fleet_store(store: FleetStore) -> None:
    """Close the connections of a store made by open_fleet_store (journal files hold none)."""
    engine = oi.sql_engine(store.storage)
    if engine is not None:
        engine.dispose()


# --- control ----------------------------------------------------------------------------------------------------
def send_command(store: FleetStore, command: str) -> dict:
    """Write a fleet command. seq grows by one each time so that processes can tell a new command from an old."""
    if command not in COMMANDS and command != "run":
        raise OptguiError(f"unknown fleet command {command!r}; use pause, resume or stop")
    current = store.fleet_attrs().get(KEY_CONTROL) or {}
    record = ControlRecord(
        command=FleetCommand(command),
        seq=int(current.get("seq", 0)) + 1,
        at=records.now_iso(),
        by=f"{socket.gethostname()}:{os.getpid()}",
    ).to_json()
    store.set_study_attr(KEY_CONTROL, record)
    return record


def effective_command(control: dict | None) -> str:
    """pause -> "pause", stop -> "stop", anything else (resume, run, nothing) -> "run"."""
    command = (control or {}).get("command")
    return command if command in ("pause", "stop") else "run"


# --- worker registry --------------------------------------------------------------------------------------------
class WorkerRegistration:
    """A worker's slot `optgui:worker:<i>` (i never reused, so a free-running worker's seed is never repeated) and
    the heartbeat thread that keeps it fresh."""

    def __init__(self, store: FleetStore, *, mode: str):
        import uuid

        self._store = store
        self.token = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        taken = [int(k[len(KEY_WORKER) :]) for k in store.fleet_attrs() if k.startswith(KEY_WORKER)]
        index = max(taken) + 1 if taken else 0
        record = WorkerRecord.registering(index, self.token, mode)
        while not store.insert_study_attr_once(worker_key(record.index), record.to_json()):
            record = dataclasses.replace(record, index=record.index + 1)
        self.index = record.index
        self.record = record

    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name="optgui-worker-heartbeat", daemon=True)
        self._thread.start()

    def update(self, **changes: Any) -> None:
        """Change the record (state, trial, counters) and write it with a fresh heartbeat."""
        with self._lock:
            self.record = self.record.changed(**changes, heartbeat=records.now_iso())
            record = self.record
        self._store.set_study_attr(worker_key(self.index), record.to_json())

    def note(self, **changes: Any) -> None:
        """Change the record without writing it: the next heartbeat carries it (no extra write per trial)."""
        with self._lock:
            self.record = self.record.changed(**changes)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.update()
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried on the next beat
                continue

    def close(self, state: str = "exited") -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.update(state=state, trial=None)


# --- status (for `optgui control status` and the GUI) -----------------------------------------------------------
@dataclass(frozen=True)
class WorkerStatus:
    index: int
    host: str
    pid: int
    state: str  # the worker's own state, or "dead"
    trial: int | None
    n_evaluated: int
    heartbeat: str
    heartbeat_age: float  # seconds
    seed: int | None


@dataclass(frozen=True)
class FleetStatus:
    mode: str | None
    state: str | None
    command: str
    workers: tuple[WorkerStatus, ...]
    running_trials: tuple[int, ...]


def read_status(store: FleetStore) -> FleetStatus:
    attrs = store.fleet_attrs()
    now = _dt.datetime.now(_dt.UTC)
    workers = []
    for key, rec in attrs.items():
        if not key.startswith(KEY_WORKER):
            continue
        alive = worker_is_alive(rec, now)
        state = rec.get("state") if alive or rec.get("state") in ("exited", "failed") else "dead"
        age = (now - _dt.datetime.fromisoformat(rec["heartbeat"])).total_seconds()
        workers.append(
            WorkerStatus(
                rec["index"],
                rec.get("host", "?"),
                int(rec.get("pid", 0)),
                state,
                rec.get("trial"),
                int(rec.get("n_evaluated", 0)),
                rec["heartbeat"],
                age,
                rec.get("seed"),
            )
        )
    workers.sort(key=lambda w: w.index)
    fleet = attrs.get(KEY_FLEET) or {}
    running = tuple(t.number for t in store.running_trials())
    return FleetStatus(
        fleet.get("mode"), fleet.get("state"), effective_command(attrs.get(KEY_CONTROL)), tuple(workers), running
    )


def evaluating_trials(trials: Iterable[RunningTrial]) -> dict[int, int]:
    """Worker index -> the RUNNING trial it evaluates now, from the trials themselves (a worker's own record
    carries its trial only as of its last heartbeat): the latest claim (deterministic mode) or the asker (free
    mode) of each trial whose result is not posted yet."""
    out: dict[int, int] = {}
    for trial in trials:
        if trial.result is not None:
            continue
        claims = trial.claims
        worker = claims[-1][1].get("worker") if claims else (trial.attrs.get(TRIAL_ASKED_BY) or {}).get("worker")
        if worker is not None:
            out[int(worker)] = trial.number
    return out


def live_claimer(trial: RunningTrial, workers: dict[str, Any], now=None) -> int | None:
    """The index of the live worker evaluating the trial (its latest claim), or None if unclaimed or dead."""
    claims = trial.claims
    if not claims:
        return None
    worker = claims[-1][1].get("worker")
    if worker is None:
        return None
    return worker if worker_is_alive(workers.get(worker_key(worker)), now) else None


def iter_worker_records(attrs: dict[str, Any]) -> Iterable[dict]:
    return (v for k, v in attrs.items() if k.startswith(KEY_WORKER))
