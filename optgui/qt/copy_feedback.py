"""Copy buttons: put text on the clipboard and say so on the button for a moment ("Copied ✓"), so a click that
changes nothing visible is not mistaken for one that did nothing."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton

COPIED_TEXT = "Copied ✓"
COPIED_MS = 1500  # long enough to be read, short enough not to linger on a button clicked again


def copy_with_feedback(button: QAbstractButton, text: str) -> None:
    QGuiApplication.clipboard().setText(text)
    label = button.property("copyLabel") or button.text()
    button.setProperty("copyLabel", label)  # the label to restore, kept over repeated clicks
    button.setText(COPIED_TEXT)
    QTimer.singleShot(COPIED_MS, button, lambda: button.setText(button.property("copyLabel")))
