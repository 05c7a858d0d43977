"""A study made by plain Optuna is verified from the GUI by naming its sampler in the verdict dialog (as `optgui
verify --spec` does); both badges show the verdict, and the study keeps it (and the spec) when shown again
(issue 18, item 7). A version-change note of a verdict is explained in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from optgui.qt.verify.badge import VerdictDialog
from optgui.qt.verify.verification import BadgeState
from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", -1, 1) ** 2


def _verify_in_dialog(qtbot, window, dialog_log, spec: str) -> None:
    seen = []

    def fill(dialog):
        seen.append(dialog)
        assert dialog.spec_field is not None, "the dialog offers no sampler field for a plain study"
        dialog.spec_field.setText(spec)
        qtbot.mouseClick(dialog.spec_button, Qt.MouseButton.LeftButton)
        return True

    dialog_log.dialog_hook = fill
    window.study_view.show_verdict()
    assert seen


def test_a_plain_study_is_verified_with_the_sampler_named_in_the_dialog(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "plain.db", trials=12, objective=_objective, seed=5)
    plain_study(db, name="other", trials=3, objective=_objective, seed=1)
    window = make_window()
    assert window.open_storage(str(db), "det")
    view = window.study_view
    assert view.badge.state.kind == "unverifiable"
    _verify_in_dialog(qtbot, window, dialog_log, "RandomSampler(seed=5)")
    qtbot.waitUntil(lambda: view.badge.state.kind == "verified", timeout=60000)
    assert view.badge.state.checked == 12
    assert window.status_badge.state == view.badge.state == view.session.verification
    # Shown again after another study, it keeps its verdict and its spec.
    assert window.study_list.select("other")
    assert window.status_badge.state.kind == "unverifiable"
    assert window.study_list.select("det")
    qtbot.waitUntil(lambda: view.badge.state.kind == "verified", timeout=60000)
    assert window.status_badge.state == view.badge.state
    assert view.session.verify_spec == "RandomSampler(seed=5)"


def test_a_wrong_seed_named_in_the_dialog_diverges(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "plain.db", trials=6, objective=_objective, seed=5)
    window = make_window()
    assert window.open_storage(str(db), "det")
    _verify_in_dialog(qtbot, window, dialog_log, "RandomSampler(seed=6)")
    view = window.study_view
    qtbot.waitUntil(lambda: view.badge.state.kind == "diverged", timeout=60000)
    assert window.status_badge.state == view.badge.state


def test_a_sampler_the_dialog_cannot_read_is_one_error(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "plain.db", trials=2, objective=_objective)
    window = make_window()
    assert window.open_storage(str(db), "det")
    _verify_in_dialog(qtbot, window, dialog_log, "NoSuchSampler(")
    assert len(dialog_log.errors) == 1
    assert window.study_view.session.verify_spec is None


def test_a_version_change_note_is_explained(qtbot):
    checks = [{"segment": 1, "trial": 40, "change": "numpy 2.3.0 -> 2.4.6", "status": "diverged", "note": ""}]
    verdict = {"n_total": 80, "json": {"version_checks": checks}}
    state = BadgeState("verified", "Sampler replay verified 80/80 · version change: replay differs", 80, 80, verdict)
    dialog = VerdictDialog(state, "det")
    qtbot.addWidget(dialog)
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "numpy 2.3.0 -> 2.4.6 at trial 40" in shown
    assert "replayable only" in shown and "bit for bit" in shown
