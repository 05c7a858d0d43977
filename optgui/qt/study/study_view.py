"""One study: header, convergence (and Pareto) plot, run panel and determinism badge.

The view shows one StudySession (optgui.qt.study.session) at a time: opening a study binds every view to its session,
and each rebuilds from it. Trials reach a session's store two ways, both O(new trials) and both through
TrialStore.apply: reader polls (live refresh of a study someone else writes, and one catch-up after this window's
run) and the engine's batched events (full rows: params, values, datetimes, intermediate values), so this window's
own run is shown without reading the storage. Events go to the session the engine runs, also while another is
shown.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from optgui.core.engine import (
    EnvironmentCheck,
    RunRequest,
    StoreChange,
    TrialStore,
    check_environment_for_run,
    describe_lease,
    lease_is_live,
    own_interpreter,
    recorded_environment,
)
from optgui.core.errors import OptguiError
from optgui.core.records import StudyMetadata
from optgui.core.storage import StudySummary
from optgui.qt import dialogs
from optgui.qt.errors import in_window_words
from optgui.qt.fleet.fleet_panel import FleetPanel
from optgui.qt.paths_shown import shown_name
from optgui.qt.plots.convergence_plot import ConvergencePlot, ParetoPlot
from optgui.qt.plots.panel import AnalysisPanel
from optgui.qt.run.run_controller import RunController
from optgui.qt.run.run_panel import RunPanel
from optgui.qt.study import reading
from optgui.qt.study.run_state import ENDED, SessionRunState
from optgui.qt.study.selection import TrialSelection
from optgui.qt.study.session import NOTHING_TO_CHECK, StudySession, initial_badge
from optgui.qt.tasks.background_reads import BackgroundReads
from optgui.qt.tasks.tasks import TaskError, TaskSlot
from optgui.qt.tasks.throttle import TEXTS, Throttle
from optgui.qt.verify.badge import Badge, VerdictDialog
from optgui.qt.verify.verification import BadgeState, VerifyJob
from optgui.qt.workspace.health_line import HealthLine

VERIFY_DURING_RUN_SECONDS = 30.0
TABS_MIN_WIDTH = 400  # px; narrower, analysis titles and the Fleet and Notes buttons were cut off
PANEL_MIN_WIDTH = 250
KEPT_SESSIONS = 4  # sessions of recently shown studies kept, so that switching back costs a poll, not a read


class ViewTabs(QTabWidget):
    """The study's views. Too narrow for every tab (1000 px with the workspace panel open), the tabs shorten their
    titles ("Conv…") instead of hiding the last ones behind scroll arrows; each tab's tooltip names it whole."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setUsesScrollButtons(False)
        self.setElideMode(Qt.TextElideMode.ElideRight)

    def tabInserted(self, index: int) -> None:  # noqa: N802 - Qt's name
        super().tabInserted(index)
        self.setTabToolTip(index, self.tabText(index))


class StudyView(QWidget):
    changed = Signal()  # counts, run state or badge changed: the status bar follows
    run_finished = Signal()  # the run thread ended: the study list re-reads summaries
    opened = Signal()  # a study was opened (the workbench loads its table)
    # The shown session's store changed (a StoreChange: from a poll or the engine's events), after the plot followed:
    # the trials table, best panel and details follow it.
    trials_changed = Signal(object)
    badge_changed = Signal(object)  # the shown session's BadgeState (the status bar's badge follows)
    all_trials_read = Signal()  # a background read of every trial of a study ended (held health reads may go)

    def __init__(self, controller: RunController, verifier: VerifyJob, parent=None, settings=None):
        super().__init__(parent)
        self.controller = controller
        self.verifier = verifier
        self.settings = settings  # optgui.qt.settings.Settings: the Python chosen per study is remembered there
        # Start with another Python than optgui's own: the interpreter and the objective's import are checked in the
        # background first (a missing or too old Python, an import error: one message before anything runs).
        self._python_check = TaskSlot(self, "python check")
        self._accepted_python: tuple[tuple[str, str], str] | None = None  # (study, python) whose change was accepted
        self.session: StudySession | None = None  # the shown study
        self.health = HealthLine(self._update_subtitle, self)  # the run health in the header, read in the background
        self.run_session: StudySession | None = None  # the study this window's engine runs (or ran last)
        self._sessions: dict[tuple[str, str], StudySession] = {}  # recently shown studies of the open storage
        self._verifying: StudySession | None = None  # the session the verifier's results belong to
        self._last_verify = 0.0
        self._poll_again: StudySession | None = None  # a background poll was asked for while one was in flight
        self.auto_verify = True  # preference: check determinism on open and after runs without being asked
        self.write_confirmed: set[str] = set()
        # During a run the reader is polled off the GUI thread (the engine holds the write lock now and then).
        self.reads = BackgroundReads(self)
        self.reads.delivered.connect(self._background_read)
        self.health.hold = self.reading_all_trials
        self._texts = Throttle(self, TEXTS, self._update_texts, leading=False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        # The title beside the badge, the subtitle below both: beside the badge alone it was cut off at 1000 px.
        head = QGridLayout()
        head.setVerticalSpacing(0)
        self.title = QLabel("No study selected")
        self.title.setObjectName("studyTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("muted")
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The subtitle (counts, file path) wraps between its parts rather than push the badge into an ellipsis
        # or be cut off in mid-word beside it in a narrow window.
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.subtitle.setMinimumWidth(200)
        self.subtitle.setWordWrap(True)
        head.addWidget(self.title, 0, 0)
        head.addWidget(self.subtitle, 1, 0, 1, 2)
        head.setColumnStretch(0, 1)
        self.badge = Badge()
        self.badge.clicked.connect(self.show_verdict)
        head.addWidget(self.badge, 0, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("studySplitter")
        self.tabs = ViewTabs()
        self.plot = ConvergencePlot()
        self.pareto = ParetoPlot()
        self.tabs.addTab(self.plot, "Convergence")
        self.tabs.addTab(self.pareto, "Pareto front")
        self.tabs.currentChanged.connect(lambda *_: self.pareto.refresh())
        # The selected trial and the brushing filter, shared by the analysis views (and the trials table).
        self.selection = TrialSelection(self)
        self.analysis = AnalysisPanel(self.selection)
        self.tabs.addTab(self.analysis, "Analysis")
        self.fleet = FleetPanel(lambda: self.panel.request_fields(), self._confirm_write)
        self.tabs.addTab(self.fleet, "Fleet")
        self.splitter.addWidget(self.tabs)
        # Explicit minimum widths (they take the place of the widgets' own hints): the pages of the tabs (the
        # analysis views' controls, the fleet form, the trials table's toolbar) would otherwise add up to a
        # window wider than a small screen, and the window widened itself whenever such a page was shown.
        self.tabs.setMinimumWidth(TABS_MIN_WIDTH)
        self.panel = RunPanel()
        self.panel.setMinimumWidth(PANEL_MIN_WIDTH)
        # In a scroll area: a window of 700 px or less is shorter than the panel.
        self.panel_area = QScrollArea()
        self.panel_area.setWidget(self.panel)
        self.panel_area.setWidgetResizable(True)
        self.panel_area.setFrameShape(QFrame.Shape.NoFrame)
        self.panel_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.panel_area.setMinimumWidth(PANEL_MIN_WIDTH + self.panel_area.verticalScrollBar().sizeHint().width())
        self.splitter.addWidget(self.panel_area)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)

        self.panel.start_requested.connect(self.start_run)
        self.panel.resume_requested.connect(self.resume_run)
        self.panel.pause_requested.connect(controller.pause)
        self.panel.stop_requested.connect(controller.stop)
        self.panel.abort_requested.connect(self.abort_trial)
        self.panel.python_chosen.connect(self._python_chosen)
        controller.trials_landed.connect(self._trials_landed)
        controller.state_changed.connect(self._run_state)
        controller.run_started.connect(self._run_started)
        controller.run_failed.connect(self._run_failed)
        controller.lease_refused.connect(self._lease_refused)
        controller.pickles_refused.connect(self._pickles_refused)
        controller.ended.connect(self._run_ended)
        verifier.state.connect(self._verifier_state)
        controller.state_changed.connect(lambda *_: self.fleet.set_single_run_active(controller.active))
        self.fleet.activity.connect(self._fleet_activity)
        self.fleet.settled.connect(self._fleet_settled)

    # --- the session -------------------------------------------------------------------------------------
    # Read-only views of the current session, for the window, the workbench and tests.
    @property
    def data(self) -> TrialStore | None:
        return self.session.store if self.session is not None else None

    @property
    def summary(self) -> StudySummary | None:
        return self.session.summary if self.session is not None else None

    @property
    def storage(self) -> str | None:
        return self.session.storage if self.session is not None else None

    @property
    def reader(self):
        return self.session.reader if self.session is not None else None

    @property
    def watermark(self):
        return self.session.watermark if self.session is not None else None

    @property
    def display(self) -> str:
        return self.session.display if self.session is not None else ""

    def open(self, storage: str, reader, summary: StudySummary, display: str) -> None:
        """Show a study: its kept session brought up to date, or a new one. Raises (changing nothing) when the
        study cannot be read."""
        session = self._sessions.get((storage, summary.name))
        if session is not None and session.reader is reader:
            if not (self.controller.active and session is self.run_session):
                # (the running study's own events keep it current; its storage is read after the run)
                self._catch_up(session, summary)
        else:
            table, watermark = reading.initial_trials(reader, summary.name)  # may raise: change nothing before
            session = StudySession(storage, reader, summary, display, table, watermark)
        self._keep(session)
        self.bind(session)

    def _catch_up(self, session: StudySession, summary: StudySummary) -> None:
        delta = reading.poll(session.reader, summary.name, session.watermark)
        session.summary = summary
        session.apply(delta)

    def _keep(self, session: StudySession) -> None:
        """Keep the sessions of recently shown studies of one storage (switching back costs a poll, not a read)."""
        self._sessions = {k: s for k, s in self._sessions.items() if s.reader is session.reader}
        self._sessions.pop(session.key, None)
        self._sessions[session.key] = session
        for key in list(self._sessions)[:-KEPT_SESSIONS]:
            if self._sessions[key] is not self.run_session:
                del self._sessions[key]

    def forget_sessions(self) -> None:
        """The storage was closed: nothing of it is shown or kept."""
        if self.run_session is not None and self.controller.active:
            return
        self._sessions = {}
        self.run_session = None
        self.session = None

    def bind(self, session: StudySession) -> None:
        """Make `session` the shown study: every view rebuilds from it."""
        self.session = session
        self._texts.cancel()
        summary = session.summary
        self.title.setText(summary.name)
        self._display_shown = shown_name(session.display)  # (per update it cost a home-directory lookup)
        names = list(summary.metric_names or [])
        self.plot.set_data(session.data, names)
        self.plot.set_live(self._runs_here(session))
        self.analysis.bind(session)
        multi = len(summary.directions) == 2
        self.tabs.setTabVisible(1, multi)
        self.tabs.tabBar().setVisible(multi)
        self.tabs.setDocumentMode(True)
        if multi:
            self.pareto.set_data(session.data, names)
        self._python_check.cancel()
        self.panel.show_definition(session.definition(), rebind=True)
        self._show_remembered_python(session)
        self._show_run(session)
        self._show_summary(summary)
        self.health.request(session.storage, summary.name)
        meta = session.metadata
        self.fleet.open(session.storage, summary.name, session.reader.kind, session.display, meta.run)
        if self.verifier.running:
            self.verifier.cancel()
        self.opened.emit()
        if session.verification_current() or (self._runs_here(session) and session.verification.kind != "none"):
            self._show_badge(session.verification)
        else:
            session.set_verification(initial_badge(meta, session.finished_count(), self.auto_verify))
            if session.verify_spec is not None:  # a plain study the user gave a sampler for: checked with it
                session.set_verification(BadgeState.none())
            self._show_badge(session.verification)
            checkable = meta.present or session.verify_spec is not None
            if checkable and self.auto_verify and session.finished_count() > 0:
                self.verify()
        self.changed.emit()

    def _runs_here(self, session: StudySession | None) -> bool:
        """This window's engine is running the study of `session`."""
        return session is not None and self.controller.active and session is self.run_session

    def _show_run(self, session: StudySession) -> None:
        """The run panel's state, progress and messages for the shown session."""
        panel = self.panel
        panel.set_notice(session.notice, session.notice_is_error)
        panel.set_last_error(*(session.last_error or (None, None)))
        panel.set_state(session.run_state, session.run_message)
        panel.show_clock(session.run_started_at if self._runs_here(session) else None)
        progress = session.progress if self._runs_here(session) and session.progress else None
        panel.set_progress(*(progress or (session.finished_count(), panel.n_trials.value() or None)))

    def _finished_count(self) -> int:
        return self.session.finished_count()

    def _show_summary(self, summary: StudySummary) -> None:
        session = self.session
        session.summary = summary
        meta = session.metadata
        runs_here = self._runs_here(session)
        elsewhere = self.controller.active and not runs_here
        notice, error = session.notice, session.notice_is_error
        if elsewhere or (not runs_here and lease_is_live(meta.lease)):
            error = False
        if elsewhere:
            notice = f"This window is running study {self.run_session.name!r}: Start and Resume wait until it ends."
        elif not runs_here and lease_is_live(meta.lease) and self.fleet.started_here(meta.lease):
            notice = "The fleet started in the Fleet tab is running this study; steer it there."
        elif not runs_here and lease_is_live(meta.lease):
            notice = (
                f"Another process is running this study ({describe_lease(meta.lease)}); the "
                "view follows it with live refresh."
            )
        self.panel.set_notice(notice, error)
        self.panel.set_held_elsewhere(elsewhere or (not runs_here and lease_is_live(meta.lease)))
        self.fleet.set_run_record(meta.run)
        if not runs_here:
            self.panel.show_definition(session.definition(), rebind=False)
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        if self.data is None:
            return
        c = self.data.counts()
        best = self.data.best_value()
        parts = [" / ".join(self.summary.directions), f"{self.data.n} trials"]
        # Best first and no zero counts: at 1000 px the line ran out of room before the best value.
        if best is not None and len(self.summary.directions) == 1:
            parts.append(f"best {best:.6g}")
        others = (("PRUNED", "pruned"), ("FAIL", "failed"), ("RUNNING", "running"))
        counts = [f"{c['COMPLETE']} complete"] + [f"{c[key]} {word}" for key, word in others if c[key]]
        parts.append(" · ".join(counts))
        health = self.health.text_for(self.storage or "", self.summary.name)
        if health:
            parts.append(f"health: {health}")
        parts.append(self._display_shown)
        # Lines break only between the parts: inside one, spaces are non-breaking.
        self.subtitle.setText("   ·   ".join(part.replace(" ", "\u00a0") for part in parts))
        evidence = self.health.evidence_for(self.storage or "", self.summary.name)
        self.subtitle.setToolTip(f"{self.display}\n{evidence}" if evidence else self.display)

    def summary_updated(self, summary: StudySummary) -> None:
        """The study list re-read the storage."""
        session = self._sessions.get((self.storage, summary.name)) if self.session is not None else None
        if session is None or self._runs_here(session):
            return
        session.summary = summary
        if session is self.session:
            self._show_summary(summary)
            self.health.request(session.storage, summary.name)

    # --- refresh ------------------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Poll the reader for new or changed trials and update the views. Returns the number of rows applied."""
        if self.session is None or self.session.reader is None:
            return 0
        session = self.session
        return self._apply_delta(session, reading.poll(session.reader, session.name, session.watermark))

    def _apply_delta(self, session: StudySession, delta) -> int:
        change = session.apply(delta)
        if session is not self.session:
            return len(change)
        self._trials_changed(change)
        if getattr(delta, "has_more", False):  # a bounded batch of a long backlog: fetch the rest next pass
            QTimer.singleShot(0, self.refresh)
        if len(change):
            self._redraw()
        return len(change)

    def _trials_changed(self, change: StoreChange) -> None:
        """The shown session's store changed: the analysis views and the workbench follow."""
        if len(change) or change.reloaded:
            self.analysis.trials_changed()
            self.trials_changed.emit(change)

    def refresh_in_background(self, session: StudySession | None = None) -> None:
        """refresh() with the read in a worker thread (during and at the end of a run); a result that arrives
        after the session's watermark moved on (a foreground refresh) is dropped. Asked while a poll is in
        flight, it polls again when that one is in (a poll that started before the run's last write misses it)."""
        session = session or self.session
        if session is None or session.reader is None:
            return
        started = self.reads.poll(session.storage, session.name, session.watermark, (session, session.watermark))
        # Refused because one is in flight: poll again after it, unless it has not started reading yet.
        self._poll_again = session if not started and not self.reads.waiting("poll") else None

    def read_params_in_background(self, session: StudySession) -> None:
        """Read params, attributes and datetimes of every trial into the session's store in the worker thread (the
        trials table of a large study is shown with numbers, states and values meanwhile)."""
        if session.reader is not None and not session.store.params_loaded:
            self.reads.trials(session.storage, session.name, session)

    def reading_all_trials(self) -> bool:
        """Whether every trial of a study is being read in the background (its params): health reads wait for it."""
        return "trials" in self.reads.busy

    def _background_read(self, message) -> None:
        kind, token, result, error = message
        self.reads.done(kind)
        if kind == "trials":
            self._params_read(token, result, error)
            self.health.release()
            self.all_trials_read.emit()
            return
        if kind != "poll":
            return
        session, watermark = token
        kept = session is self.session or session is self.run_session or session.key in self._sessions
        if error is None and kept and watermark is session.watermark:
            self._apply_delta(session, result)
        # A failed poll during a run is retried by the next one (the run's events keep the plot current).
        again, self._poll_again = self._poll_again, None
        if again is not None:
            self.refresh_in_background(again)

    def load_params_now(self) -> None:
        """Read the shown study's params into its store now, if they are not there yet (the views follow)."""
        session = self.session
        if session is None or session.reader is None or session.store.params_loaded:
            return
        self._trials_changed(session.store.apply_read(reading.all_trials(session.reader, session.name)))

    def _params_read(self, session: StudySession, table, error) -> None:
        kept = session is self.session or session is self.run_session or session.key in self._sessions
        if error is not None or not kept or session.store.params_loaded:
            return
        change = session.store.apply_read(table)
        if session is self.session:
            self._trials_changed(change)

    def _redraw(self) -> None:
        self.plot.refresh()
        if self.tabs.currentIndex() == 1:
            self.pareto.refresh()
        # The header's counts and the status bar are texts: they follow at the texts' rate. A new subtitle lays
        # the study view out again, which repaints all of it (~5 ms of each live update at 1M trials).
        self._texts()

    # --- running ------------------------------------------------------------------------------------------
    def _confirm_write(self) -> bool:
        if self.storage in self.write_confirmed:
            return True
        ok = dialogs.confirm(
            self,
            "Run the study?",
            f"Running writes trials and optgui's run record into\n{self.display}\n\n"
            "The file stays a valid Optuna database.",
            "Run",
        )
        if ok:
            self.write_confirmed.add(self.storage)
        return ok

    def start_run(self, trust_pickles: bool = False) -> None:
        session = self.session
        if self.controller.active or self._python_check.running or session is None or not self._confirm_write():
            return
        fields = self.panel.request_fields()
        if not self.panel.defined and not fields.get("objective"):
            self.panel.set_notice("Choose an objective first (e.g. builtin:quadratic or path/to/file.py:function).")
            return
        python = fields.pop("python", None)
        meta = self._current_metadata(session)
        if python is None and meta.run is not None and recorded_environment(meta.run, meta.segments) is not None:
            python = own_interpreter()  # optgui's own, chosen over the recorded one: named, so the engine uses it
        if python is None:
            self._start(session, fields, trust_pickles)
            return

        # The interpreter only (one short process start): the objective's import is the engine's first step, and
        # its error is the run's one-line notice before anything is written (importing it here as well would
        # double a heavy import's wait on every Start; Test objective does it on request).
        def check(state) -> EnvironmentCheck:
            return check_environment_for_run(python, meta.run, meta.segments)

        self.panel.set_notice(f"Checking the objective's Python ({shown_name(python)})…")
        self._python_check.start(
            check,
            returned=lambda found: self._python_checked(session, fields, trust_pickles, found),
            errored=lambda error: self._python_refused(session, error),
        )

    @staticmethod
    def _current_metadata(session: StudySession) -> StudyMetadata:
        """The study's records as stored now (the session's summary may predate a run that just ended: its
        re-read is on the way): one small read of the study's optgui attributes."""
        try:
            return StudyMetadata.from_system_attrs(session.reader.study_system_attrs(session.name, "optgui:"))
        except Exception:  # noqa: BLE001 - unreadable now: what the session last read
            return session.metadata

    def _python_checked(self, session: StudySession, fields: dict, trust_pickles: bool, found: EnvironmentCheck):
        if session is not self.session or self.controller.active:
            return
        self.panel.set_notice(None)
        assert found.environment is not None
        executable = found.environment.executable
        if found.change is not None and self._accepted_python != (session.key, executable):
            message = found.change[:1].upper() + found.change[1:]
            if not dialogs.confirm(
                self,
                "Run the objective in another Python?",
                f"{message}.\n\nThe objective's values may differ in another environment (other package "
                "versions); the sampler's suggestions do not depend on it, so the run stays reproducible. The change "
                "is recorded in the new run segment.",
                "Run in this Python",
            ):
                session.notice, session.notice_is_error = "Not run: the objective's Python was not changed.", False
                self.panel.set_notice(session.notice)
                return
            self._accepted_python = (session.key, executable)
        accept = found.change is not None
        self._start(session, {**fields, "python": executable, "accept_environment_change": accept}, trust_pickles)

    def _python_refused(self, session: StudySession, error: TaskError) -> None:
        if session is not self.session:
            return
        exc = error.exception
        message = in_window_words(str(exc)) if isinstance(exc, OptguiError) else error.message
        session.notice, session.notice_is_error = f"Not run: {message}", True
        self.panel.set_notice(session.notice, error=True)
        details = "" if isinstance(exc, OptguiError) else error.details
        dialogs.error(self, "The objective's Python cannot run it", message, details)

    def _start(self, session: StudySession, fields: dict, trust_pickles: bool) -> None:
        request = RunRequest(
            storage=session.storage,
            study_name=session.name,
            create_storage=False,
            trust_pickles=trust_pickles,
            **fields,
        )
        objective_ref = None
        # (In another Python the objective has its own process already, which Abort trial stops at once.)
        if self.panel.child_process.isChecked() and not fields.get("python"):
            objective_ref = fields.get("objective") or (session.metadata.run or {}).get("objective", {}).get("ref")
        session.notice, session.notice_is_error, session.last_error, session.progress = None, False, None, None
        self.panel.set_notice(None)
        self.panel.set_last_error(None, None)
        self.verifier.cancel()
        self.run_session = session  # before start(): its first state change is this session's
        self.controller.start(request, objective_ref)

    # --- the objective's Python, remembered per study -----------------------------------------------------------
    def _show_remembered_python(self, session: StudySession) -> None:
        """The Python last chosen for the study, in this window or (through the settings) an earlier one; else
        the one the study recorded, which show_definition shows."""
        choice = session.python_choice
        if choice is None and self.settings is not None:
            choice = self.settings.python_choice(session.storage, session.name)
        if choice is not None:
            self.panel.set_python_choice(choice or None)

    def _python_chosen(self, python: str) -> None:
        session = self.session
        if session is None:
            return
        session.python_choice = python
        if self.settings is not None:
            self.settings.set_python_choice(session.storage, session.name, python)

    def resume_run(self) -> None:
        if self.controller.active:
            if self._runs_here(self.session):
                self.controller.resume()
        else:
            self.start_run()

    def abort_trial(self) -> None:
        self.controller.abandon()

    def _trials_landed(self, events: list) -> None:
        session = self.run_session
        if session is None:
            return
        # The run's own events carry the trials' full rows: no storage read while the engine writes (a SQLite
        # reader can wait for the writer's lock). The reader catches up once, in the background, when the run ends.
        change = session.apply_events(events)
        if session is self.session:
            if session.last_error is not None:
                self.panel.set_last_error(*session.last_error)
            if len(change):
                self.plot.refresh()
                if self.tabs.currentIndex() == 1:
                    self.pareto.refresh()
                self._trials_changed(change)
            if session.verification.text == NOTHING_TO_CHECK and session.finished_count() > 0:
                # Said when the run began; its trials are there now (checked every VERIFY_DURING_RUN_SECONDS).
                self._badge_state(initial_badge(session.metadata, session.finished_count(), self.auto_verify))
            # Texts (progress, counts, status bar) change on every trial but are read at a glance: repainting
            # them at the flush rate cost more than the plot, so they follow at the texts' rate (after the flush).
            self._texts()
        if (
            session is self.session
            and self.auto_verify
            and not self.verifier.running
            and time.monotonic() - self._last_verify > VERIFY_DURING_RUN_SECONDS
        ):
            self.verify()

    def _update_texts(self) -> None:
        session = self.session
        if session is None:
            return
        if self._runs_here(session) and session.progress is not None:
            self.panel.set_progress(*session.progress)
        self._update_subtitle()
        self.changed.emit()

    def _run_started(self, event) -> None:
        session = self.run_session
        session.progress = None
        session.run_started_at = time.monotonic()
        if event.notes:  # e.g. what a recovery did: information, not an error
            session.notice, session.notice_is_error = "\n".join(event.notes), False
        if session is self.session:
            self.panel.run_began(event.n_finished, event.n_target)
            if event.notes:
                self.panel.set_notice(session.notice)

    def _run_state(self, state: SessionRunState, message: str) -> None:
        session = self.run_session
        if session is None:
            return
        # The run's relay is the only writer of a session's run state: the session holds the run's own machine.
        session.run = self.controller.run
        if session is self.session:
            self.plot.set_live(self.controller.active)
            self.panel.set_state(state, message)
        elif self.session is not None:
            self._show_summary(self.session.summary)  # Start waits (or no longer waits) for the other run
        if state in ENDED:
            # The plot already has the run's trials (from its events); the full rows (table, analysis) come from
            # a read in the worker thread, and the check starts a moment later, so that the GUI's end-of-run pass
            # stays short.
            self.refresh_in_background(session)
            if session is self.session and self.auto_verify:
                self.verify(soon=True)
            elif session is not self.session:
                session.set_verification(BadgeState.none())  # checked when it is shown again
        self.changed.emit()

    def _run_failed(self, message: str, details: str) -> None:
        session = self.run_session
        session.notice, session.notice_is_error = f"The run stopped: {message}", True
        if session is self.session:
            self.panel.set_notice(session.notice, error=True)
        if details:
            dialogs.error(self, "The run failed", message, details)

    def _lease_refused(self, message: str) -> None:
        session = self.run_session
        session.notice = (
            f"Another process is running this study, so it cannot be run here as well.\n"
            f"{message}\nThe view follows its progress with live refresh."
        )
        session.notice_is_error = True
        if session is self.session:
            self.panel.set_notice(session.notice, error=True)

    def _pickles_refused(self, message: str, trials: list) -> None:
        # Asked once the controller has finished delivering this run's events (not from inside its flush).
        QTimer.singleShot(0, lambda: self._ask_to_trust_pickles(trials))

    def _ask_to_trust_pickles(self, trials: list) -> None:
        shown = ", ".join(str(n) for n in trials[:8]) + (f" and {len(trials) - 8} more" if len(trials) > 8 else "")
        ok = dialogs.confirm(
            self,
            "Load pickles from this file?",
            f"{self.display} holds CMA-ES optimizer states (Python pickles) that this optgui did not write "
            f"(trial{'s' if len(trials) > 1 else ''} {shown}): they come from plain Optuna, another account or "
            "machine, or were changed since.\n\nResuming loads them, and loading a pickle can run any code. "
            "Continue only if you trust whoever wrote this file.",
            "Trust and run",
        )
        if ok:
            self._start_trusted_when_idle()
        else:
            self.panel.set_notice("Not run: the study holds pickles optgui did not write (you did not trust them).")

    def _start_trusted_when_idle(self) -> None:
        if self.controller.active:  # the refused engine's relay is still winding down: start when it has ended
            self.controller.idle.connect(self._start_trusted_when_idle, Qt.ConnectionType.SingleShotConnection)
            return
        self.start_run(trust_pickles=True)

    def _run_ended(self, ended) -> None:
        session = self.run_session
        if session is self.session:
            self.plot.set_live(False)
            self.panel.show_clock(None, keep=True)
        elif self.session is not None:
            self._show_summary(self.session.summary)
        self.refresh_in_background(session)
        self.run_finished.emit()
        self.changed.emit()

    # --- fleet (other processes write the trials: the reader follows them) ----------------------------------
    def _fleet_activity(self) -> None:
        if self.controller.active or self.session is None:
            return
        # The window's refresh re-reads the study list and this study's summary (run record, lease notice) too.
        self.run_finished.emit()
        self.panel.set_progress(self._finished_count(), self.panel.n_trials.value() or None)
        if (
            self.auto_verify
            and not self.verifier.running
            and time.monotonic() - self._last_verify > VERIFY_DURING_RUN_SECONDS
        ):
            self.verify()
        elif (
            not self.auto_verify
            and self.badge.state.kind == "unverifiable"
            and reading.metadata_of(self.summary).present
        ):  # the fleet wrote the run record since opening
            self._badge_state(BadgeState.none("Not checked (automatic checks are off: click to check)"))

    def _fleet_settled(self, phase: SessionRunState) -> None:
        if self.session is None:
            return
        self.refresh()
        if self.auto_verify:
            self.verify()
        self.run_finished.emit()  # the study list re-reads its counts

    # --- determinism ----------------------------------------------------------------------------------------
    def verify(self, check_objective: bool = False, soon: bool = False) -> None:
        """Check the shown study (the one verifier serves the shown session; a switch cancels its check)."""
        if self.session is None:
            return
        self._last_verify = time.monotonic()
        self._verifying = self.session
        if soon and self.session.verify_spec is None:
            self.verifier.start_soon(self.session.storage, self.session.name)
        else:
            self.verifier.start(
                self.session.storage, self.session.name, check_objective=check_objective, spec=self.session.verify_spec
            )

    def verify_with_spec(self, spec: str) -> None:
        """Verify the shown plain-Optuna study as made by the sampler `spec`; the session remembers the spec, so
        later checks of this study (and both badges) use it."""
        if self.session is None:
            return
        self.session.verify_spec = spec
        self.verify()

    def _verifier_state(self, state: BadgeState) -> None:
        session = self._verifying
        if session is None:
            return
        session.set_verification(state)
        if session is self.session:
            self._show_badge(state)

    def _badge_state(self, state: BadgeState) -> None:
        """Set the shown session's verification (both badges follow it)."""
        if self.session is not None:
            self.session.set_verification(state)
        self._show_badge(state)

    def _show_badge(self, state: BadgeState) -> None:
        self.badge.set_state(state)
        self.badge_changed.emit(state)
        self.changed.emit()

    def show_verdict(self) -> None:
        if self.summary is None:
            return
        plain = self.session is not None and not self.session.metadata.present
        spec = self.session.verify_spec if self.session is not None else None
        dialog = VerdictDialog(self.badge.state, self.summary.name, self, plain=plain, spec=spec)
        dialog.check_objective.connect(lambda: self.verify(check_objective=True))
        dialog.verify_with_spec.connect(self.verify_with_spec)
        dialogs.run_dialog(dialog)
