"""Copy buttons say "Copied ✓" for a moment, then show their label again (issue 18, item 8: a Copy click showed
nothing)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from optgui.qt.copy_feedback import COPIED_MS, COPIED_TEXT
from optgui.qt.window.about import AboutDialog
from tests.support.studies import plain_study


def _objective(trial):
    return (trial.suggest_float("x", -1, 1) - 0.25) ** 2


def test_the_about_copy_button_says_copied_then_returns(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == dialog.text.toPlainText()
    assert dialog.copy_button.text() == COPIED_TEXT
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)  # a second click keeps the real label
    qtbot.waitUntil(lambda: dialog.copy_button.text() == "Copy", timeout=COPIED_MS * 3)


def test_the_best_params_copy_buttons_say_copied(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", trials=5, objective=_objective)
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    bench.show_tab(bench.best)
    button = bench.best.copy_json
    label = button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "x" in json.loads(QGuiApplication.clipboard().text())
    assert button.text() == COPIED_TEXT
    qtbot.waitUntil(lambda: button.text() == label, timeout=COPIED_MS * 3)
