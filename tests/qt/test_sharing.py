"""Sharing through the real window: Reproduce… and Copy as script on a trial (the trials table's context menu and
the details pane) write a script that prints the trial's recorded value; Study ▸ Export recipe… writes the
study's recipe, and Study ▸ New study from recipe… creates a study from it that opens selected, its run
definition the recipe's (another seed: a recorded replicate)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import optuna
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from optgui.core.engine import RunRequest, StudyRunner
from optgui.qt import dialogs
from tests.support.trust import cli_env


@pytest.fixture
def study_db(tmp_path):
    path = tmp_path / "s.db"
    request = RunRequest(str(path), "bowl", objective="builtin:mixed", sampler="TPESampler", seed=7, n_trials=6)
    assert StudyRunner(request).run().reason == "completed"
    return path


def _values(path, name="bowl"):
    return [t.values for t in optuna.load_study(study_name=name, storage=f"sqlite:///{path}").trials]


def _run_script(path) -> str:
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()[-1]


def _open_trials(window, qtbot, path):
    assert window.open_storage(str(path), "bowl")
    workbench = window.workbench
    workbench.show_tab(workbench.trials_page)
    qtbot.waitUntil(lambda: workbench.loaded and workbench.table.model.rowCount() == 6, timeout=20000)
    return workbench


def test_reproduce_from_the_table_menu_and_the_details_pane(qtbot, make_window, monkeypatch, study_db, tmp_path):
    window = make_window()
    workbench = _open_trials(window, qtbot, study_db)
    table = workbench.table
    out = tmp_path / "trial3.py"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(out))

    # The context menu of the row of trial 3 offers Reproduce… and Copy as script.
    table.select_trial(3)
    rect = table.view.visualRect(table.model.index(table.model.position_of(3), 0))
    menu = workbench.sharing.trial_menu_at(rect.center())
    assert [a.text() for a in menu.actions()] == ["Reproduce trial 3…", "Copy as script"]
    menu.actions()[0].trigger()
    qtbot.waitUntil(out.exists, timeout=20000)
    assert _run_script(out) == repr(_values(study_db)[3][0])
    assert "trial 3" in window.statusBar().currentMessage()

    # The details pane: Copy as script puts the script of the shown trial on the clipboard, with feedback.
    table.select_trial(5)
    qtbot.waitUntil(lambda: workbench.details.number == 5)
    sharing = workbench.sharing
    assert sharing.copy_button.isVisible() and sharing.reproduce_button.isVisible()
    QGuiApplication.clipboard().setText("")
    qtbot.mouseClick(sharing.copy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text().startswith("#!/usr/bin/env python3"), timeout=20000)
    assert sharing.copy_button.text() == "Copied ✓"
    copied = tmp_path / "copied.py"
    copied.write_text(QGuiApplication.clipboard().text())
    assert _run_script(copied) == repr(_values(study_db)[5][0])


def test_recipe_export_and_new_study_from_it(qtbot, make_window, monkeypatch, dialog_log, study_db, tmp_path):
    window = make_window()
    _open_trials(window, qtbot, study_db)
    recipe = tmp_path / "bowl.toml"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(recipe))
    window.workbench.sharing.export_recipe_action.trigger()
    qtbot.waitUntil(recipe.exists, timeout=20000)
    data = tomllib.loads(recipe.read_text())
    assert data["sampler"]["seed"] == 7 and data["objective"]["ref"] == "builtin:mixed"

    # New study from recipe: into a new file, with another seed (a replicate).
    target = tmp_path / "again.db"
    dialog_log.open_file = str(recipe)
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(target))
    answers = iter(["bowl-rep", "8"])
    monkeypatch.setattr(dialogs, "text", lambda *a, **k: next(answers))
    window.workbench.sharing.new_from_recipe_action.trigger()
    assert dialog_log.errors == []
    assert window.study_view.summary.name == "bowl-rep"
    view = window.study_list.table
    assert view.model().data(view.currentIndex()) == "bowl-rep"
    panel = window.study_view.panel
    assert panel.objective.currentText() == "builtin:mixed"
    assert panel.seed.text() == "8"
    definition = window.study_view.session.definition()
    assert definition.recorded and definition.record["recipe"]["replicate"] is True
    assert definition.n_trials == 6
    window.grab().save(str(tmp_path / "recipe.png"))
