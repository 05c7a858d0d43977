"""Sharing a study: Reproduce… / Copy as script on a trial (the trials table's context menu and the details pane),
and Study ▸ Export recipe… / New from recipe….

The script and the recipe are built by optgui.core.share from a read-only read of the study, in a background task
(a study of 100k trials takes a second to read); the new study from a recipe is created through the engine, as
File ▸ New study does, then opened and selected, its run definition the recorded one.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QPushButton

from optgui.core.engine import StudyRunner
from optgui.core.errors import OptguiError
from optgui.core.share import RecipeOptions, read_recipe, recipe_request, reproduce_trial, write_recipe
from optgui.core.storage import parse_storage
from optgui.qt import dialogs
from optgui.qt.copy_feedback import copy_with_feedback
from optgui.qt.tasks.tasks import TaskError, TaskSlot

SCRIPT_FILTER = "Python scripts (*.py)"
RECIPE_FILTER = "optgui recipes (*.toml);;All files (*)"


class Sharing(QObject):
    """The sharing actions of one window's workbench."""

    def __init__(self, workbench: Any) -> None:
        super().__init__(workbench)
        self.workbench = workbench
        self.window = workbench.window
        self.view = workbench.view
        self.slot = TaskSlot(self, "share")
        table = workbench.table.view
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._table_menu)
        details = workbench.details
        self.reproduce_button = QPushButton("Reproduce…")
        self.reproduce_button.setToolTip("Write a Python script that re-runs this trial with exactly its parameters")
        self.reproduce_button.clicked.connect(lambda: self.reproduce(details.number))
        self.copy_button = QPushButton("Copy as script")
        self.copy_button.setToolTip("Put that script on the clipboard")
        self.copy_button.clicked.connect(lambda: self.copy_script(details.number, self.copy_button))
        for button in (self.reproduce_button, self.copy_button):
            details.header_row.addWidget(button)
        menu = workbench.study_menu
        menu.addSeparator()
        self.export_recipe_action = self._add(
            menu, "Export r&ecipe…", self.export_recipe, "A TOML file with everything that defines this study's run"
        )
        self.new_from_recipe_action = self._add(
            menu,
            "&New study from recipe…",
            self.new_from_recipe,
            "Create a study from a recipe (another seed: a replicate)",
        )
        menu.aboutToShow.connect(self._update_actions)
        self.view.opened.connect(self._update_actions)  # (shortcuts and tests trigger without the menu shown)
        self.window.controller.state_changed.connect(lambda *_: self._update_actions())
        self._update_actions()

    def _add(self, menu: QMenu, text: str, slot: Callable[[], object], tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda: slot())
        menu.addAction(action)
        return action

    def _update_actions(self) -> None:
        self.export_recipe_action.setEnabled(self.view.summary is not None and self.window.reader is not None)
        self.new_from_recipe_action.setEnabled(not self.window.controller.active)

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10000)

    def _folder(self) -> Path:
        ref = parse_storage(self.view.storage) if self.view.storage else None
        return ref.path.parent if ref is not None and ref.path is not None else Path.home()

    # --- a trial as a script --------------------------------------------------------------------------------
    def _table_menu(self, pos: QPoint) -> None:
        menu = self.trial_menu_at(pos)
        if menu is not None:
            menu.exec(self.workbench.table.view.viewport().mapToGlobal(pos))

    def trial_menu_at(self, pos: QPoint) -> QMenu | None:
        """The context menu of the trials table's row at `pos` (viewport coordinates); None off the rows."""
        table = self.workbench.table
        index = table.view.indexAt(pos)
        if not index.isValid():
            return None
        number = table.model.row_of(index.row())
        menu = QMenu(table.view)
        menu.addAction(f"Reproduce trial {number}…", lambda: self.reproduce(number))
        menu.addAction("Copy as script", lambda: self.copy_script(number))
        return menu

    def _build_script(self, number: int, done: Callable[[str], None]) -> None:
        storage, study = self.view.storage, self.view.summary.name
        self.slot.start(
            lambda _state: reproduce_trial(storage, study, number),
            name=f"reproduce trial {number}",
            returned=done,
            errored=lambda error: self._failed("Cannot reproduce the trial", error),
        )

    def reproduce(self, number: int | None) -> None:
        """Reproduce…: ask where, then write the script of trial `number` there."""
        if number is None or self.view.summary is None:
            return
        default = self._folder() / f"{self.view.summary.name}-trial-{number}.py"
        path = dialogs.save_file(
            self.window, f"Reproduce trial {number}: save the script", str(default), SCRIPT_FILTER, True
        )
        if not path:
            return
        self._build_script(number, lambda script: self._write_script(Path(path), script, number))

    def _write_script(self, path: Path, script: str, number: int) -> None:
        try:
            path.write_text(script, encoding="utf-8")
        except OSError as exc:
            dialogs.error(self.window, "Cannot write the script", f"Cannot write {path}: {exc.strerror or exc}")
            return
        self._status(f"Wrote {path}: python {path.name} re-runs trial {number} and prints its value")

    def copy_script(self, number: int | None, button: QPushButton | None = None) -> None:
        """Copy as script: the script of trial `number` on the clipboard (with the button's feedback)."""
        if number is None or self.view.summary is None:
            return

        def copied(script: str) -> None:
            if button is not None:
                copy_with_feedback(button, script)
            else:
                QGuiApplication.clipboard().setText(script)
            self._status(f"Copied the script that re-runs trial {number}")

        self._build_script(number, copied)

    def _failed(self, title: str, error: TaskError) -> None:
        if isinstance(error.exception, OptguiError):
            dialogs.error(self.window, title, str(error.exception))
        else:
            dialogs.error(self.window, title, error.message, error.details)

    # --- a study as a recipe --------------------------------------------------------------------------------
    def export_recipe(self) -> None:
        if self.view.summary is None:
            return
        study, storage = self.view.summary.name, self.view.storage
        default = self._folder() / f"{study}-recipe.toml"
        path = dialogs.save_file(self.window, "Export recipe", str(default), RECIPE_FILTER, True)
        if not path:
            return

        def write(text: str) -> None:
            try:
                Path(path).write_text(text, encoding="utf-8")
            except OSError as exc:
                dialogs.error(self.window, "Cannot write the recipe", f"Cannot write {path}: {exc.strerror or exc}")
                return
            self._status(f"Wrote the recipe of {study!r} to {path}")

        self.slot.start(
            lambda _state: write_recipe(storage, study),
            name=f"recipe {study}",
            returned=write,
            errored=lambda error: self._failed("Cannot export the recipe", error),
        )

    def new_from_recipe(self) -> str | None:
        """New study from recipe…: the recipe, the study file, the name and the seed; returns the new study's name."""
        path = dialogs.open_file(self.window, "New study from recipe", RECIPE_FILTER)
        if not path:
            return None
        try:
            recipe = read_recipe(path)
        except OptguiError as exc:
            dialogs.error(self.window, "Cannot read the recipe", str(exc))
            return None
        start = self.view.storage if self.view.storage and Path(self.view.storage).exists() else ""
        storage = dialogs.save_file(self.window, "New study from recipe: the study file", start or str(self._folder()))
        if not storage:
            return None
        source = recipe.source.get("study") or "study"
        name = dialogs.text(self.window, "New study from recipe", "Name of the new study:", f"{source}-again")
        if not name:
            return None
        seed = self._ask_seed(recipe.seed)
        if seed is False:
            return None
        return self._create(recipe, path, storage, name, seed if isinstance(seed, int) else None)

    def _ask_seed(self, recorded: int | None) -> int | None | bool:
        """The seed: the recipe's (an exact re-run) or another (a replicate). False: cancelled or not a number."""
        text = dialogs.text(
            self.window,
            "New study from recipe",
            "Sampler seed (keep the recipe's for an exact re-run; another makes a replicate):",
            "" if recorded is None else str(recorded),
        )
        if text is None:
            return False
        try:
            return int(text)
        except ValueError:
            dialogs.error(self.window, "Not a seed", f"{text!r} is not an integer")
            return False

    def _create(self, recipe: Any, path: str, storage: str, name: str, seed: int | None) -> str | None:
        options = RecipeOptions(seed=seed)
        try:
            try:
                request, notes = recipe_request(recipe, storage, name, options, recipe_file=path)
            except OptguiError as exc:
                if "--accept-objective-change" not in str(exc) or not dialogs.confirm(
                    self.window, "The recipe's objective changed", f"{exc}\n\nCreate the study anyway?", "Create"
                ):
                    raise
                options = RecipeOptions(seed=seed, accept_objective_change=True)
                request, notes = recipe_request(recipe, storage, name, options, recipe_file=path)
            if notes and not dialogs.confirm(self.window, "New study from recipe", "\n\n".join(notes), "Create"):
                return None
            StudyRunner(request).create()
        except OptguiError as exc:
            dialogs.error(self.window, "Cannot create the study", str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - whatever a recipe from anywhere breaks below
            dialogs.error(
                self.window, "Cannot create the study", f"{exc.__class__.__name__}: {exc}", traceback.format_exc()
            )
            return None
        self.window.open_storage(storage, name)
        return name
