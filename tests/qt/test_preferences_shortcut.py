"""Ctrl+, opens Preferences, as the docs say (issue 18, item 8: the shortcut was documented but absent on Linux,
where QKeySequence.StandardKey.Preferences is empty)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from optgui.qt.window.preferences import PreferencesDialog


def test_ctrl_comma_is_the_preferences_shortcut_of_the_window(qtbot, make_window, dialog_log):
    opened = []
    dialog_log.dialog_hook = lambda dialog: opened.append(dialog) or False
    window = make_window()
    action = window.workbench.preferences_action
    pressed = QKeySequence(Qt.KeyboardModifier.ControlModifier | Qt.Key.Key_Comma)
    assert action.shortcut().matches(pressed) == QKeySequence.SequenceMatch.ExactMatch
    assert action.shortcutContext() == Qt.ShortcutContext.WindowShortcut and action.parent() is window
    assert action.menu() is None and action.associatedObjects()  # reachable from the window's menu bar
    action.trigger()  # what the shortcut does
    assert [type(d) for d in opened] == [PreferencesDialog]
