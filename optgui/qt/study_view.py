"""One study: header, convergence (and Pareto) plot, run panel and determinism badge.

Trials reach the plot through the reader only (a poll returns the rows added or changed since the last one), both
for live refresh of a study someone else writes and for this window's own run, whose batched events just trigger
the next poll: one path, O(new trials) per update.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget

from optgui.core.lease import describe_lease, lease_is_live
from optgui.core.runner import RunRequest
from optgui.core.tables import StudySummary
from optgui.qt import dialogs, reading
from optgui.qt.background_reads import BackgroundReads
from optgui.qt.badge import Badge, VerdictDialog
from optgui.qt.convergence_plot import ConvergencePlot, ParetoPlot
from optgui.qt.fleet_panel import FleetPanel
from optgui.qt.paths_shown import shown_name
from optgui.qt.plots.panel import AnalysisPanel
from optgui.qt.run_controller import RunController
from optgui.qt.run_panel import RunPanel
from optgui.qt.selection import TrialSelection
from optgui.qt.trial_data import TrialData
from optgui.qt.verification import BadgeState, VerifyJob

VERIFY_DURING_RUN_SECONDS = 30.0
RUN_POLL_SECONDS = 2.0
TEXT_UPDATE_MS = 500


class StudyView(QWidget):
    changed = Signal()  # counts, run state or badge changed: the status bar follows
    run_finished = Signal()  # the run thread ended: the study list re-reads summaries
    opened = Signal()  # a study was opened (the workbench loads its table)
    polled = Signal(object)  # a reader poll's TrialDelta, after the plot applied it (the workbench follows)

    def __init__(self, controller: RunController, verifier: VerifyJob, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.verifier = verifier
        self.reader = None
        self.storage: str | None = None
        self.summary: StudySummary | None = None
        self.data: TrialData | None = None
        self.watermark = None
        self._last_verify = 0.0
        self._last_run_poll = 0.0
        self._poll_again = False  # a background poll was asked for while one was in flight
        self.auto_verify = True  # preference: check determinism on open and after runs without being asked
        self.write_confirmed: set[str] = set()
        # During a run the reader is polled off the GUI thread (the engine holds the write lock now and then).
        self.reads = BackgroundReads(self)
        self.reads.delivered.connect(self._background_read)
        self._progress: tuple[int, int | None] | None = None
        self._text_timer = QTimer(self)
        self._text_timer.setSingleShot(True)
        self._text_timer.setInterval(TEXT_UPDATE_MS)
        self._text_timer.timeout.connect(self._update_texts)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        self.title = QLabel("No study selected")
        self.title.setObjectName("studyTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("muted")
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The subtitle (counts, file path) may be cut rather than push the badge into an ellipsis.
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.subtitle.setMinimumWidth(200)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        self.badge = Badge()
        self.badge.clicked.connect(self.show_verdict)
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("studySplitter")
        self.tabs = QTabWidget()
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
        self.panel = RunPanel()
        self.panel.setMinimumWidth(300)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)

        self.panel.start_requested.connect(self.start_run)
        self.panel.resume_requested.connect(self.resume_run)
        self.panel.pause_requested.connect(controller.pause)
        self.panel.stop_requested.connect(controller.stop)
        self.panel.abort_requested.connect(self.abort_trial)
        controller.trials_landed.connect(self._trials_landed)
        controller.state_changed.connect(self._run_state)
        controller.run_started.connect(self._run_started)
        controller.run_failed.connect(self._run_failed)
        controller.lease_refused.connect(self._lease_refused)
        controller.pickles_refused.connect(self._pickles_refused)
        controller.ended.connect(self._run_ended)
        verifier.state.connect(self._badge_state)
        controller.state_changed.connect(lambda *_: self.fleet.set_single_run_active(controller.active))
        self.fleet.activity.connect(self._fleet_activity)
        self.fleet.settled.connect(self._fleet_settled)

    # --- opening ------------------------------------------------------------------------------------------
    def open(self, storage: str, reader, summary: StudySummary, display: str) -> None:
        table, watermark = reading.initial_trials(reader, summary.name)  # may raise: change nothing before
        self.storage, self.reader, self.summary, self.watermark = storage, reader, summary, watermark
        self._text_timer.stop()
        self._progress = None
        self.title.setText(summary.name)
        self.display = display
        self._display_shown = shown_name(display)  # (per update it cost a home-directory lookup)
        self.data = TrialData(summary.directions, capacity=max(1024, len(table) + 1024))
        self.data.load(table)
        names = list(summary.metric_names or [])
        self.plot.set_data(self.data, names)
        self.analysis.open(reader, summary)
        multi = len(summary.directions) == 2
        self.tabs.setTabVisible(1, multi)
        self.tabs.tabBar().setVisible(multi)
        self.tabs.setDocumentMode(True)
        if multi:
            self.pareto.set_data(self.data, names)
        self.panel.set_notice(None)
        self.panel.set_last_error(None, None)
        self.panel.reset_clock()
        self._show_summary(summary)
        if (
            self.controller.state in ("leased", "failed", "interrupted", "completed", "stopped")
            and not self.controller.active
        ):
            self.controller.state = "idle"
        self.panel.set_state(self.controller.state if self.controller.active else "idle")
        self.panel.set_progress(self._finished_count(), self.panel.n_trials.value() or None)
        meta = reading.metadata_of(summary)
        self.fleet.open(storage, summary.name, reader.kind, display, meta.run)
        self.verifier.cancel()
        self.opened.emit()
        if meta.present and not self.auto_verify:
            self._badge_state(BadgeState.none("Not checked (automatic checks are off: click to check)"))
        elif meta.present:
            self.verify()
        else:
            self._badge_state(
                BadgeState(
                    "unverifiable",
                    "Not verifiable: not run by optgui (no run record)",
                    verdict={"reason": "the study has no optgui run record: its sampler and seed are unknown"},
                )
            )
        self.changed.emit()

    def _finished_count(self) -> int:
        c = self.data.counts()
        return c["COMPLETE"] + c["PRUNED"] + c["FAIL"]

    def _show_summary(self, summary: StudySummary) -> None:
        self.summary = summary
        meta = reading.metadata_of(summary)
        target = (meta.target or {}).get("n_trials")
        n_trials = max(summary.n_trials, self.data.n if self.data is not None else 0)  # the summary may be older
        if not self.controller.active and lease_is_live(meta.lease) and self.fleet.started_here(meta.lease):
            self.panel.set_notice("The fleet started in the Fleet tab is running this study; steer it there.")
        elif not self.controller.active and lease_is_live(meta.lease):
            self.panel.set_notice(
                f"Another process is running this study ({describe_lease(meta.lease)}); the "
                "view follows it with live refresh."
            )
        self.panel.set_held_elsewhere(not self.controller.active and lease_is_live(meta.lease))
        self.fleet.set_run_record(meta.run)
        self.panel.show_definition(
            meta.run,
            target,
            resumable=meta.present and bool(meta.segments) and n_trials > 0,
            adopted_trials=summary.n_trials if not meta.present else 0,
        )
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        if self.data is None:
            return
        c = self.data.counts()
        best = self.data.best_value()
        parts = [
            " / ".join(self.summary.directions),
            f"{self.data.n} trials",
            f"{c['COMPLETE']} complete · {c['PRUNED']} pruned · {c['FAIL']} failed · {c['RUNNING']} running",
        ]
        if best is not None and len(self.summary.directions) == 1:
            parts.append(f"best {best:.6g}")
        parts.append(self._display_shown)
        self.subtitle.setText("   ·   ".join(parts))
        self.subtitle.setToolTip(self.display)

    def summary_updated(self, summary: StudySummary) -> None:
        """The study list re-read the storage."""
        if self.summary is not None and summary.name == self.summary.name and not self.controller.active:
            self._show_summary(summary)

    # --- refresh ------------------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Poll the reader for new or changed trials and update the views. Returns the number of rows applied."""
        if self.reader is None or self.data is None:
            return 0
        return self._apply_delta(reading.poll(self.reader, self.summary.name, self.watermark))

    def _apply_delta(self, delta) -> int:
        self.watermark = delta.watermark
        self.analysis.apply(delta.table)
        if delta.is_full:
            self.data.load(delta.table)
            n = len(delta.table)
        else:
            n = self.data.apply(delta.table)
        self.polled.emit(delta)
        if getattr(delta, "has_more", False):  # a bounded batch of a long backlog: fetch the rest next pass
            QTimer.singleShot(0, self.refresh)
        if n:
            self._redraw()
        return n

    def refresh_in_background(self) -> None:
        """refresh() with the read in a worker thread (during and at the end of a run); a result that arrives
        after the watermark moved on (a foreground refresh, another study) is dropped. Asked while a poll is in
        flight, it polls again when that one is in (a poll that started before the run's last write misses it)."""
        if self.reader is None or self.data is None:
            return
        started = self.reads.poll(self.storage, self.summary.name, self.watermark, (self.storage, self.watermark))
        # Refused because one is in flight: poll again after it, unless it has not started reading yet.
        self._poll_again = not started and not self.reads.waiting("poll")

    def _background_read(self, message) -> None:
        kind, token, result, error = message
        self.reads.done(kind)
        if kind != "poll" or self.data is None:
            return
        if error is None and token[0] == self.storage and token[1] is self.watermark:
            self._apply_delta(result)
        # A failed poll during a run is retried by the next one (the run's events keep the plot current).
        if self._poll_again:
            self.refresh_in_background()

    def _redraw(self) -> None:
        self.plot.refresh()
        if self.tabs.currentIndex() == 1:
            self.pareto.refresh()
        self._update_subtitle()
        self.changed.emit()

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
        if self.controller.active or self.summary is None or not self._confirm_write():
            return
        fields = self.panel.request_fields()
        if not self.panel.defined and not fields.get("objective"):
            self.panel.set_notice("Choose an objective first (e.g. builtin:quadratic or path/to/file.py:function).")
            return
        request = RunRequest(
            storage=self.storage,
            study_name=self.summary.name,
            create_storage=False,
            trust_pickles=trust_pickles,
            **fields,
        )
        objective_ref = None
        if self.panel.child_process.isChecked():
            meta = reading.metadata_of(self.summary)
            objective_ref = fields.get("objective") or (meta.run or {}).get("objective", {}).get("ref")
        self.panel.set_notice(None)
        self.panel.set_last_error(None, None)
        self.verifier.cancel()
        self.controller.start(request, objective_ref)

    def resume_run(self) -> None:
        if self.controller.active:
            self.controller.resume()
        else:
            self.start_run()

    def abort_trial(self) -> None:
        self.controller.abandon()

    def _trials_landed(self, events: list) -> None:
        last = events[-1]
        self._progress = (last.n_finished, last.n_target)
        errors = [e for e in events if e.error]
        if errors:
            self.panel.set_last_error(errors[-1].number, errors[-1].error)
        # The run's own events carry what the plot needs: no storage read on the GUI thread while the engine
        # writes (a SQLite reader can wait for the writer's lock). The reader catches up when the run ends.
        if self.data is not None and self.data.apply_events(events):
            self.plot.refresh()
            if self.tabs.currentIndex() == 1:
                self.pareto.refresh()
        # Texts (progress, counts, status bar) change on every trial but are read at a glance: repainting them
        # at the flush rate cost more than the plot, so they follow at TEXT_UPDATE_MS.
        if not self._text_timer.isActive():
            self._text_timer.start()
        # The trials table and analysis views need full rows (params, attributes): poll the reader for them, at
        # most every RUN_POLL_SECONDS and in a worker thread, so that the GUI thread never waits for the writer.
        # Rows merge by trial number, so the plot's event-driven rows are not counted twice.
        if time.monotonic() - self._last_run_poll >= RUN_POLL_SECONDS:
            self._last_run_poll = time.monotonic()
            self.refresh_in_background()
        if (
            self.auto_verify
            and not self.verifier.running
            and time.monotonic() - self._last_verify > VERIFY_DURING_RUN_SECONDS
        ):
            self.verify()

    def _update_texts(self) -> None:
        if self._progress is not None:
            self.panel.set_progress(*self._progress)
        self._update_subtitle()
        self.changed.emit()

    def _run_started(self, event) -> None:
        self._progress = None
        self.panel.run_began(event.n_finished, event.n_target)
        if event.notes:
            self.panel.set_notice("\n".join(event.notes))

    def _run_state(self, state: str, message: str) -> None:
        self.plot.set_live(self.controller.active)
        self.panel.set_state(state, message)
        if state in ("paused", "stopped", "completed"):
            # The plot already has the run's trials (from its events); the full rows (table, analysis) come from
            # a read in the worker thread, and the check starts a moment later, so that the GUI's end-of-run pass
            # stays short.
            self.refresh_in_background()
            if self.auto_verify:
                self.verify(soon=True)
        self.changed.emit()

    def _run_failed(self, message: str, details: str) -> None:
        self.panel.set_notice(f"The run stopped: {message}")
        if details:
            dialogs.error(self, "The run failed", message, details)

    def _lease_refused(self, message: str) -> None:
        self.panel.set_notice(
            f"Another process is running this study, so it cannot be run here as well.\n"
            f"{message}\nThe view follows its progress with live refresh."
        )

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
        if self.controller.active:  # the refused engine's thread is still winding down
            QTimer.singleShot(50, self._start_trusted_when_idle)
            return
        self.start_run(trust_pickles=True)

    def _run_ended(self, ended) -> None:
        self.plot.set_live(False)
        self.refresh_in_background()
        self.run_finished.emit()
        self.changed.emit()

    # --- fleet (other processes write the trials: the reader follows them) ----------------------------------
    def _fleet_activity(self) -> None:
        if self.controller.active:
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

    def _fleet_settled(self, phase: str) -> None:
        self.refresh()
        if self.auto_verify:
            self.verify()
        self.run_finished.emit()  # the study list re-reads its counts

    # --- determinism ----------------------------------------------------------------------------------------
    def verify(self, check_objective: bool = False, soon: bool = False) -> None:
        if self.summary is None:
            return
        self._last_verify = time.monotonic()
        if soon:
            self.verifier.start_soon(self.storage, self.summary.name)
        else:
            self.verifier.start(self.storage, self.summary.name, check_objective=check_objective)

    def _badge_state(self, state: BadgeState) -> None:
        self.badge.set_state(state)
        self.changed.emit()

    def show_verdict(self) -> None:
        if self.summary is None:
            return
        dialog = VerdictDialog(self.badge.state, self.summary.name, self)
        dialog.check_objective.connect(lambda: self.verify(check_objective=True))
        dialogs.run_dialog(dialog)
