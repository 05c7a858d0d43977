"""optgui's trial system attributes of a single-process run: an objective's error, an abandoned trial, a trial
that crash recovery re-entered."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from optgui.core.records._base import INDEX, INT, TEXT, JsonRecord, entry, optional
from optgui.core.records._keys import TRIAL_ABANDONED, TRIAL_ERROR, TRIAL_RECOVERED


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialError(JsonRecord):
    """An objective's exception, written before the tell (Optuna stores no error text)."""

    KEY: ClassVar[str] = TRIAL_ERROR
    TITLE: ClassVar[str] = "Trial error"

    type: str = entry("the exception's class name", TEXT, required=True)
    message: str = entry("its message", TEXT, required=True)
    traceback: str | None = entry("its traceback", optional(TEXT))
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def summary(self) -> str:
        """One line: the class and the message ("MemoryError: out of GPU memory")."""
        return f"{self.type}: {self.message}"

    @classmethod
    def text_of(cls, stored: Any) -> str:
        """The one-line summary of a stored value, or the value as text when it is not a well-formed record (an
        older or foreign writer): what lists and health lines show, never a dict's repr."""
        return cls._parse(stored).summary if cls.problem(stored) is None else str(stored)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Abandoned(JsonRecord):
    """A trial told FAIL instead of being re-entered (crash recovery on a journal file, or a dead free-running
    worker's trial); comparisons with an uninterrupted run skip it."""

    KEY: ClassVar[str] = TRIAL_ABANDONED
    TITLE: ClassVar[str] = "Abandoned trial"

    segment: int | None = entry("the segment whose recovery abandoned it (single process)", INDEX)
    reason: str = entry("why", TEXT, required=True)
    by_worker: int | None = entry(
        "free-running fleets: the worker that told it FAIL (inserted once: the tag is the lock)", INT
    )
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recovered(JsonRecord):
    """A zombie trial crash recovery re-entered under the same number (its partial suggestions were rolled back
    and sampled again)."""

    KEY: ClassVar[str] = TRIAL_RECOVERED
    TITLE: ClassVar[str] = "Recovered trial"

    segment: int = entry("the segment that re-entered it", INDEX, required=True)
    dead_segment: int = entry("the segment whose process died during it", INDEX, required=True)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
