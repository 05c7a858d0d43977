"""One open study's state: the StudySession.

Everything the window shows about a study lives here and nowhere else: its identity (storage and name), its trials
(the plot's TrialData and, read when a view first needs params, the full TrialTable), the watermark of the next
poll, its run definition, the state of the run that writes it, and its verification. Selecting or opening a study
binds the views to another session; each view then rebuilds from that session, so no view carries one study's data
into another's.

The object uses no Qt: sessions are plain data with a few questions, written by one owner each (the reader's polls
and the engine's events write the trials, the engine's events write the run state, the verifier writes the
verification).
"""

from __future__ import annotations

from dataclasses import dataclass

from optgui.core.records import StudyMetadata
from optgui.core.tables import StudySummary, TrialDelta, TrialTable
from optgui.qt.trial_data import TrialData
from optgui.qt.verification import BadgeState

DEFAULT_TRIALS = 100  # the trial target offered for a study optgui has not run yet
# Run states in which the engine is working on the study (the others are at rest).
ACTIVE_RUN_STATES = frozenset({"starting", "running", "pausing", "paused", "stopping"})


@dataclass(frozen=True)
class RunDefinition:
    """What Start would run: recorded with the study (fixed) or, for a study optgui has not run, the defaults."""

    objective: str = ""
    sampler: str = ""
    pruner: str = ""
    seed: str = ""
    n_trials: int = DEFAULT_TRIALS
    recorded: bool = False
    adopted_trials: int = 0  # trials made without optgui (history for the first run)
    resumable: bool = False  # the run record has segments and trials: Resume, not Start
    record: dict | None = None  # the run record itself (the fleet tab and Start read it)

    @classmethod
    def of(cls, meta: StudyMetadata, n_trials: int, n_finished: int) -> RunDefinition:
        from optgui.core.samplers import parse_spec

        run = meta.run
        target = (meta.target or {}).get("n_trials")
        if run is None:
            adopted = n_trials if not meta.present else 0
            default = target if target is not None else (adopted + DEFAULT_TRIALS if adopted else DEFAULT_TRIALS)
            return cls(n_trials=default, adopted_trials=adopted)
        # Nothing is left to resume once the target is reached: Start (with a higher target) is the way on.
        done = target is not None and n_finished >= target
        return cls(
            objective=run["objective"]["ref"],
            sampler=parse_spec(run["sampler"], "sampler").to_text(),
            pruner=parse_spec(run["pruner"], "pruner").to_text(),
            seed="" if run.get("seed") is None else str(run["seed"]),
            n_trials=target if target is not None else DEFAULT_TRIALS,
            recorded=True,
            resumable=bool(meta.segments) and n_trials > 0 and not done,
            record=run,
        )


def initial_badge(meta: StudyMetadata, n_finished: int, auto_verify: bool) -> BadgeState:
    """The verification state of a study nobody has checked in this window yet."""
    if not meta.present:
        return BadgeState(
            "unverifiable",
            "Not verifiable: not run by optgui (no run record)",
            verdict={"reason": "the study has no optgui run record: its sampler and seed are unknown"},
        )
    if n_finished == 0:
        return BadgeState.none("Nothing to check yet: no finished trials")
    if not auto_verify:
        return BadgeState.none("Not checked (automatic checks are off: click to check)")
    return BadgeState.none()


def initial_run_state(meta: StudyMetadata, data: TrialData) -> str:
    """The run state of a study this window has not run: "interrupted" when an optgui run left a trial RUNNING and
    nothing holds the study any more (the process was killed: Resume recovers the trial), otherwise "idle"."""
    from optgui.core.lease import lease_is_live

    if meta.present and not lease_is_live(meta.lease) and data.counts()["RUNNING"] > 0:
        return "interrupted"
    return "idle"


class StudySession:
    """One open study. Views read it; StudyView writes it (from polls, engine events and the verifier)."""

    def __init__(self, storage: str, reader, summary: StudySummary, display: str, table: TrialTable, watermark):
        self.storage = storage
        self.reader = reader
        self.summary = summary
        self.display = display
        self.watermark = watermark
        self.data = TrialData(summary.directions, capacity=max(1024, len(table) + 1024))
        self.data.load(table)
        self._full: TrialTable | None = None  # every trial with params and attributes, read on first use
        self.run_state = initial_run_state(self.metadata, self.data)
        self.run_message = ""
        self.progress: tuple[int, int | None] | None = None  # (finished, target) from the run's last event
        self.run_started_at: float | None = None  # time.monotonic() when this window's run of it started
        self.last_error: tuple[int, str] | None = None  # (trial, message) of the run's last failed trial
        self.notice: str | None = None  # the run's message for the run panel
        self.notice_is_error = False
        self.verification = BadgeState.none()
        self.verify_spec: str | None = None  # the sampler a plain-Optuna study was made with, given in the dialog
        self.verified_revision: int | None = None  # data revision the verification is about (None: none final)

    @property
    def key(self) -> tuple[str, str]:
        return (self.storage, self.summary.name)

    @property
    def name(self) -> str:
        return self.summary.name

    @property
    def metadata(self) -> StudyMetadata:
        return StudyMetadata.from_system_attrs(dict(self.summary.optgui_metadata))

    @property
    def running(self) -> bool:
        return self.run_state in ACTIVE_RUN_STATES

    def finished_count(self) -> int:
        c = self.data.counts()
        return c["COMPLETE"] + c["PRUNED"] + c["FAIL"]

    def definition(self) -> RunDefinition:
        n_trials = max(self.summary.n_trials, self.data.n)  # the summary may be older than the trials
        return RunDefinition.of(self.metadata, n_trials, self.finished_count())

    # --- trials -----------------------------------------------------------------------------------------------
    def apply(self, delta: TrialDelta) -> int:
        """Merge a poll's rows (plot columns and, once read, the full table). Returns the rows written."""
        self.watermark = delta.watermark
        if delta.is_full:
            self.data.load(delta.table)
            self._full = delta.table if self._full is not None else None
            return len(delta.table)
        if self._full is not None and len(delta.table):
            self._full = self._full.with_rows_replaced(delta.table)
        return self.data.apply(delta.table)

    def apply_events(self, events: list) -> int:
        """Merge the engine's TrialFinished events (states and values: what the plot needs)."""
        last = events[-1]
        self.progress = (last.n_finished, last.n_target)
        errors = [e for e in events if e.error]
        if errors:
            self.last_error = (errors[-1].number, errors[-1].error)
        return self.data.apply_events(events)

    @property
    def table_loaded(self) -> bool:
        return self._full is not None

    def table(self) -> TrialTable | None:
        """Every trial with params and user attributes (read on first use: ~1 s at 100k trials)."""
        if self._full is None and self.reader is not None:
            self._full = self.reader.trials(self.summary.name)
        return self._full

    def set_table(self, table: TrialTable) -> None:
        self._full = table

    # --- verification -----------------------------------------------------------------------------------------
    def set_verification(self, state: BadgeState) -> None:
        self.verification = state
        final = state.kind in ("verified", "diverged", "unverifiable")
        self.verified_revision = self.data.revision if final else None

    def verification_current(self) -> bool:
        """A final verdict about exactly the trials held now."""
        return self.verified_revision is not None and self.verified_revision == self.data.revision
