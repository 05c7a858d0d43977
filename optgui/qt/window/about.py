"""Help ▸ About: what this is and the versions of everything that matters, with a Copy button."""

from __future__ import annotations

import platform
import sys

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

import optgui
from optgui.qt.copy_feedback import copy_with_feedback


def versions_text() -> str:
    import numpy
    import optuna
    import pyqtgraph
    import PySide6

    lines = [
        f"optgui {optgui.__version__}",
        f"Optuna {optuna.__version__}",
        f"PySide6 {PySide6.__version__} (Qt {qVersion()})",
        f"pyqtgraph {pyqtgraph.__version__}",
        f"numpy {numpy.__version__}",
        f"Python {platform.python_version()} ({sys.implementation.name})",
        f"Platform {platform.platform()}",
    ]
    return "\n".join(lines)


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About optgui")
        layout = QVBoxLayout(self)
        from optgui.qt.icons import app_icon  # packaging: the application icon above the title

        self.icon = QLabel()
        self.icon.setPixmap(app_icon().pixmap(64, 64))
        layout.addWidget(self.icon)
        title = QLabel(
            f"<h2>optgui {optgui.__version__}</h2>"
            "<p>A desktop application for Optuna studies: open them read-only, run them with "
            "pause and resume, and verify that the result equals an uninterrupted run.</p>"
        )
        title.setWordWrap(True)
        layout.addWidget(title)
        self.text = QPlainTextEdit(versions_text())
        self.text.setReadOnly(True)
        self.text.setMinimumSize(460, 150)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the versions to the clipboard (for bug reports)")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: copy_with_feedback(self.copy_button, self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
