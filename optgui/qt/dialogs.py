"""Every modal question and message goes through these functions, so that tests can answer them (monkeypatch)
instead of blocking on exec()."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

STUDY_FILE_FILTER = "Optuna studies (*.db *.sqlite *.sqlite3 *.log *.jsonl);;All files (*)"


def error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def info(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def choose(parent: QWidget | None, title: str, text: str, choices: list[str], default: int = 0) -> int | None:
    """Ask the user to pick one of `choices` (button labels). Returns its index, or None when cancelled."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    buttons = [box.addButton(label, QMessageBox.ButtonRole.AcceptRole) for label in choices]
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(buttons[default])
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return buttons.index(clicked) if clicked in buttons else None


def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    return choose(parent, title, text, [action]) == 0


def open_file(parent: QWidget | None, title: str = "Open study", file_filter: str = STUDY_FILE_FILTER) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, "", file_filter)
    return path or None


def open_folder(parent: QWidget | None, title: str = "Open folder of studies") -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title)
    return path or None


def save_file(
    parent: QWidget | None,
    title: str,
    start: str = "",
    file_filter: str = STUDY_FILE_FILTER,
    confirm_overwrite: bool = False,
) -> str | None:
    options = QFileDialog.Option(0) if confirm_overwrite else QFileDialog.Option.DontConfirmOverwrite
    path, _ = QFileDialog.getSaveFileName(parent, title, start, file_filter, options=options)
    return path or None


def text(parent: QWidget | None, title: str, label: str, value: str = "", password: bool = False) -> str | None:
    mode = QLineEdit.EchoMode.Password if password else QLineEdit.EchoMode.Normal
    result, ok = QInputDialog.getText(parent, title, label, mode, value)
    return result if ok and result else None


def run_dialog(dialog) -> bool:
    """exec() a dialog object (New study, verdict…); tests replace this to fill it in and accept."""
    return bool(dialog.exec())
