"""One open study's state: the StudySession.

Everything the window shows about a study lives here and nowhere else: its identity (storage and name), its trials
(one TrialStore, optgui.core.engine._trial_store: the plot, the trials table, the best panel, the details pane and the
analysis views all read it; params and attributes of every trial are read into it when a view first needs them),
the watermark of the next poll, its run definition, the state of the run that writes it, and its verification.
Selecting or opening a study binds the views to another session; each view then rebuilds from that session, so no
view carries one study's data into another's.

The object uses no Qt: sessions are plain data with a few questions, written by one owner each (the reader's polls
and the engine's events write the trials, the engine's events write the run state, the verifier writes the
verification).
"""

from __future__ import annotations

from dataclasses import dataclass

from optgui.core.engine import StoreChange, TrialStore, lease_is_live, parse_spec, recorded_environment
from optgui.core.records import StudyMetadata
from optgui.core.storage import StudySummary, TrialDelta, TrialTable
from optgui.core.verify import VerificationState
from optgui.qt.study.run_state import RunStateMachine, SessionRunState
from optgui.qt.verify.verification import BadgeState

DEFAULT_TRIALS = 100  # the trial target offered for a study optgui has not run yet
NOTHING_TO_CHECK = "Nothing to check yet: no finished trials"


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
    # The interpreter the objective last ran in, as recorded (executable, python and optuna versions, ...); None:
    # optgui's own. Shown, never run, when the study is opened.
    environment: dict | None = None

    @classmethod
    def of(cls, meta: StudyMetadata, n_trials: int, n_finished: int) -> RunDefinition:

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
            environment=recorded_environment(run, meta.segments),
        )

    @property
    def python(self) -> str | None:
        """The recorded interpreter's path (None: optgui's own)."""
        return (self.environment or {}).get("executable")


def initial_badge(meta: StudyMetadata, n_finished: int, auto_verify: bool) -> BadgeState:
    """The verification state of a study nobody has checked in this window yet."""
    if not meta.present:
        return BadgeState(
            VerificationState.UNVERIFIABLE,
            "Not verifiable: not run by optgui (no run record)",
            verdict={"reason": "the study has no optgui run record: its sampler and seed are unknown"},
        )
    if n_finished == 0:
        return BadgeState.none(NOTHING_TO_CHECK)
    if not auto_verify:
        return BadgeState.none("Not checked (automatic checks are off: click to check)")
    return BadgeState.none()


def initial_run_state(meta: StudyMetadata, data: TrialStore) -> SessionRunState:
    """The run state of a study this window has not run: interrupted when an optgui run left a trial RUNNING and
    nothing holds the study any more (the process was killed: Resume recovers the trial), otherwise idle."""

    if meta.present and not lease_is_live(meta.lease) and data.counts()["RUNNING"] > 0:
        return SessionRunState.INTERRUPTED
    return SessionRunState.IDLE


class StudySession:
    """One open study. Views read it; StudyView writes it (from polls, engine events and the verifier)."""

    def __init__(self, storage: str, reader, summary: StudySummary, display: str, table: TrialTable, watermark):
        self.storage = storage
        self.reader = reader
        self.summary = summary
        self.display = display
        self.watermark = watermark
        self.store = TrialStore(
            summary.directions, summary.metric_names, capacity=max(1024, len(table) + 1024), study_name=summary.name
        )
        self.store.load(table)
        # The run's state machine: this initial one until a run of the study starts in this window, then the run's
        # own (RunController.run, written by the run's relay alone; StudyView binds it here).
        self.run = RunStateMachine(initial_run_state(self.metadata, self.store))
        self.progress: tuple[int, int | None] | None = None  # (finished, target) from the run's last event
        self.run_started_at: float | None = None  # time.monotonic() when this window's run of it started
        self.last_error: tuple[int, str] | None = None  # (trial, message) of the run's last failed trial
        self.notice: str | None = None  # the run's message for the run panel
        self.notice_is_error = False
        self.verification = BadgeState.none()
        self.verify_spec: str | None = None  # the sampler a plain-Optuna study was made with, given in the dialog
        self.verified_revision: int | None = None  # data revision the verification is about (None: none final)
        self.annotations = None  # notes and artifacts (StudyAnnotations), read by the workbench when first shown
        # The run definition's Python as last chosen for this study in this window (None: not chosen here; "" is
        # optgui's own interpreter).
        self.python_choice: str | None = None

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
    def data(self) -> TrialStore:
        """The trials (the plot's name for the store)."""
        return self.store

    @property
    def run_state(self) -> SessionRunState:
        return self.run.state

    @property
    def run_message(self) -> str:
        return self.run.message

    @property
    def running(self) -> bool:
        return self.run.state.active

    def finished_count(self) -> int:
        return self.store.finished_count()

    def definition(self) -> RunDefinition:
        n_trials = max(self.summary.n_trials, self.store.n)  # the summary may be older than the trials
        return RunDefinition.of(self.metadata, n_trials, self.finished_count())

    # --- trials -----------------------------------------------------------------------------------------------
    def apply(self, delta: TrialDelta) -> StoreChange:
        """Merge a poll's rows into the store (a full poll replaces it)."""
        self.watermark = delta.watermark
        if delta.is_full:
            return self.store.load(delta.table, params_loaded=True)
        return self.store.apply(delta.table)

    def apply_events(self, events: list) -> StoreChange:
        """Merge the engine's TrialFinished events: full rows, the same merge as a poll's (no storage read)."""
        last = events[-1]
        self.progress = (last.n_finished, last.n_target)
        errors = [e for e in events if e.error]
        if errors:
            self.last_error = (errors[-1].number, errors[-1].error)
        return self.store.apply(events)

    @property
    def table_loaded(self) -> bool:
        return self.store.params_loaded

    def ensure_params(self) -> bool:
        """Read the params and user attributes of every trial into the store, once (the first read of a study
        takes only what the plot needs: ~1 s saved at 100k trials). Returns False without a reader."""
        if not self.store.params_loaded and self.reader is not None:
            self.store.apply_read(self.reader.trials(self.summary.name))
        return self.store.params_loaded

    def table(self) -> TrialTable | None:
        """Every trial with params and user attributes as an immutable snapshot of the store (analysis views)."""
        if not self.ensure_params():
            return None
        return self.store.snapshot()

    def set_table(self, table: TrialTable) -> None:
        """Use an already read table (tests, benchmarks)."""
        self.store.load(table, params_loaded=True)

    # --- verification -----------------------------------------------------------------------------------------
    def set_verification(self, state: BadgeState) -> None:
        self.verification = state
        final = state.kind in ("verified", "diverged", "unverifiable")
        self.verified_revision = self.store.revision if final else None

    def verification_current(self) -> bool:
        """A final verdict about exactly the trials held now."""
        return self.verified_revision is not None and self.verified_revision == self.store.revision
