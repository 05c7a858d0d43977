"""Notes and artifacts in the real window, on studies made by the real optuna-dashboard and optuna.artifacts: the
Notes tab, the details' Note and Artifacts tabs, the table's marker and count and their filters, and Edit / Save
(written only when Save is pressed, after the one-time question, readable by optuna-dashboard)."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.support.annotated import ARTIFACT_FILES, make_annotated_study

pytestmark = pytest.mark.needs("optuna_dashboard")


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _dashboard_note(storage: str, name: str, trial_number: int | None) -> str:
    import optuna
    from optuna_dashboard import get_note

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name=name, storage=f"sqlite:///{storage}")
        if trial_number is None:
            return get_note(study)
        return get_note(optuna.Trial(study, study.get_trials(deepcopy=False)[trial_number]._trial_id))


@pytest.fixture
def opened(qtbot, tmp_path, make_window):
    annotated = make_annotated_study(tmp_path)
    before = _digest(annotated.storage)
    window = make_window()
    assert window.open_storage(annotated.storage)
    workbench = window.workbench
    qtbot.waitUntil(lambda: window.study_view.session.annotations is not None, timeout=20000)
    window.study_view.tabs.setCurrentWidget(workbench.trials_page)
    assert workbench.ensure_loaded()
    return window, workbench, annotated, before


def test_notes_and_artifacts_show_and_opening_writes_nothing(qtbot, opened):
    window, workbench, annotated, before = opened
    notes = workbench.annotations
    assert "Study note" in notes.page.note.rendered.toPlainText()
    assert "optuna-dashboard" in notes.page.note.rendered.toPlainText()
    assert notes.page.note.rendered.toMarkdown().count("*") >= 2  # rendered, not shown as source
    assert [notes.page.artifacts.list.topLevelItem(0).text(c) for c in range(2)] == ["summary.txt", "text/plain"]
    model = workbench.table.model
    keys = [c.key for c in model.columns]
    assert "has_note" in keys and "artifacts" in keys
    window.study_view.selection.select(2)
    assert notes.trial_note.rendered.toPlainText().startswith("Long")
    assert workbench.details.left_tabs.tabText(1) == "Note ✎"
    window.study_view.selection.select(1)
    assert workbench.details.left_tabs.tabText(2) == f"Artifacts ({len(ARTIFACT_FILES)})"
    view = notes.trial_artifacts
    shown = {}
    for i in range(view.list.topLevelItemCount()):
        item = view.list.topLevelItem(i)
        view.list.setCurrentItem(item)
        shown[item.text(0)] = view.pages.currentWidget()
        assert item.text(2) not in ("missing", "no folder")
    assert shown["plot.png"] is view.image_area and not view.image.pixmap().isNull()
    assert shown["table.csv"] is view.table and view.table.rowCount() == 2
    assert view.table.horizontalHeaderItem(1).text() == "loss"
    assert shown["config.json"] is view.text
    assert shown["report.md"] is view.markdown
    assert shown["log.txt"] is view.text
    assert shown["weights.bin"] is view.message and "No preview" in view.message.text()
    # Editing and cancelling writes nothing either.
    notes.trial_note.begin_edit()
    notes.trial_note.editor.setPlainText("not saved")
    qtbot.mouseClick(notes.trial_note.cancel_button, Qt.MouseButton.LeftButton)
    assert _digest(annotated.storage) == before


def test_the_filter_tests_notes_and_artifact_counts(qtbot, opened):
    _window, workbench, _annotated, _before = opened
    table = workbench.table
    table.expression.setText("has_note")
    assert table.apply_expression()
    assert sorted(table.model.row_of(p) for p in range(table.model.rowCount())) == [0, 2]
    table.expression.setText("artifacts > 0")
    assert table.apply_expression()
    assert [table.model.row_of(p) for p in range(table.model.rowCount())] == [1]


def test_a_missing_artifact_file_is_shown_missing(qtbot, opened):
    window, workbench, annotated, _before = opened
    (annotated.store / annotated.artifact_ids["table.csv"]).unlink()
    window.study_view.selection.select(0)
    window.study_view.selection.select(1)
    view = workbench.annotations.trial_artifacts
    item = next(
        view.list.topLevelItem(i)
        for i in range(view.list.topLevelItemCount())
        if view.list.topLevelItem(i).text(0) == "table.csv"
    )
    assert item.text(2) == "missing"
    view.list.setCurrentItem(item)
    assert "missing" in view.message.text() and not view.open_button.isEnabled()


def test_save_asks_once_writes_the_dashboard_format_and_reads_back(qtbot, opened, dialog_log, monkeypatch):
    window, workbench, annotated, before = opened
    notes = workbench.annotations
    window.study_view.selection.select(3)
    notes.trial_note.begin_edit()
    notes.trial_note.editor.setPlainText("# From optgui\n\nsaved **here**")
    dialog_log.answers = [None]  # the user declines the first time: nothing is written
    qtbot.mouseClick(notes.trial_note.save_button, Qt.MouseButton.LeftButton)
    assert len(dialog_log.questions) == 1 and _digest(annotated.storage) == before
    assert notes.trial_note.editing  # the text is still there
    dialog_log.answers = [0]
    qtbot.mouseClick(notes.trial_note.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not notes.trial_note.editing, timeout=20000)
    qtbot.waitUntil(lambda: window.study_view.session.annotations.notes.for_trial(3) is not None, timeout=20000)
    assert _dashboard_note(annotated.storage, annotated.study_name, 3) == "# From optgui\n\nsaved **here**"
    assert "From optgui" in notes.trial_note.rendered.toPlainText()
    assert dialog_log.errors == []
    # The study's note: no second question for this file.
    window.study_view.tabs.setCurrentWidget(notes.page)
    notes.page.note.begin_edit()
    notes.page.note.editor.setPlainText("new study note")
    qtbot.mouseClick(notes.page.note.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.study_view.session.annotations.notes.study.version == 2, timeout=20000)
    assert len(dialog_log.questions) == 2
    assert _dashboard_note(annotated.storage, annotated.study_name, None) == "new study note"
    marks = window.study_view.session.store.note_mark[:4]
    assert np.flatnonzero(marks).tolist() == [0, 2, 3]


def test_a_note_saved_elsewhere_meanwhile_is_not_overwritten(qtbot, opened, dialog_log):
    import optuna
    from optuna_dashboard import save_note as dashboard_save_note

    window, workbench, annotated, _before = opened
    notes = workbench.annotations
    window.study_view.selection.select(0)
    notes.trial_note.begin_edit()
    notes.trial_note.editor.setPlainText("mine")
    study = optuna.load_study(study_name=annotated.study_name, storage=f"sqlite:///{annotated.storage}")
    dashboard_save_note(optuna.Trial(study, study.get_trials(deepcopy=False)[0]._trial_id), "theirs")
    dialog_log.answers = [0]
    qtbot.mouseClick(notes.trial_note.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=20000)
    assert "saved elsewhere" in dialog_log.errors[0][1]
    assert notes.trial_note.editing and notes.trial_note.editor.toPlainText() == "mine"
    assert _dashboard_note(annotated.storage, annotated.study_name, 0) == "theirs"


def test_the_editor_keeps_its_trial_when_another_is_selected(qtbot, opened, dialog_log):
    window, workbench, annotated, _before = opened
    notes = workbench.annotations
    window.study_view.selection.select(3)
    notes.trial_note.begin_edit()
    notes.trial_note.editor.setPlainText("for trial 3")
    window.study_view.selection.select(1)  # the details move on; the editor stays with trial 3
    assert notes.trial_note.editing and "trial 3" in notes.trial_note.title.text()
    dialog_log.answers = [0]
    qtbot.mouseClick(notes.trial_note.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not notes.trial_note.editing, timeout=20000)
    assert _dashboard_note(annotated.storage, annotated.study_name, 3) == "for trial 3"
    assert _dashboard_note(annotated.storage, annotated.study_name, 1) == ""


def test_malformed_records_are_listed_and_hide_nothing(qtbot, tmp_path, make_window):
    import optuna

    annotated = make_annotated_study(tmp_path)
    storage = optuna.storages.RDBStorage(f"sqlite:///{annotated.storage}")
    study_id = storage.get_study_id_from_name(annotated.study_name)
    trial_ids = [t._trial_id for t in storage.get_all_trials(study_id)]
    storage.set_study_system_attr(study_id, f"dashboard:{trial_ids[3]}:note_ver", "seven")
    storage.set_study_system_attr(study_id, f"dashboard:{trial_ids[3]}:note_str:0", "still shown")
    storage.engine.dispose()
    window = make_window()
    assert window.open_storage(annotated.storage)
    qtbot.waitUntil(lambda: window.study_view.session.annotations is not None, timeout=20000)
    notes = window.workbench.annotations
    assert not notes.page.note.problems.isHidden()
    assert "trial 3" in notes.page.note.problems.text() and "not an integer" in notes.page.note.problems.text()
    assert "Study note" in notes.page.note.rendered.toPlainText()
    window.study_view.selection.select(3)
    assert notes.trial_note.rendered.toPlainText() == "still shown"
    assert not notes.trial_note.problem.isHidden()
    window.study_view.selection.select(2)
    assert notes.trial_note.rendered.toPlainText().startswith("Long") and notes.trial_note.problem.isHidden()


def test_save_a_copy_and_a_chosen_artifact_folder_is_remembered(qtbot, opened, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from optgui.qt import dialogs
    from optgui.qt.settings import Settings

    window, workbench, annotated, _before = opened
    notes = workbench.annotations
    window.study_view.selection.select(1)
    view = notes.trial_artifacts
    item = next(
        view.list.topLevelItem(i)
        for i in range(view.list.topLevelItemCount())
        if view.list.topLevelItem(i).text(0) == "config.json"
    )
    view.list.setCurrentItem(item)
    target = tmp_path / "copied.json"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(target))
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert target.read_bytes() == ARTIFACT_FILES["config.json"]
    # Another folder (a copy of the store elsewhere), chosen once and remembered for the study.
    moved = tmp_path / "elsewhere"
    annotated.store.rename(moved)
    window.study_view.selection.select(0)
    window.study_view.selection.select(1)
    assert {view.list.topLevelItem(i).text(2) for i in range(view.list.topLevelItemCount())} == {"no folder"}
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(moved))
    qtbot.mouseClick(view.folder_button, Qt.MouseButton.LeftButton)
    sizes = {view.list.topLevelItem(i).text(2) for i in range(view.list.topLevelItemCount())}
    assert "missing" not in sizes and "no folder" not in sizes
    assert Settings().artifact_store(annotated.storage, annotated.study_name) == str(moved)
    expected = sorted([*annotated.artifact_ids.values(), annotated.study_artifact_id])
    assert sorted(p.name for p in moved.iterdir()) == expected  # nothing was written into the folder
