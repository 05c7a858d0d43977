"""The run lease: one process at a time runs a study, and a dead owner is detected.

Stored as the study system attribute `optgui:lease` = {host, pid, token, acquired, heartbeat}. A background thread
refreshes the heartbeat every HEARTBEAT_SECONDS while the owner lives (also while a trial runs for hours). The owner
is dead when it ran on this host and its pid is gone, or when its heartbeat is older than STALE_SECONDS.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
import threading
import time
import uuid

from optgui.core.errors import LeaseHeldError, LeaseLostError
from optgui.core.records import KEY_LEASE, LeaseRecord

HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0


def stale_seconds() -> float:
    """How old a heartbeat may get before another process may take the lease over. Tests shorten it
    (OPTGUI_LEASE_STALE_SECONDS) to prove what happens to a process that was stopped longer than that."""
    return float(os.environ.get("OPTGUI_LEASE_STALE_SECONDS", STALE_SECONDS))


def heartbeat_seconds() -> float:
    return min(HEARTBEAT_SECONDS, stale_seconds() / 6)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_is_live(record: dict, stale_after: float, now: _dt.datetime | None = None) -> bool:
    """Whether the process a {host, pid, heartbeat} record names lives: its pid exists (when it ran on this host;
    another host's pid cannot be checked) and its heartbeat is younger than `stale_after` seconds. The one liveness
    rule for run leases and fleet workers."""
    if record.get("host") == socket.gethostname() and not _pid_alive(int(record["pid"])):
        return False
    now = now or _dt.datetime.now(_dt.UTC)
    beat = _dt.datetime.fromisoformat(record["heartbeat"])
    return (now - beat).total_seconds() < stale_after


def lease_is_live(lease: dict | None, now: _dt.datetime | None = None) -> bool:
    if not lease or lease.get("released"):
        return False
    return owner_is_live(lease, stale_seconds(), now)


def describe_lease(lease: dict) -> str:
    return f"process {lease.get('pid')} on {lease.get('host')} (heartbeat {lease.get('heartbeat')})"


class Lease:
    """Acquire with `acquire()`; `release()` when done. The heartbeat thread is a daemon and stops on release."""

    def __init__(self, storage, study_id: int):
        self._storage = storage
        self._study_id = study_id
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = time.monotonic()  # when the lease was last known to be ours

    def rebind(self, storage) -> None:
        """Write through `storage` from now on (a recovery reopened the study's storage after a raw reset)."""
        self._storage = storage

    def current(self) -> dict | None:
        return self._storage.get_study_system_attrs(self._study_id).get(KEY_LEASE)

    def acquire(self) -> dict | None:
        """Take the lease. Returns the previous (dead or released) lease, or None. Raises LeaseHeldError when a
        live process holds it."""
        previous = self.current()
        if previous is not None and lease_is_live(previous) and previous.get("token") != self.token:
            raise LeaseHeldError(
                f"the study is being run by {describe_lease(previous)}; "
                "pause or stop it there first (or wait a minute if that process was killed on "
                "another machine)"
            )
        self._write(LeaseRecord.taken(self.token))
        # Read back: if two processes raced, exactly one token survives.
        if (self.current() or {}).get("token") != self.token:
            raise LeaseHeldError("another process took the study's run lease at the same moment")
        self._last_beat = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="optgui-lease-heartbeat", daemon=True)
        self._thread.start()
        return previous

    def _beat(self) -> None:
        while not self._stop.wait(heartbeat_seconds()):
            try:
                if not self._refresh():
                    return  # taken over (our heartbeat was stale): never overwrite the new owner
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried on the next beat
                continue

    def _refresh(self) -> bool:
        """Write a new heartbeat if the lease is still ours; False when another process has taken it."""
        lease = self.current() or {}
        if lease.get("token") != self.token:
            return False
        self._write(LeaseRecord.from_json(lease).beating())
        self._last_beat = time.monotonic()
        return True

    def check_held(self) -> None:
        """Raise LeaseLostError when another process may have taken the lease over: this process was stopped (or
        starved) longer than a lease lasts without a heartbeat, and a check of the storage says it is gone. Costs
        nothing while heartbeats are fresh."""
        if time.monotonic() - self._last_beat < stale_seconds() / 2:
            return
        lease = self.current() or {}
        if lease.get("token") == self.token and self._refresh():
            return
        raise LeaseLostError(
            f"this run lost the study's lease to {describe_lease(lease)}: it was stopped for longer than the "
            f"{stale_seconds():g} s a lease lasts without a heartbeat, so that process took over (and recovers "
            "the trial this one had in flight); nothing more was written"
        )

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def release(self) -> None:
        self.stop_heartbeat()
        lease = self.current() or {}
        if lease.get("token") == self.token:
            self._write(LeaseRecord.from_json(lease).releasing())

    def _write(self, record: LeaseRecord) -> None:
        self._storage.set_study_system_attr(self._study_id, KEY_LEASE, record.to_json())
