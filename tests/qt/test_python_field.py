"""The run definition's Python field: the objective runs in the user's own environment chosen in the window (a venv
with a package optgui's environment lacks), "Test objective" says whether it imports there before anything runs,
the choice is remembered per study, and a different Python on a later run is asked about first."""

from __future__ import annotations

import sys

import optuna
import pytest
from PySide6.QtCore import Qt

from optgui.core import records
from tests.support.user_env import HELPER_PACKAGE, make_user_env, other_python, plain_optuna_trials, stored_trials

SEED = 3
N_TRIALS = 6
STUDY = "bridge"


@pytest.fixture
def user_env(tmp_path):
    return make_user_env(tmp_path / "env")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "study.db"
    for name in (STUDY, "other"):
        optuna.create_study(storage=f"sqlite:///{path}", study_name=name)
    return path


def _type_python(qtbot, panel, text: str) -> None:
    """Type an interpreter's path into the field and press Enter, as a user does."""
    field = panel.python.lineEdit()
    field.selectAll()
    field.clear()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _test_objective(qtbot, panel) -> bool:
    qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.test_ok is not None, timeout=60000)
    return panel.test_ok


def _define(panel, env) -> None:
    panel.objective.setCurrentText(env.objective)
    panel.sampler.setText("TPESampler")
    panel.seed.setText(str(SEED))


def _run_to_the_end(qtbot, window, n_trials: int) -> None:
    panel = window.study_view.panel
    panel.n_trials.setValue(n_trials)
    button = panel.buttons["Resume"] if panel.resume_action.isEnabled() else panel.buttons["Start"]
    began = window.controller.started_at
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # (a check of the Python comes first, in the background)
    qtbot.waitUntil(lambda: window.controller.started_at != began and not window.controller.active, timeout=300000)
    assert window.controller.state == "completed", (window.controller.state, panel.notice.text())


def _metadata(db):
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    try:
        return records.read_metadata(storage, storage.get_study_id_from_name(STUDY))
    finally:
        storage.remove_session()


def test_a_run_in_the_chosen_venv_equals_plain_optuna(qtbot, make_window, dialog_log, user_env, db):
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _define(panel, user_env)
    assert panel.python_choice() is None  # optgui's own Python by default

    assert _test_objective(qtbot, panel) is False  # optgui's environment lacks the package
    assert f"No module named '{HELPER_PACKAGE}'" in panel.test_result.text()

    _type_python(qtbot, panel, user_env.python)
    assert panel.python_choice() == user_env.python
    qtbot.waitUntil(lambda: "no optuna" in panel.python_info.text(), timeout=60000)  # its versions, asked aside
    assert _test_objective(qtbot, panel) is True, panel.test_result.text()
    assert "imports" in panel.test_result.text()

    _run_to_the_end(qtbot, window, N_TRIALS)

    assert not dialog_log.errors, dialog_log.errors
    assert stored_trials(db, STUDY) == plain_optuna_trials(user_env, N_TRIALS, SEED)
    assert _metadata(db).run["environment"]["executable"] == user_env.python


def test_the_projects_venv_is_listed_with_its_versions_and_can_be_picked(qtbot, make_window, dialog_log, tmp_path, db):
    env = make_user_env(tmp_path / "env")
    venv = env.objective_file.parent / ".venv"
    (tmp_path / "env" / "user-venv").rename(venv)  # beside the objective, where a project keeps it
    python = str(venv / "bin" / "python")
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _define(panel, env)
    assert panel.python.findData(python) < 0  # nothing is looked for before the list is opened

    panel.python.showPopup()
    qtbot.waitUntil(
        lambda: panel.python.findData(python) >= 0 and "optuna" in panel.python.itemText(panel.python.findData(python)),
        timeout=60000,
    )
    index = panel.python.findData(python)
    assert panel.python.itemText(index).startswith("Python 3.") and "no optuna" in panel.python.itemText(index)
    own = panel.python.findData(sys.executable)
    assert own < 0 and panel.python.itemText(0) == "optgui's own Python"  # listed once, first
    assert panel.python.itemText(panel.python.count() - 1) == "Browse…"
    panel.python.hidePopup()
    panel.python.setCurrentIndex(index)
    panel.python.activated.emit(index)  # as a click on the entry
    assert panel.python_choice() == python
    assert _test_objective(qtbot, panel) is True, panel.test_result.text()


def test_browse_picks_an_interpreter_and_cancelling_keeps_the_choice(qtbot, make_window, dialog_log, user_env, db):
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    browse = panel.python.count() - 1
    dialog_log.open_file = user_env.python
    panel.python.setCurrentIndex(browse)
    panel.python.activated.emit(browse)
    assert panel.python_choice() == user_env.python
    dialog_log.open_file = None  # cancelled
    panel.python.setCurrentIndex(panel.python.count() - 1)
    panel.python.activated.emit(panel.python.count() - 1)
    assert panel.python_choice() == user_env.python
    assert window.settings.python_choice(str(db), STUDY) == user_env.python


def test_the_choice_is_remembered_per_study(qtbot, make_window, dialog_log, user_env, db):
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _type_python(qtbot, panel, user_env.python)

    assert window.study_list.select("other")
    assert window.study_view.session.name == "other"
    assert panel.python_choice() is None  # another study: its own choice (none made: optgui's own)
    assert window.study_list.select(STUDY)
    assert panel.python_choice() == user_env.python

    window.close()
    reopened = make_window()
    assert reopened.open_storage(str(db), STUDY)
    assert reopened.study_view.panel.python_choice() == user_env.python
    assert reopened.study_list.select("other")
    assert reopened.study_view.panel.python_choice() is None


def test_another_python_on_a_later_run_is_asked_about_and_recorded(
    qtbot, make_window, dialog_log, user_env, db, tmp_path
):
    second = make_user_env(tmp_path / "second")  # another venv, with the same package
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _define(panel, user_env)
    _type_python(qtbot, panel, user_env.python)
    _run_to_the_end(qtbot, window, N_TRIALS)
    asked_before = len(dialog_log.questions)

    _type_python(qtbot, panel, second.python)
    dialog_log.answers = [None]  # refused: nothing runs
    qtbot.mouseClick(panel.buttons["Start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialog_log.questions) > asked_before, timeout=20000)
    title, text = dialog_log.questions[-1]
    assert "another Python" in title
    assert user_env.python in text and second.python in text and "sampler" in text
    qtbot.waitUntil(lambda: "Not run" in panel.notice.text(), timeout=10000)
    assert not window.controller.active
    assert len(stored_trials(db, STUDY)) == N_TRIALS

    _run_to_the_end(qtbot, window, N_TRIALS + 4)  # accepted (the default answer)

    assert not dialog_log.errors, dialog_log.errors
    change = _metadata(db).segments[-1]["accepted"]["environment_changed"]
    assert change["recorded"]["executable"] == user_env.python
    assert change["now"]["executable"] == second.python
    # The sampler did not notice: the trials are plain Optuna's uninterrupted run.
    assert stored_trials(db, STUDY) == plain_optuna_trials(user_env, N_TRIALS + 4, SEED)


def test_a_missing_or_too_old_python_is_one_message_before_the_run(qtbot, make_window, dialog_log, user_env, db):
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _define(panel, user_env)
    pythons = [(str(user_env.objective_file.parent / "no-such-python"), "no such interpreter")]
    old = other_python("2.7") or other_python("3.8")
    if old is not None:
        pythons.append((old, "must be 3.9 or newer"))
    for python, message in pythons:
        _type_python(qtbot, panel, python)
        before = len(dialog_log.errors)
        qtbot.mouseClick(panel.buttons["Start"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(dialog_log.errors) > before, timeout=60000)  # noqa: B023
        title, text, details = dialog_log.errors[-1]
        assert message in text and python in text, text
        assert text.startswith(f"Python {python}") and "--python" not in text, text  # the field, not the option
        assert not details and "Traceback" not in text
        assert not window.controller.active
    assert _metadata(db).run is None  # nothing was written


def test_an_import_error_in_the_chosen_python_is_one_line_before_anything_is_written(
    qtbot, make_window, dialog_log, user_env, db
):
    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _define(panel, user_env)
    own = panel.python.itemText(0)
    _type_python(qtbot, panel, own)  # optgui's own Python, picked by its name
    assert panel.python_choice() is None
    _type_python(qtbot, panel, user_env.python)
    user_env.objective_file.write_text("import no_such_package_here\n\ndef objective(trial):\n    return 0.0\n")
    assert _test_objective(qtbot, panel) is False
    assert "No module named 'no_such_package_here'" in panel.test_result.text()
    qtbot.mouseClick(panel.buttons["Start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.state == "failed" and not window.controller.active, timeout=60000)
    notice = panel.notice.text()
    assert "No module named 'no_such_package_here'" in notice and "Traceback" not in notice, notice
    assert not dialog_log.errors  # (a failure with a traceback would open the details dialog)
    assert _metadata(db).run is None and not stored_trials(db, STUDY)


def test_opening_a_study_runs_no_interpreter_it_names(qtbot, make_window, dialog_log, user_env, db, tmp_path):
    """The run record names the objective's interpreter; opening the study shows it with the recorded versions and
    never starts it (a study file could name any program)."""
    from optgui.core.engine import RunRequest, StudyRunner

    request = RunRequest(
        storage=str(db),
        study_name=STUDY,
        objective=user_env.objective,
        sampler="RandomSampler(seed=1)",
        n_trials=1,
        python=user_env.python,
    )
    StudyRunner(request).run()  # (its objective's process ends with the run)
    marker = tmp_path / "program-ran"
    program = tmp_path / "not-a-python"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    sid = storage.get_study_id_from_name(STUDY)
    run = storage.get_study_system_attrs(sid)[records.KEY_RUN]
    environment = {"executable": str(program), "python": "3.12.1", "optuna": None, "distributions": 0}
    storage.set_study_system_attr(
        sid, records.KEY_RUN, {**run, "environment": {**environment, "distributions_sha256": ""}}
    )
    storage.remove_session()

    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    assert panel.python_choice() == str(program)
    assert panel.python_info.text().startswith("Python 3.12.1 · no optuna (as recorded)")
    assert not panel._describe_one.running and not panel._discovery.running
    assert not marker.exists()


def test_a_test_still_running_when_the_python_changes_reports_nothing(
    qtbot, qapp, make_window, dialog_log, user_env, db
):
    from optgui.qt.tasks.tasks import running_tasks

    window = make_window()
    assert window.open_storage(str(db), STUDY)
    panel = window.study_view.panel
    _define(panel, user_env)
    qtbot.mouseClick(panel.test_button, Qt.MouseButton.LeftButton)  # in optgui's own Python: it would fail
    assert not panel.test_button.isEnabled()
    _type_python(qtbot, panel, user_env.python)
    assert panel.test_button.isEnabled() and panel.test_ok is None
    qtbot.waitUntil(lambda: not any(t.name == "objective test" for t in running_tasks()), timeout=60000)
    qapp.processEvents()  # (what the dropped test could still deliver was posted before its work ended)
    assert panel.test_ok is None and not panel.test_result.isVisible()
    assert _test_objective(qtbot, panel) is True


def test_the_fleet_tab_runs_its_workers_in_the_chosen_python(qtbot, make_window, dialog_log, user_env, tmp_path):
    """Start fleet passes the run panel's Python to `optgui run --workers`; with none chosen, none is named (the
    workers then use the one the study recorded)."""
    journal = tmp_path / "fleet.log"
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    optuna.create_study(storage=JournalStorage(JournalFileBackend(str(journal))), study_name=STUDY)
    window = make_window()
    assert window.open_storage(str(journal), STUDY)
    view = window.study_view
    _define(view.panel, user_env)
    assert "--python" not in view.fleet.fleet_arguments()  # optgui's own: the study's recorded one is used
    _type_python(qtbot, view.panel, user_env.python)
    arguments = view.fleet.fleet_arguments()
    assert arguments[arguments.index("--python") + 1] == user_env.python
