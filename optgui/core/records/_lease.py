"""The run lease (`optgui:lease`): one process at a time runs a study (optgui.core.engine._lease keeps it)."""

from __future__ import annotations

import dataclasses
import os
import socket
from typing import Any, ClassVar, Self

from optgui.core.records._base import (
    AWARE_TIME,
    BOOL,
    PID,
    TEXT,
    TIME,
    JsonRecord,
    RecordError,
    entry,
    now_iso,
    optional,
)
from optgui.core.records._keys import KEY_LEASE


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeaseRecord(JsonRecord):
    """Who runs the study: written when a process takes the lease, its heartbeat refreshed at most every 10 s,
    marked released at the end. Stale after 60 s without a heartbeat, or when its pid is gone on the same host."""

    KEY: ClassVar[str] = KEY_LEASE
    TITLE: ClassVar[str] = "Lease"

    host: str | None = entry("the owner's host name (required unless released)", TEXT)
    pid: int | None = entry("the owner's process id (required unless released)", PID)
    token: str | None = entry("the owner's random token: a race leaves exactly one", optional(TEXT), omit=True)
    acquired: str | None = entry("when it was taken", TIME)
    heartbeat: str | None = entry("the owner's last sign of life (required unless released)", AWARE_TIME)
    released: bool | None = entry("`true` once the owner let it go (a dead owner's lease is taken over)", BOOL)
    copied: bool | None = entry("`true` on the released lease of a study copied by optgui", BOOL)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def _parse(cls, value: Any) -> Self:
        record = super()._parse(value)
        if record.released is not True:
            for name in ("host", "pid", "heartbeat"):
                if getattr(record, name) is None:
                    raise RecordError("", f"has no {name!r}")
        return record

    @classmethod
    def taken(cls, token: str) -> LeaseRecord:
        """The lease this process takes now."""
        stamp = now_iso()
        return cls(host=socket.gethostname(), pid=os.getpid(), token=token, acquired=stamp, heartbeat=stamp)

    def beating(self) -> LeaseRecord:
        return dataclasses.replace(self, heartbeat=now_iso())

    def releasing(self) -> LeaseRecord:
        return dataclasses.replace(self, released=True, heartbeat=now_iso())


COPIED_LEASE = LeaseRecord(released=True, copied=True)
