"""The "New study from these trials…" action: a warm start from the trials selected in the trials table (its
context menu and the Study menu). The new study gets the trials that fit (optgui.core.engine's warm start:
COMPLETE and PRUNED, one distribution per parameter) and opens with the run definition of their study."""

from __future__ import annotations

import traceback
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from optgui.core.engine import HistoryPlan, plan_history, start_from_history
from optgui.core.errors import OptguiError
from optgui.core.storage import StudyRef
from optgui.qt import dialogs
from optgui.qt.tasks.background import run_with_progress

TITLE = "New study from these trials"
SKIPPED_SHOWN = 12  # reasons listed in the message; the rest are counted


class WarmStartMenu(QObject):
    """Installs the action on the workbench's trials table and Study menu."""

    def __init__(self, workbench: Any):
        super().__init__(workbench)
        self.workbench = workbench
        self.window = workbench.window
        self.action = QAction("New study from these trials…", self.window)
        self.action.setStatusTip("Start a new study in this storage from the selected trials (a warm start)")
        self.action.triggered.connect(lambda: self.new_study())
        workbench.study_menu.addSeparator()
        workbench.study_menu.addAction(self.action)
        view = workbench.table.view
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)

    def _context_menu(self, pos: Any) -> None:
        menu = QMenu(self.workbench.table)
        menu.addAction(self.action)
        self.action.setEnabled(bool(self.workbench.table.selected_trials()))
        menu.exec(self.workbench.table.view.viewport().mapToGlobal(pos))
        self.action.setEnabled(True)

    def new_study(self, name: str | None = None) -> str | None:
        """Ask for the new study's name (unless given), copy the selected trials into it and open it. Returns the
        new study's name, or None when nothing was made."""
        view = self.window.study_view
        numbers = sorted(self.workbench.table.selected_trials())
        if view.summary is None or not numbers:
            dialogs.error(self.window, TITLE, "Select the trials to start from in the Trials table first.")
            return None
        if self.window.controller.active:
            dialogs.error(self.window, TITLE, "Stop or pause the run first.")
            return None
        source, storage = view.summary.name, view.storage
        name = name or dialogs.text(
            self.window, TITLE, f"Name of the new study ({len(numbers)} trials of {source!r}):", f"{source}-warm"
        )
        if not name:
            return None
        definition = view.session.definition()
        ref = StudyRef(f"{source}@{len(numbers)} selected", storage, source, tuple(numbers))
        try:
            plan: HistoryPlan = run_with_progress(
                self.window,
                TITLE,
                f"Copying {len(numbers)} trials of {source!r} into {name!r}",
                lambda _progress, _cancelled: _copy(storage, name, ref, view.summary.directions),
            )
        except OptguiError as exc:
            dialogs.error(self.window, TITLE, str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - a storage may fail in any way; the user gets one dialog
            dialogs.error(self.window, TITLE, f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
            return None
        if plan.skipped:
            dialogs.info(self.window, TITLE, _skipped_text(plan))
        if self.window.open_storage(storage, name):
            _prefill(self.window.study_view.panel, definition)
        return name


def _copy(storage: str, name: str, ref: StudyRef, directions: tuple[str, ...]) -> HistoryPlan:
    plan = plan_history([ref], directions)
    if not plan.trials:
        raise OptguiError("None of the selected trials can be copied:\n" + _reasons(plan))
    start_from_history(storage, name, plan, create_storage=False)
    return plan


def _reasons(plan: HistoryPlan) -> str:
    lines = [s.describe() for s in plan.skipped[:SKIPPED_SHOWN]]
    if len(plan.skipped) > SKIPPED_SHOWN:
        lines.append(f"… and {len(plan.skipped) - SKIPPED_SHOWN} more")
    return "\n".join(lines)


def _skipped_text(plan: HistoryPlan) -> str:
    return f"{len(plan.trials)} trials copied; {sum(s.count for s in plan.skipped)} not copied:\n\n{_reasons(plan)}"


def _prefill(panel: Any, definition: Any) -> None:
    """The run definition of the study the trials came from (the user may still change it before Start)."""
    if panel.defined:
        return
    if definition.objective:
        panel.objective.setCurrentText(definition.objective)
    if definition.sampler:
        panel.sampler.setText(definition.sampler)
    if definition.pruner:
        panel.pruner.setText(definition.pruner)
    panel.seed.setText(definition.seed)
