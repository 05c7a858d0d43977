"""The main window: start page or an open storage (study list + study view), menus, status bar, drag and drop,
recent files, live refresh, and a clean shutdown while a run is in progress."""

from __future__ import annotations

import datetime
import os
import time
import traceback
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from optgui.core.engine import DEMO_OBJECTIVE, DEMO_SAMPLER, DEMO_STUDY, DEMO_TRIALS, RunRequest, StudyRunner
from optgui.core.errors import OptguiError
from optgui.core.paths import demo_study_path
from optgui.core.records import EndReason
from optgui.qt import dialogs, theme
from optgui.qt.paths_shown import shown_name
from optgui.qt.run.run_controller import RunController
from optgui.qt.run.run_panel import STATE_TEXT
from optgui.qt.settings import Settings
from optgui.qt.steady_label import SteadyLabel
from optgui.qt.study import reading
from optgui.qt.study.run_state import SessionRunState
from optgui.qt.study.study_view import StudyView
from optgui.qt.tasks import tasks
from optgui.qt.verify.badge import Badge
from optgui.qt.verify.verification import VerifyJob
from optgui.qt.window.about import AboutDialog
from optgui.qt.window.new_study_dialog import NewStudyDialog
from optgui.qt.window.start_page import StartPage
from optgui.qt.window.study_list import StudyList
from optgui.qt.workspace.health_line import StudyHealths
from optgui.qt.workspace.notifier import NotificationKind, Notifier, TraySink

NOTIFY_AFTER_SECONDS = 60.0  # runs shorter than this finish without a desktop notification
STUDY_LIST_MIN_WIDTH = 160  # (its name and trial count stay in view)
WORKSPACE_MIN_WIDTH = 130  # px; beside the study list and view at their minimums the window fits 1000 px
WORKSPACE_WIDTH = 380  # px the workspace dock opens with where the window has the room
RUN_HEALTH_SECONDS = 15.0  # how often the health of this window's run is read during the run (a stall, the header)


class MainWindow(QMainWindow):
    storage_opened = Signal(str)

    def __init__(self, settings: Settings | None = None):
        super().__init__()
        self.settings = settings or Settings()
        self.reader = None
        self.storage: str | None = None
        self._closing = False
        self.setWindowTitle("optgui")
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.controller = RunController(self)
        self.verifier = VerifyJob(self)
        self.stack = QStackedWidget()
        self.start_page = StartPage()
        self.stack.addWidget(self.start_page)
        self.storage_page = QWidget()
        page_layout = QVBoxLayout(self.storage_page)
        page_layout.setContentsMargins(10, 10, 10, 6)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.study_list = StudyList()
        self.study_list.setMinimumWidth(STUDY_LIST_MIN_WIDTH)  # (its own hint would keep the window wide)
        self.study_view = StudyView(self.controller, self.verifier, settings=self.settings)
        self.study_view.reads.delivered.connect(self._background_summaries)
        self.splitter.addWidget(self.study_list)
        self.splitter.addWidget(self.study_view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([260, 1020])  # (the study view needs the room more, most of all at 1000 px)
        page_layout.addWidget(self.splitter)
        self.stack.addWidget(self.storage_page)
        self.setCentralWidget(self.stack)

        self._build_status_bar()
        self._build_menus()
        self.start_page.open_file.connect(self.open_dialog)
        self.start_page.open_url.connect(self.open_url_dialog)
        self.start_page.new_study.connect(self.new_study)
        self.start_page.open_demo.connect(self.open_demo)
        self.start_page.open_recent.connect(lambda s: self.open_storage(s))
        self.start_page.clear_recent.connect(self._clear_recent)
        self.study_list.study_selected.connect(self.open_study)
        self.study_list.live_changed.connect(self._live_changed)
        self.study_view.changed.connect(self._update_status)
        self.study_view.run_finished.connect(self._run_finished)
        self.controller.state_changed.connect(self._run_state)
        self.study_view.badge_changed.connect(self.status_badge.set_state)  # both badges show the session's
        self.status_badge.clicked.connect(self.study_view.show_verdict)

        self.live_timer = QTimer(self)
        self.live_timer.timeout.connect(self.refresh)
        live, seconds = self.settings.live_refresh()
        self.study_list.interval.setValue(seconds)
        self.study_list.live.setChecked(live)
        self._live_changed(live, seconds)
        self.log_action.setChecked(self.settings.log_scale())
        self.tray: QSystemTrayIcon | None = None
        self.notifier = Notifier(self.settings, self)
        self.notifier.sink = TraySink(self.windowIcon(), self.notifier.clicked, self)  # nothing without a tray
        self.notifier.open_requested.connect(self.show_notified)
        self.study_view.badge_changed.connect(self._badge_notification)
        # The run's health (stalled?) is read again while it runs: for the header and a stall notification.
        self.run_health_timer = QTimer(self)
        self.run_health_timer.setInterval(int(RUN_HEALTH_SECONDS * 1000))
        self.run_health_timer.timeout.connect(self._read_run_health)
        self.study_view.health.landed.connect(self._run_health_landed)
        self.controller.idle.connect(self.run_health_timer.stop)
        self.list_health = StudyHealths(self)  # the study list's Health column, read in the background
        self.list_health.landed.connect(self._list_health_landed)
        self.list_health.hold = self.study_view.reading_all_trials  # (after it, as the header's health)
        self.study_view.all_trials_read.connect(self.list_health.release)
        self.study_view.health.landed.connect(self._study_health_landed)
        self._refresh_recent()
        # imported on use, not with this module: start-up time
        from optgui.qt.workbench import workbench

        self.workbench = workbench.install(self)  # trials table, details, best, study management, preferences
        self._restore_state()
        self._update_status()

    # --- construction -------------------------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, tip=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = self._action(
            file, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open, "Open a study file read-only"
        )
        self._action(file, "Open &URL…", self.open_url_dialog, None, "Open a PostgreSQL or MySQL storage")
        self._action(file, "Open &folder…", self.open_folder_dialog, None, "List the study files under a folder")
        self._action(file, "&New study…", self.new_study, QKeySequence.StandardKey.New, "Define a new study")
        self._action(file, "Open &demo", self.open_demo, None, "The demo study in the app data folder")
        self.recent_menu = file.addMenu("Open &recent")
        file.addSeparator()
        self.close_action = self._action(
            file,
            "&Close",
            self.close_storage,
            QKeySequence.StandardKey.Close,
            "Close the storage and return to the start page",
        )
        self._action(file, "&Quit", self.close, QKeySequence("Ctrl+Q"), "Quit optgui")
        view = bar.addMenu("&View")
        self._action(view, "&Refresh", self.refresh, QKeySequence("F5"), "Re-read the storage")
        self._action(view, "&Find study", self.find, QKeySequence.StandardKey.Find, "Filter the study list")
        self.log_action = self._action(
            view, "&Log scale", self._log_scale, QKeySequence("Ctrl+L"), "Logarithmic objective axis", checkable=True
        )
        theme_menu = view.addMenu("&Appearance")
        group = QActionGroup(self)
        self.theme_actions = {}
        for mode, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            action = self._action(theme_menu, label, lambda _=False, m=mode: self.set_theme(m), checkable=True)
            group.addAction(action)
            self.theme_actions[mode] = action
        current = theme.current()
        self.theme_actions[current.mode if current else "system"].setChecked(True)
        run = bar.addMenu("&Run")
        for action in self.study_view.panel.actions_list:
            run.addAction(action)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About optgui", self.about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.trials_label = SteadyLabel()  # (counts that change with every text update of a run)
        self.state_label = QLabel()
        self.status_badge = Badge(compact=True)
        for w in (self.trials_label, self.state_label):
            w.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(self.trials_label)
        bar.addPermanentWidget(self.state_label)
        bar.addPermanentWidget(self.status_badge)

    # --- opening ------------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = dialogs.open_file(self)
        if path:
            self.open_storage(path)

    def open_url_dialog(self) -> None:
        url = dialogs.text(self, "Open URL", "Storage URL (postgresql://user@host/db, mysql://…, sqlite:///file):")
        if url:
            self.open_storage(url)

    def open_storage(self, text: str, study: str | None = None) -> bool:
        """Open a storage read-only and show its studies. Errors are shown in a dialog; returns success."""
        if os.path.isdir(text):  # a folder of study files: the workspace
            return self.open_folder(text)
        if self.controller.active:
            dialogs.error(self, "A run is in progress", "Stop or pause the run before opening another storage.")
            return False
        if "***@" in text:  # a recent server URL: the password was never stored
            password = dialogs.text(self, "Password", f"Password for {text}:", password=True)
            if password is None:
                return False
            text = text.replace(":***@", f":{password}@", 1)
        try:
            reader = reading.open_storage(text)
            summaries = reading.listing(reader)
        except OptguiError as exc:
            self._open_failed(text, str(exc), "")
            return False
        except Exception as exc:  # noqa: BLE001 - a damaged file may break anything below the reader
            self._open_failed(text, f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
            return False
        self._close_reader()
        self.reader, self.storage = reader, text
        self.settings.add_recent(text)
        self._refresh_recent()
        self.study_list.show_storage(summaries)
        self.list_health.forget()
        self.stack.setCurrentWidget(self.storage_page)
        self.setWindowTitle(f"{shown_name(reader.display)} — optgui")
        for note in reader.notes:
            self.statusBar().showMessage(note, 15000)
        names = [s.name for s in summaries]
        if study is not None and study not in names:
            dialogs.error(
                self, "No such study", f"{reader.display} has no study named {study!r}.", "Studies: " + ", ".join(names)
            )
            study = None
        target = study or (self.study_list.model.rows[0].name if self.study_list.model.rows else None)
        if target is not None:
            self.study_list.select(target, emit=False)
            self.open_study(target)
        if not all(s.counted for s in summaries):
            self._count_in_background()
        # The list's Health column reads every study's trials: only once the first study is drawn (at 1M trials
        # that read, running beside the study's own, doubled the time to the plot).
        self.list_health.request(text, self._shown_study())
        self.storage_opened.emit(text)
        return True

    def _count_in_background(self) -> None:
        """A large storage was listed without counts (reading.listing): its study list counts follow from a
        read in the worker thread, after the first study's plot."""
        if not self.study_view.reads.summaries(self.storage, self.storage):
            self._summaries_wanted = True

    # --- workspace (a folder of study files) --------------------------------------------------------------
    workspace_dock: QDockWidget | None = None

    def open_folder_dialog(self) -> None:
        folder = dialogs.open_folder(self)
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str) -> bool:
        """Show the folder's study files in the workspace panel (a dock beside the study list), read in the
        background and watched; choosing a study there opens its file."""
        # imported on use, not with this module: start-up time
        from optgui.qt.workspace.workspace_panel import WorkspacePanel

        if self.workspace_dock is None:
            panel = WorkspacePanel()
            panel.study_chosen.connect(lambda path, study: self.open_storage(path, study))
            panel.read_finished.connect(lambda: panel.workspace and self.notifier.workspace_read(panel.workspace))
            self.workspace_dock = QDockWidget("Workspace", self)
            self.workspace_dock.setObjectName("workspaceDock")
            self.workspace_dock.setWidget(panel)
            # Narrow enough for a 1000 px window beside the study list and view (the panel keeps the columns that
            # fit, names and health first); wider when the window has the room.
            self.workspace_dock.setMinimumWidth(WORKSPACE_MIN_WIDTH)
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.workspace_dock)
            self.resizeDocks([self.workspace_dock], [WORKSPACE_WIDTH], Qt.Orientation.Horizontal)
        panel = self.workspace_dock.widget()
        assert isinstance(panel, WorkspacePanel)
        self.notifier.forget_watched()
        panel.open_folder(folder)
        self.workspace_dock.show()
        self.settings.add_recent(folder)
        self._refresh_recent()
        return True

    def _open_failed(self, text: str, message: str, details: str) -> None:
        dialogs.error(self, "Cannot open the storage", message, details)

    def open_study(self, name: str) -> None:
        summary = next((s for s in self.study_list.model._all if s.name == name), None)
        if summary is None or self.reader is None:
            return
        if self.study_view.fleet.busy and name != self.study_view.fleet.study:
            self.statusBar().showMessage("Stop the fleet started here before opening another study", 10000)
            return
        try:
            self.study_view.open(self.storage, self.reader, summary, self.reader.display)
        except OptguiError as exc:
            dialogs.error(self, "Cannot read the study", str(exc))
        except Exception as exc:  # noqa: BLE001
            dialogs.error(self, "Cannot read the study", f"{exc.__class__.__name__}: {exc}", traceback.format_exc())

    def close_storage(self) -> None:
        if self.controller.active:
            dialogs.error(self, "A run is in progress", "Stop or pause the run before closing the storage.")
            return
        self.verifier.cancel()
        self._close_reader()
        self.stack.setCurrentWidget(self.start_page)
        self.study_view.panel.unbind()
        self.setWindowTitle("optgui")
        self._update_status()

    def _close_reader(self) -> None:
        self.list_health.forget()
        if self.reader is not None:
            self.reader.close()
            self.reader = None
            self.study_view.forget_sessions()

    def new_study(self) -> None:
        dialog = NewStudyDialog(self, folder=str(Path.home()))
        # imported on use, not with this module: start-up time
        from optgui.qt.window.preferences import apply_new_study_defaults

        apply_new_study_defaults(dialog, self.settings)
        if not dialogs.run_dialog(dialog):
            return
        values = dialog.values()
        try:
            define_study(**values)
        except OptguiError as exc:
            dialogs.error(self, "Cannot create the study", str(exc))
            return
        except Exception as exc:  # noqa: BLE001
            dialogs.error(self, "Cannot create the study", f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
            return
        self.open_storage(values["storage"], values["study_name"])

    def open_demo(self) -> None:

        path = demo_study_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                define_study(
                    storage=str(path),
                    study_name=DEMO_STUDY,
                    objective=DEMO_OBJECTIVE,
                    sampler=DEMO_SAMPLER,
                    n_trials=DEMO_TRIALS,
                )
            except Exception as exc:  # noqa: BLE001
                dialogs.error(self, "Cannot create the demo study", str(exc), traceback.format_exc())
                return
        self.open_storage(str(path), DEMO_STUDY)

    # --- recent files -------------------------------------------------------------------------------------
    def _refresh_recent(self) -> None:
        items = self.settings.recent()
        self.start_page.set_recent(items)
        self.recent_menu.clear()
        for storage in items:
            action = self.recent_menu.addAction(storage)
            action.triggered.connect(lambda _=False, s=storage: self.open_storage(s))
        self.recent_menu.setEnabled(bool(items))
        if items:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._refresh_recent()

    # --- drag and drop ------------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_storage(files[0])

    # --- view ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.workspace_dock is not None and self.workspace_dock.isVisible():
            self.workspace_dock.widget().reload()  # type: ignore[union-attr]  # (health changes with time alone)
        if self.reader is None:
            return
        if self.storage is not None:
            self.list_health.request(self.storage, self._shown_study())  # (at most every LIST_HEALTH_SECONDS)
        if self.controller.active and self.controller.state is not SessionRunState.PAUSED:
            # A running study's view follows the run's own events; only the list's counts are re-read, in the
            # background (a summary pass over a storage being written must not stall the event loop).
            self.study_view.reads.summaries(self.study_view.storage, self.study_view.storage)
            return
        try:
            self.study_list.set_summaries(reading.summaries(self.reader))
            for s in self.study_list.model._all:
                self.study_view.summary_updated(s)
            self.study_view.refresh()
        except OptguiError as exc:
            self.statusBar().showMessage(f"Refresh failed: {exc}", 10000)

    def _background_summaries(self, message) -> None:
        kind, storage, summaries, error = message
        if kind == "summaries" and error is None and storage == self.study_view.storage and self.reader is not None:
            self.study_list.set_summaries(summaries)
            for s in self.study_list.model._all:  # as refresh() does: run records and lease notices
                self.study_view.summary_updated(s)  # (not of the study this window runs: its events say more)
            self._list_follows_the_run()  # (the read began before the run's latest trials)
        if kind == "summaries" and self._summaries_wanted and self.reader is not None:
            self._summaries_wanted = not self.study_view.reads.summaries(
                self.study_view.storage, self.study_view.storage
            )

    def find(self) -> None:
        if self.stack.currentWidget() is self.storage_page:
            self.study_list.find.setFocus()
            self.study_list.find.selectAll()

    def _log_scale(self, on: bool) -> None:
        self.study_view.plot.set_log_scale(on)
        self.settings.set_log_scale(on)

    def _live_changed(self, on: bool, seconds: float) -> None:
        self.settings.set_live_refresh(on, seconds)
        if on:
            self.live_timer.start(int(seconds * 1000))
        else:
            self.live_timer.stop()

    def set_theme(self, mode: str) -> None:
        t = theme.current()
        if t is not None:
            t.set_mode(mode)
        self.settings.set_theme(mode)
        self.theme_actions[mode].setChecked(True)

    def about(self) -> None:
        dialogs.run_dialog(AboutDialog(self))

    # --- status -------------------------------------------------------------------------------------------
    def _update_status(self) -> None:
        data = self.study_view.data
        on_study = self.stack.currentWidget() is self.storage_page and data is not None
        if on_study:
            c = data.counts()
            self.trials_label.setText(f"{data.n} trials · {c['COMPLETE']} complete · {c['FAIL']} failed")
        self.trials_label.setVisible(on_study)
        self.status_badge.setVisible(on_study)
        view = self.study_view
        session = view.session if on_study else None
        state = session.run_state if session is not None else SessionRunState.IDLE
        text = STATE_TEXT[state] if state is not SessionRunState.IDLE else ""
        if self.controller.active and view.run_session is not None and view.run_session is not session:
            text = f"Running {view.run_session.name}"  # the shown study is another one
        self.state_label.setText(text)
        self._list_follows_the_run()

    def _list_follows_the_run(self) -> None:
        """The running study's row in the list shows the counts of its session, as the header does (a read of the
        storage would bring them only with the next live refresh, and the row lagged the header during a run)."""
        session = self.study_view.run_session
        if self.controller.active and session is not None and session.data is not None and self.reader is not None:
            data = session.data
            self.study_list.show_counts(session.name, data.n, data.counts(), data.best_value())

    def _run_state(self, state: SessionRunState, message: str) -> None:
        self._update_status()
        session = self.study_view.run_session
        if state is SessionRunState.STARTING and session is not None:
            self.notifier.run_started(session.storage, session.name)
        # When the run last began or resumed running: a pause is no silence of the run (its health is judged so).
        if state is SessionRunState.RUNNING and self._running_since is None:
            self._running_since = datetime.datetime.now(datetime.UTC)
        elif state not in (SessionRunState.RUNNING, SessionRunState.PAUSING):
            self._running_since = None
        if self.controller.active and not self.run_health_timer.isActive():
            self.run_health_timer.start()
            self._read_run_health()  # (the header said the health from before the run)
        elif not self.controller.active:
            self.run_health_timer.stop()
        if state in (SessionRunState.COMPLETED, SessionRunState.FAILED):
            self._notify(state, message)

    def _run_finished(self) -> None:
        # The study view has read the run's last trials itself; the list's counts and the view's run record are
        # re-read in the background, so that the end of a run (or a fleet's step) costs the event loop no summary
        # pass over the storage.
        if self.reader is not None and not self.study_view.reads.summaries(
            self.study_view.storage, self.study_view.storage
        ):
            self._summaries_wanted = True  # one is in flight, read before the end: read again when it lands
        self._update_status()

    _summaries_wanted = False

    def _notify(self, state: SessionRunState, message: str) -> None:
        started = self.controller.started_at
        if started is None or time.monotonic() - started < NOTIFY_AFTER_SECONDS:
            return
        name = self.study_view.summary.name if self.study_view.summary else "study"
        kind = (
            NotificationKind.RUN_COMPLETED
            if state is SessionRunState.COMPLETED
            else NotificationKind.RUN_PAUSED_ON_ERROR
        )
        self.notifier.notify(kind, self.study_view.storage or "", name, message or state)

    def _shown_study(self) -> str | None:
        session = self.study_view.session
        return session.name if session is not None and session.storage == self.storage else None

    def _list_health_landed(self, storage: str, healths: dict) -> None:
        if self.reader is not None and storage == self.storage:
            shown = self._shown_study()
            header = self.study_view.health.health_of(storage, shown) if shown is not None else None
            if shown is not None and shown not in healths and header is not None:
                healths = {**healths, shown: header}  # (read by the header, not again by the list)
            self.study_list.set_health(healths)

    def _study_health_landed(self, storage: str, study: str, health) -> None:
        """The header's health of a study of the open storage is its list row's too (read later than the list's)."""
        if self.reader is not None and storage == self.storage and health is not None:
            self.study_list.model.set_health_of(study, health)

    _running_since: datetime.datetime | None = None

    def _read_run_health(self) -> None:
        session = self.study_view.run_session
        # Only while it runs: paused, it has nothing in flight; resuming, the engine may run a trial before it says
        # so, and a read then would count the pause as silence.
        running = self.controller.active and self.controller.state is SessionRunState.RUNNING
        if running and session is not None and self._running_since is not None:
            health = self.study_view.health
            self._run_read = health.request(session.storage, session.name, running_since=self._running_since)

    _run_read = False  # the header's next health read is the run's (a read the view asked for knows no resume)

    def _run_health_landed(self, storage: str, study: str, health) -> None:
        ours, self._run_read = self._run_read, False
        session = self.study_view.run_session
        running = self.controller.active and session is not None and (session.storage, session.name) == (storage, study)
        if ours and running and health is not None:
            self.notifier.run_health(storage, study, health)

    def show_notified(self, storage: str, study: str) -> None:
        """A notification was clicked: bring the window up showing its study (a study of the open storage is
        shown from it, which a run in progress allows; another storage is opened)."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        if self.reader is not None and storage == self.storage and self.stack.currentWidget() is self.storage_page:
            if not self.study_list.select(study, emit=False):
                self.study_list.find.clear()  # the find filter hid it
                if not self.study_list.select(study, emit=False):
                    return
            self.open_study(study)
            return
        self.open_storage(storage, study)

    def _badge_notification(self, state) -> None:
        summary = self.study_view.summary
        if summary is not None:
            self.notifier.verification(self.study_view.storage or "", summary.name, state.kind, state.text)

    # --- window state -------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        for key, restore in (
            ("geometry", self.restoreGeometry),
            ("state", self.restoreState),
            ("main_splitter", self.splitter.restoreState),
            ("study_splitter", self.study_view.splitter.restoreState),
        ):
            value = self.settings.bytes(key)
            if value is not None:
                restore(value)

    def _save_state(self) -> None:
        self.settings.set_bytes("geometry", self.saveGeometry())
        self.settings.set_bytes("state", self.saveState())
        self.settings.set_bytes("main_splitter", self.splitter.saveState())
        self.settings.set_bytes("study_splitter", self.study_view.splitter.saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if not self.study_view.fleet.close_when_stopped(self.close):
            event.ignore()
            self.statusBar().showMessage("Stopping the fleet: the trials in flight are finished first…")
            return
        if self.controller.active:
            event.ignore()
            if self._closing:
                return
            state = self.controller.state
            in_flight = self.controller.trial_in_flight is not None or state is SessionRunState.RUNNING
            if state is SessionRunState.PAUSED or not in_flight:
                self.controller.stop(EndReason.PAUSED)
            else:
                choice = dialogs.choose(
                    self,
                    "A trial is running",
                    "optgui pauses the run at the next trial boundary and saves its state before quitting; "
                    "reopening the study offers Resume.\n\nWait for the current trial, or abandon it now (it "
                    "is recovered deterministically on Resume)?",
                    ["Wait for the trial and quit", "Abandon the trial and quit"],
                )
                if choice is None:
                    return
                if choice == 0:
                    self.controller.stop(EndReason.PAUSED)
                else:
                    self.controller.abandon()
            self._closing = True
            self.statusBar().showMessage("Closing after the current trial…")
            self.controller.ended.connect(lambda *_: QTimer.singleShot(0, self.close))
            return
        self.live_timer.stop()
        tasks.cancel_tasks_within(self)  # nothing computed for this window arrives after it closed
        self.verifier.cancel()
        self.study_view.fleet.close()
        self.study_view.reads.close()
        self._close_reader()
        self._save_state()
        event.accept()


def define_study(
    *,
    storage: str,
    study_name: str,
    objective: str,
    directions=None,
    metric_names=None,
    sampler=None,
    pruner=None,
    seed=None,
    n_trials=None,
) -> None:
    """Create a study with optgui's run record and no trials, through the engine itself, so that the first Start
    is an ordinary start of the recorded definition."""

    if not storage or not study_name:
        raise OptguiError("a new study needs a storage file and a name")
    request = RunRequest(
        storage=storage,
        study_name=study_name,
        objective=objective,
        sampler=sampler,
        pruner=pruner,
        seed=seed,
        directions=directions,
        metric_names=metric_names,
        n_trials=n_trials,
        create_storage=True,
    )
    StudyRunner(request).create()
