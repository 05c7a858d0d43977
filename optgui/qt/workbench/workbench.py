"""The study workbench, installed into a MainWindow: Trials / Best / Output tabs in the study view, the Study menu
(save as, run on a copy, rename, delete, upgrade, exports) and Preferences.

The trials table, best panel and details pane show the shown study session's TrialStore (no copy of their own) and
follow its changes (`StudyView.trials_changed`: polls and the engine's events alike); every write is asked for
first and done by optgui.core.engine._study_admin.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QSplitter

from optgui.core.engine import (
    CopyCancelled,
    copy_study_with_metadata,
    delete_study,
    enqueue_params,
    rename_study,
    upgrade_schema,
)
from optgui.core.errors import OptguiError
from optgui.core.storage import TrialFrame, parse_storage, write_json, write_trials_csv
from optgui.qt import dialogs
from optgui.qt.compare.compare_window import install_compare_action
from optgui.qt.run.run_log import RunLog
from optgui.qt.study.run_state import SessionRunState
from optgui.qt.tasks.background import run_with_progress
from optgui.qt.window.preferences import Preferences, PreferencesDialog
from optgui.qt.workbench.annotations import Annotations
from optgui.qt.workbench.best_panel import BestPanel
from optgui.qt.workbench.plot_export import export_plot
from optgui.qt.workbench.trial_details import TrialDetails
from optgui.qt.workbench.trials_table import TrialsTable
from optgui.qt.workbench.warm_start import WarmStartMenu

CSV_FILTER = "CSV files (*.csv)"
# From this many trials the trials table is shown before its params are read (they follow from a worker thread).
TABLE_READ_IN_BACKGROUND_FROM = 200_000
IMAGE_FILTER = "PNG image (*.png);;SVG image (*.svg)"
JSON_FILTER = "JSON files (*.json)"
VERDICT_SCHEMA = "optgui.verdict-export/1"


class _WaitCursor:
    def __enter__(self):
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *exc):
        QGuiApplication.restoreOverrideCursor()


class Workbench(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = window.study_view
        self.loaded = False
        self.table = TrialsTable()
        self.details = TrialDetails()
        # Table above, details below: the study view shares the window's width with the study list and the run
        # panel, so both get the full width of the tab.
        self.trials_page = QSplitter(Qt.Orientation.Vertical)
        self.trials_page.setObjectName("trialsSplitter")
        self.trials_page.addWidget(self.table)
        self.trials_page.addWidget(self.details)
        self.trials_page.setStretchFactor(0, 1)
        self.trials_page.setStretchFactor(1, 1)
        self.trials_page.setSizes([360, 440])  # a failed trial's traceback and output need the room
        self.best = BestPanel()
        self.log = RunLog()
        tabs = self.view.tabs
        tabs.addTab(self.trials_page, "Trials")
        tabs.addTab(self.best, "Best")
        tabs.addTab(self.log, "Output")
        tabs.currentChanged.connect(self._tab_changed)
        self.view.opened.connect(self._study_opened)
        self.view.trials_changed.connect(self._trials_changed)
        window.controller.state_changed.connect(self._run_state)
        # One selected trial and one brushing filter for the whole study view: a row picked here is highlighted in
        # the analysis plots, a point picked there selects (and scrolls to) its row and fills the details pane.
        selection = self.view.selection
        self.table.trial_selected.connect(selection.select)
        selection.trial_selected.connect(self._trial_selected)
        selection.filter_changed.connect(self._filter_changed)
        self.table.subset_cleared.connect(lambda: selection.set_filter(None))
        self.table.export_requested.connect(self.export_csv)
        self.best.enqueue_requested.connect(self.enqueue)
        self.annotations = Annotations(self)  # the Notes tab, the details' Note and Artifacts tabs
        self._build_menus()
        # imported here: the sharing actions are a module of their own (Reproduce…, recipes)
        from optgui.qt.workbench.sharing import Sharing

        self.sharing = Sharing(self)
        self.warm_start = WarmStartMenu(self)  # "New study from these trials…"
        self.compare_action = install_compare_action(window, self.study_menu)  # Study ▸ Compare studies…
        self.apply_preferences(startup=True)

    # --- tabs and data ------------------------------------------------------------------------------------
    def show_tab(self, widget) -> None:
        self.view.tabs.setCurrentWidget(widget)

    def _tab_changed(self, _index: int) -> None:
        if self.view.tabs.currentWidget() in (self.trials_page, self.best):
            self.ensure_loaded()

    def _study_opened(self) -> None:
        self.view.tabs.tabBar().setVisible(True)  # the workbench tabs are there for every study
        self.loaded = False
        self.table.bind(TrialFrame(self.view.summary.directions))  # nothing of the previous study stays shown
        self.details.clear()
        self.log.set_study(self.view.storage, self.view.summary.name)
        self.log.follow(self._shown_study_runs())
        self._apply_run_defaults()
        if self.view.tabs.currentWidget() in (self.trials_page, self.best):
            self.ensure_loaded()

    def ensure_loaded(self) -> bool:
        """Read the open study's full table (params and user attributes) once; polls keep it current."""
        if self.loaded:
            return True
        view = self.view
        if view.reader is None or view.summary is None:
            return False
        if not view.session.store.params_loaded and view.session.store.n >= TABLE_READ_IN_BACKGROUND_FROM:
            # A large study: the table shows the store's numbers, states and values at once; the params columns
            # (a read of seconds at 1M trials) arrive from the worker thread.
            self._bind(view.session.store)
            view.read_params_in_background(view.session)
            return True
        try:
            with _WaitCursor():
                view.session.ensure_params()  # into the session's store, shared with the plots and analysis views
        except OptguiError as exc:
            self.window.statusBar().showMessage(f"Cannot read the trials: {exc}", 10000)
            return False
        self._bind(view.session.store)
        return True

    def _bind(self, frame) -> None:
        """Show the session's store in the table, details and best panel."""
        view = self.view
        self.table.bind(frame)
        self.details.set_study(view.storage, view.reader, view.summary.name, frame)
        self.best.rows = np.empty(0, dtype=np.int64)  # another study's best rows may have the same numbers
        self.best.update_from(frame)
        self.loaded = True
        selection = self.view.selection
        self._filter_changed(selection.filter)
        self._trial_selected(selection.selected)

    def _trial_selected(self, number: int | None) -> None:
        if not self.loaded or number is None:
            return
        self.table.select_trial(number)  # False when filtered out of the table: the details still show it
        if number != self.details.number:
            self.details.show_trial(number)

    def _filter_changed(self, numbers) -> None:
        if self.loaded:
            self.table.show_only(numbers, self.view.selection.filter_source)

    def _trials_changed(self, change) -> None:
        """The shown session's store took a poll or the engine's events (a StoreChange)."""
        if not self.loaded:
            return
        frame = self.view.session.store
        if change.reloaded:
            self.table.bind(frame)
            self.details.frame = frame
            self.details.extras.invalidate()
            self.best.rows = np.empty(0, dtype=np.int64)
            self.best.update_from(frame)
            return
        self.table.rows_changed(change.new, change.changed, change.columns_added)
        self.details.data_changed(frame, change.rows.tolist())
        self.best.update_from(frame, new_rows=change.rows)

    def _shown_study_runs(self) -> bool:
        return self.window.controller.active and self.view.session is self.view.run_session

    def _run_state(self, state: SessionRunState, _message: str) -> None:
        self.log.follow(self._shown_study_runs())
        self._update_actions()

    # --- menus --------------------------------------------------------------------------------------------
    def _menu(self, title: str) -> QMenu | None:
        bar = self.window.menuBar()
        for menu in bar.findChildren(QMenu):
            if menu.title() == title and menu.menuAction() in bar.actions():
                return menu
        return None

    def _build_menus(self) -> None:
        window = self.window
        bar = window.menuBar()
        run_menu = self._menu("&Run")
        study = QMenu("&Study", bar)
        if run_menu is not None:
            bar.insertMenu(run_menu.menuAction(), study)
        else:
            bar.addMenu(study)
        self.study_menu = study

        def add(menu, text, slot, tip, shortcut=None) -> QAction:
            action = QAction(text, window)
            action.setStatusTip(tip)
            action.setToolTip(tip)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            return action

        self.save_as_action = add(
            study,
            "Save study &as…",
            lambda: self.save_as(),
            "Copy this study (trials and run record) to a new file",
            "Ctrl+Shift+S",
        )
        self.run_copy_action = add(
            study,
            "Run on a &copy…",
            lambda: self.save_as(run_copy=True),
            "Copy this study to a new file and open the copy, leaving the original as it is",
        )
        study.addSeparator()
        self.rename_action = add(
            study,
            "&Rename study…",
            self.rename,
            "Rename (copies under the new name, keeping the run record, then removes the old name)",
        )
        self.delete_action = add(study, "&Delete study…", self.delete, "Delete this study from its storage")
        self.upgrade_action = add(
            study,
            "&Upgrade storage schema…",
            self.upgrade,
            "Upgrade an old Optuna schema after writing a backup copy of the file",
        )
        study.addSeparator()
        export = self.export_menu = study.addMenu("&Export")
        self.export_csv_action = add(
            export,
            "Trials table to &CSV…",
            self.export_csv,
            "The shown rows and columns of the trials table, in table order",
        )
        self.export_plot_action = add(
            export, "Convergence &plot to PNG or SVG…", self.export_plot, "The convergence plot as an image"
        )
        self.export_verdict_action = add(
            export, "&Verdict to JSON…", self.export_verdict, "The determinism verdict of this study"
        )
        file_menu = self._menu("&File")
        self.preferences_action = QAction("&Preferences…", window)
        # StandardKey.Preferences is empty outside macOS; Ctrl+, (Cmd+, on macOS, where Qt maps Ctrl) is what the
        # docs promise everywhere.
        self.preferences_action.setShortcut(QKeySequence("Ctrl+,"))
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.triggered.connect(self.preferences)
        if file_menu is not None:
            quit_action = next((a for a in file_menu.actions() if a.text() == "&Quit"), None)
            file_menu.insertAction(quit_action, self.preferences_action)
        study.aboutToShow.connect(self._update_actions)
        self._update_actions()

    def _update_actions(self) -> None:
        open_study = self.view.summary is not None and self.window.reader is not None
        idle = not self.window.controller.active
        for action in (self.save_as_action, self.run_copy_action, self.rename_action, self.delete_action):
            action.setEnabled(open_study and idle)
        schema = getattr(self.window.reader, "schema", None) if self.window.reader is not None else None
        self.upgrade_action.setEnabled(idle and schema is not None and not getattr(schema, "is_current", True))
        for action in (self.export_csv_action, self.export_plot_action, self.export_verdict_action):
            action.setEnabled(open_study)
        self.export_menu.setEnabled(open_study)  # the start page has nothing to export

    # --- managing studies ---------------------------------------------------------------------------------
    def _can_write(self, what: str) -> bool:
        if self.view.summary is None or self.window.reader is None:
            return False
        if self.window.controller.active:
            dialogs.error(self.window, f"Cannot {what} now", "Stop or pause the run first.")
            return False
        return True

    def _fail(self, title: str, exc: BaseException) -> None:
        if isinstance(exc, OptguiError):
            dialogs.error(self.window, title, str(exc))
        else:
            dialogs.error(self.window, title, f"{exc.__class__.__name__}: {exc}", traceback.format_exc())

    def _suggested_copy_path(self, suffix: str) -> str:
        ref = parse_storage(self.view.storage)
        name = self.view.summary.name
        folder = ref.path.parent if ref.path is not None else Path.home()
        base = f"{name}-copy"
        candidate = folder / f"{base}{suffix}"
        i = 2
        while candidate.exists():
            candidate = folder / f"{base}-{i}{suffix}"
            i += 1
        return str(candidate)

    def save_as(self, run_copy: bool = False) -> str | None:
        """Save study as / Run on a copy. Returns the copy's storage path, or None if nothing was done."""
        if not self._can_write("copy the study"):
            return None
        name, storage = self.view.summary.name, self.view.storage
        title = "Run on a copy" if run_copy else "Save study as"
        path = dialogs.save_file(self.window, f"{title}: the new study file", self._suggested_copy_path(".db"))
        if not path:
            return None
        target = Path(path)
        where = f"into the existing file\n{target}" if target.exists() else f"to a new file\n{target}"
        if not dialogs.confirm(
            self.window,
            title,
            f"Copy study {name!r} ({self.view.summary.n_trials} trials, "
            f"with optgui's run record) {where}?\n\nThe original is only read.",
            "Copy",
        ):
            return None
        try:
            run_with_progress(
                self.window,
                title,
                f"Copying study {name!r} to {target.name}",
                lambda progress, cancelled: copy_study_with_metadata(
                    storage, str(target), name, progress=progress, cancelled=cancelled
                ),
            )
        except CopyCancelled:
            self.window.statusBar().showMessage("Copy cancelled; nothing was written", 10000)
            return None
        except Exception as exc:  # noqa: BLE001 - shown to the user; the original was not written
            self._fail(f"{title} failed", exc)
            return None
        if (
            run_copy
            or dialogs.choose(
                self.window, "Study copied", f"Saved {name!r} to {target}.", ["Open the copy", "Stay here"], default=1
            )
            == 0
        ):
            self.window.open_storage(str(target), name)
            if run_copy:
                self.view.panel.set_notice(
                    f"This is a copy of {name!r} from {parse_storage(storage).display}: "
                    "running it leaves the original unchanged."
                )
        else:
            self.window.statusBar().showMessage(f"Saved a copy to {target}", 10000)
        return str(target)

    def rename(self) -> str | None:
        if not self._can_write("rename the study"):
            return None
        name, storage = self.view.summary.name, self.window.storage
        new = dialogs.text(self.window, "Rename study", f"New name for {name!r}:", name)
        if not new or new.strip() == name:
            return None
        new = new.strip()
        if not dialogs.confirm(
            self.window,
            "Rename study",
            f"Rename {name!r} to {new!r}?\n\noptgui copies the study under the new name (trials "
            "and run record) within the same storage, checks the copy, then deletes the old "
            "name.",
            "Rename",
        ):
            return None
        try:
            run_with_progress(
                self.window,
                "Rename study",
                f"Copying study {name!r} as {new!r}",
                lambda progress, cancelled: rename_study(storage, name, new, progress=progress, cancelled=cancelled),
            )
        except CopyCancelled:
            self.window.statusBar().showMessage(f"Rename cancelled; {name!r} is unchanged", 10000)
            return None
        except Exception as exc:  # noqa: BLE001
            self._fail("Rename failed", exc)
            return None
        self.window.open_storage(storage, new)
        return new

    def delete(self) -> bool:
        if not self._can_write("delete the study"):
            return False
        summary, storage = self.view.summary, self.window.storage
        if not dialogs.confirm(
            self.window,
            "Delete study",
            f"Delete study {summary.name!r} and its {summary.n_trials} trials from\n"
            f"{self.window.reader.display}?\n\nOther studies in this storage are not touched. "
            "This cannot be undone (Save study as… keeps a copy first).",
            "Delete",
        ):
            return False
        try:
            with _WaitCursor():
                delete_study(storage, summary.name)
        except Exception as exc:  # noqa: BLE001
            self._fail("Delete failed", exc)
            return False
        self.window.open_storage(storage)
        return True

    def upgrade(self) -> Path | None:
        window = self.window
        if window.reader is None or window.controller.active:
            return None
        storage = window.storage
        study = self.view.summary.name if self.view.summary is not None else None
        if not dialogs.confirm(
            window,
            "Upgrade storage schema",
            f"{window.reader.display} uses an old Optuna schema. Upgrade it to the current one?"
            "\n\noptgui first writes a backup copy next to the file and checks it; then Optuna's "
            "own migration runs (as `optuna storage upgrade`).",
            "Back up and upgrade",
        ):
            return None
        window._close_reader()  # the upgrade refuses files that are open elsewhere
        try:
            with _WaitCursor():
                backup = upgrade_schema(storage)
        except Exception as exc:  # noqa: BLE001
            self._fail("Upgrade failed", exc)
            window.open_storage(storage, study)
            return None
        window.open_storage(storage, study)
        dialogs.info(window, "Schema upgraded", f"The original file is saved as\n{backup}")
        return backup

    def enqueue(self, params: dict) -> int | None:
        if self.view.summary is None or not params:
            return None
        name = self.view.summary.name
        text = "\n".join(f"  {k} = {v!r}" for k, v in params.items())
        if not dialogs.confirm(
            self.window,
            "Enqueue params",
            f"Add a waiting trial to {name!r} with these params?\n\n{text}\n\nThe next run "
            "evaluates it before sampling new ones (Optuna's enqueue_trial).",
            "Enqueue",
        ):
            return None
        try:
            number = enqueue_params(self.view.storage, name, params)
        except Exception as exc:  # noqa: BLE001
            self._fail("Enqueue failed", exc)
            return None
        self.view.refresh()
        self.window.statusBar().showMessage(f"Trial {number} enqueued", 10000)
        return number

    # --- exports ------------------------------------------------------------------------------------------
    def _export_path(self, title: str, default_name: str, file_filter: str) -> str | None:
        ref = parse_storage(self.view.storage)
        folder = ref.path.parent if ref.path is not None else Path.home()
        return dialogs.save_file(self.window, title, str(folder / default_name), file_filter, confirm_overwrite=True)

    def export_csv(self) -> str | None:
        if self.view.summary is None or not self.ensure_loaded():
            return None
        path = self._export_path("Export trials to CSV", f"{self.view.summary.name}-trials.csv", CSV_FILTER)
        if not path:
            return None
        try:
            with _WaitCursor():
                self.view.load_params_now()  # (a large study's params may still be on their way from the worker)
        except OptguiError as exc:
            dialogs.error(self.window, "Export failed", f"Cannot read the trials: {exc}")
            return None
        try:
            n = write_trials_csv(self.table.model.frame, self.table.model.order, self.table.visible_columns(), path)
        except OSError as exc:
            dialogs.error(self.window, "Export failed", f"Cannot write {path}: {exc}")
            return None
        self.window.statusBar().showMessage(f"Exported {n} trials to {path}", 10000)
        return path

    def export_plot(self) -> str | None:
        if self.view.summary is None:
            return None
        path = self._export_path("Export convergence plot", f"{self.view.summary.name}-convergence.png", IMAGE_FILTER)
        if not path:
            return None
        if Path(path).suffix.lower() not in (".png", ".svg"):
            path += ".png"
        try:
            how = export_plot(self.view.plot.view, path)
        except Exception as exc:  # noqa: BLE001
            self._fail("Export failed", exc)
            return None
        note = " (drawn without pyqtgraph's SVG exporter)" if how == "svg-fallback" else ""
        self.window.statusBar().showMessage(f"Saved the plot to {path}{note}", 10000)
        return path

    def export_verdict(self) -> str | None:
        if self.view.summary is None:
            return None
        state = self.view.badge.state
        path = self._export_path("Export verdict", f"{self.view.summary.name}-verdict.json", JSON_FILTER)
        if not path:
            return None
        # The verifier's own JSON (its schema, as `optgui verify --json` prints it) when a check has finished;
        # the badge says what is known otherwise ("checking", "not checked", a reason it cannot be checked).
        details = {k: v for k, v in state.verdict.items() if k != "json"}
        data = {
            "schema": VERDICT_SCHEMA,
            "study": self.view.summary.name,
            "storage": self.window.reader.display if self.window.reader is not None else None,
            "badge": {"kind": state.kind, "text": state.text},
            "verdict": state.verdict.get("json"),
            "details": details,
        }
        try:
            write_json(data, path)
        except OSError as exc:
            dialogs.error(self.window, "Export failed", f"Cannot write {path}: {exc}")
            return None
        self.window.statusBar().showMessage(f"Saved the verdict to {path}", 10000)
        return path

    # --- preferences --------------------------------------------------------------------------------------
    def preferences(self) -> bool:
        dialog = PreferencesDialog(self.window.settings, self.window)
        if not dialogs.run_dialog(dialog):
            return False
        self.apply_preferences()
        return True

    def apply_preferences(self, startup: bool = False) -> None:
        """Make the window follow the saved preferences. At startup the window has already applied the theme and
        live refresh from the same settings."""
        window = self.window
        settings = window.settings
        prefs = Preferences(settings)
        if not startup:
            mode = settings.theme()
            if mode in window.theme_actions:
                window.set_theme(mode)
            live, seconds = settings.live_refresh()
            window.study_list.interval.setValue(seconds)
            window.study_list.live.setChecked(live)
            window._live_changed(live, seconds)
        self.view.auto_verify = prefs.verify_automatically
        self._apply_run_defaults()

    def _apply_run_defaults(self) -> None:
        prefs = Preferences(self.window.settings)
        panel = self.view.panel
        if not self.window.controller.active:
            panel.child_process.setChecked(prefs.objective_in_child_process)
        if self.view.summary is not None and not panel.defined and not self._shown_study_runs():
            # a study optgui has not run yet: start from the preferred sampler and seed
            panel.sampler.setText(prefs.default_sampler)
            panel.seed.setText("" if prefs.default_seed is None else str(prefs.default_seed))


def install(window) -> Workbench:
    return Workbench(window)
