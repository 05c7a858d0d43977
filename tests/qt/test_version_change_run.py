"""Resuming in the window after a package the sampler uses changed: no refusal, the run panel says the change is
being checked, and the badge ends equivalent with the change checked. A package the sampler does not use (scipy,
cmaes next to the demo's TPE) is not mentioned at all."""

from __future__ import annotations

import numpy as np
import optuna
from PySide6.QtCore import Qt

from optgui.core import records
from optgui.core.engine._runner import RunRequest, StudyRunner
from tests.support.determinism import recorded, reference

SAMPLER = "TPESampler(seed=42)"
OBJECTIVE = "builtin:quadratic"
STUDY = "demo"


def _paused_study(path, n_trials: int, **versions) -> None:
    request = RunRequest(storage=str(path), study_name=STUDY, objective=OBJECTIVE, sampler=SAMPLER, n_trials=n_trials)
    StudyRunner(request).run()
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    sid = storage.get_study_id_from_name(STUDY)
    for key, value in storage.get_study_system_attrs(sid).items():
        if key.startswith(records.KEY_SEGMENT) or key == records.KEY_RUN:
            storage.set_study_system_attr(sid, key, {**value, "versions": {**value["versions"], **versions}})
    storage.remove_session()


def _resume_to(qtbot, window, path, n_trials: int):
    assert window.open_storage(str(path), STUDY)
    view = window.study_view
    panel = view.panel
    panel.n_trials.setValue(n_trials)
    button = panel.buttons["Resume"] if panel.resume_action.isEnabled() else panel.buttons["Start"]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.state == "completed" and not window.controller.active, timeout=180000)
    qtbot.waitUntil(lambda: view.badge.state.kind in ("verified", "diverged", "unverifiable"), timeout=180000)
    return view


def test_a_changed_numpy_is_checked_not_refused(qtbot, tmp_path, make_window, dialog_log):
    path = tmp_path / "demo.db"
    _paused_study(path, 8, numpy="1.26.4")
    window = make_window()

    view = _resume_to(qtbot, window, path, 16)

    assert not dialog_log.errors, dialog_log.errors
    assert view.data.counts()["COMPLETE"] == 16
    assert f"version change: checking — numpy 1.26.4 -> {np.__version__}" in view.panel.notice.text()
    assert view.badge.state.text.startswith(
        "Sampler replay verified 16/16 · equivalent to an uninterrupted run · version change checked"
    ), view.badge.state.text
    assert recorded(str(path), study_name=STUDY) == reference(SAMPLER, OBJECTIVE, 16, study_name=STUDY)


def test_the_demo_recorded_before_installing_scipy_and_cmaes_just_resumes(qtbot, tmp_path, make_window, dialog_log):
    path = tmp_path / "demo.db"
    _paused_study(path, 8, scipy=None, cmaes=None)
    window = make_window()

    view = _resume_to(qtbot, window, path, 16)

    assert not dialog_log.errors, dialog_log.errors
    assert "version" not in view.panel.notice.text()
    assert view.badge.state.text.startswith("Sampler replay verified 16/16 · equivalent to an uninterrupted run")
    assert "version change" not in view.badge.state.text
