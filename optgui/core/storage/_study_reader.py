"""StudyReader: what every read-only backend (SQL databases, journal files) offers; open_reader picks one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optgui.core.storage._tables import IntermediateValues, StudySummary, TrialDelta, TrialTable, Watermark


class StudyReader:
    """Read-only access to the studies of one storage. Use as a context manager, or call close().

    Attributes: kind ("sqlite", "journal" or "rdb"); display (a name safe to show: passwords removed);
    schema (optgui.core.storage._schema.SchemaInfo for SQL databases, None for journal files); notes (warnings to show
    the user, e.g. an old schema that Optuna will refuse until upgraded).
    """

    kind: str
    display: str
    schema: Any = None
    notes: tuple[str, ...] = ()

    def study_names(self) -> list[str]:
        """Names of all studies, in creation order."""
        raise NotImplementedError

    def studies(self, *, counts: bool = True) -> list[StudySummary]:
        """A summary of every study (names, directions, metric names, counts by state, best values, first and last
        activity, optgui metadata), read in one pass.

        counts=False leaves out what needs a scan of every trial (counts by state, best values, activity): the
        summaries say so (`counted` False) and keep the trial count when the backend has it cheaply. A window
        lists a storage of millions of trials at once that way and counts in the background."""
        raise NotImplementedError

    def trials(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> TrialTable:
        """All trials of a study as columns.

        `params=False`, `user_attrs=False` and `datetimes=False` skip those columns (empty params/user_attrs,
        NaT datetimes) for speed: a convergence plot needs only numbers, states and values.
        """
        raise NotImplementedError

    def trials_with_watermark(
        self, study_name: str, *, params: bool = True, user_attrs: bool = True, datetimes: bool = True
    ) -> tuple[TrialTable, Watermark]:
        """All trials, as trials() with the same column options, and the watermark for the next poll().

        What a view that opens a study and then follows it needs: the first read can skip columns it does not
        show (a first poll() reads them all) and later polls stay O(new trials). Trials still unfinished in the
        table are returned once more by the next poll (their fingerprints are not taken here).
        """
        delta = self.poll(study_name, None)
        return delta.table, delta.watermark

    def poll(self, study_name: str, watermark: Watermark | None = None) -> TrialDelta:
        """Trials added or changed since `watermark` (all trials when it is None), and the next watermark.

        Cost is proportional to the number of new trials plus the unfinished (RUNNING/WAITING) ones, not to the
        size of the study. A trial that finishes, or gains params, values, intermediate values or user
        attributes while unfinished, is returned again. Merge with TrialTable.with_rows_replaced().
        """
        raise NotImplementedError

    def intermediate_values(self, study_name: str, numbers: Sequence[int] | None = None) -> IntermediateValues:
        """Every reported intermediate value of the study (long format, sorted by trial and step); only of the
        trials numbered `numbers` when given (read without scanning the whole study)."""
        raise NotImplementedError

    def trial_system_attrs(
        self, study_name: str, prefix: str = "optgui:", numbers: Sequence[int] | None = None
    ) -> dict[int, dict[str, Any]]:
        """{trial number: {key: value}} of trial system attributes whose key starts with `prefix`; only of the
        trials numbered `numbers` when given.

        Values are JSON-decoded, never unpickled.
        """
        raise NotImplementedError

    def study_system_attrs(self, study_name: str, prefix: str) -> dict[str, Any]:
        """{key: value} of the study's system attributes whose key starts with `prefix` (optuna-dashboard's notes,
        Optuna's artifact metadata). Values are JSON-decoded, never unpickled."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file or connection. Reading after close is an error."""

    def __enter__(self) -> StudyReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
