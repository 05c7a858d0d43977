"""One optuna-dashboard note (the study's or a trial's): rendered Markdown, and an explicit Edit / Save.

Showing a note never writes anything; only Save asks for a write (`save_requested`), which the owner checks and
carries out (optgui.qt.workbench.annotations). While the user edits, updates of the shown note do not replace the
text being typed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from optgui.core.annotations import Note
from optgui.qt import theme

EMPTY_TEXT = "*No note yet.* Press **Edit** to write one (Markdown); optuna-dashboard shows it too."


class NoteView(QWidget):
    # (body, the version the edit started from); `subject` says whose note it is
    save_requested = Signal(str, int)

    def __init__(self, what: str = "study", parent: QWidget | None = None):
        super().__init__(parent)
        self.what = what  # "study" or "trial": for the texts
        self.note: Note | None = None
        self.subject: int | None = None  # the trial number whose note this is (None: the study's), kept while editing
        self.version = 0
        self.writable = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.title = QLabel("Note")
        self.title.setObjectName("sectionTitle")
        bar.addWidget(self.title, 1)
        self.edit_button = QPushButton("Edit")
        self.edit_button.setToolTip("Edit this note (Markdown); nothing is written until you press Save")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Write the note into the study, in optuna-dashboard's format")
        self.cancel_button = QPushButton("Cancel")
        for button in (self.edit_button, self.save_button, self.cancel_button):
            bar.addWidget(button)
        layout.addLayout(bar)
        self.problem = QLabel()
        self.problem.setObjectName("errorTitle")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        self.problems = QLabel()  # the study page lists every malformed record of the study here
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        layout.addWidget(self.problems)
        self.pages = QStackedWidget()
        self.rendered = QTextBrowser()
        self.rendered.setOpenExternalLinks(True)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Markdown: # headings, *emphasis*, lists, tables, links…")
        self.pages.addWidget(self.rendered)
        self.pages.addWidget(self.editor)
        layout.addWidget(self.pages, 1)
        self.edit_button.clicked.connect(self.begin_edit)
        self.save_button.clicked.connect(self._save)
        self.cancel_button.clicked.connect(self.end_edit)
        self.show_note(None, writable=False)

    @property
    def editing(self) -> bool:
        return self.pages.currentWidget() is self.editor

    def show_note(self, note: Note | None, *, writable: bool, reason: str = "", subject: int | None = None) -> None:
        """Show `note` (None: there is none yet) of `subject` (a trial number, None for the study). `writable`:
        Edit is offered (`reason` says why not). While the user edits, the editor stays on its subject."""
        self.writable = writable
        self.edit_button.setEnabled(writable)
        self.edit_button.setToolTip(
            "Edit this note (Markdown); nothing is written until you press Save" if writable else reason
        )
        if self.editing:
            return  # the user's typing is not replaced (Save checks the version), nor its subject
        self.subject = subject
        self.note = note
        self.version = note.version if note is not None else 0
        body = note.body if note is not None else ""
        if body.strip():
            self.rendered.setMarkdown(body)
        else:
            self.rendered.setMarkdown(EMPTY_TEXT)
        version = f" · version {self.version}" if note is not None and self.version else ""
        self.title.setText(f"Note{version}")
        problem = note.problem if note is not None else None
        self.problem.setText(f"This note is malformed: it {problem}" if problem else "")
        self.problem.setStyleSheet(f"color: {theme.colors().bad};")
        self.problem.setVisible(bool(problem))
        self._buttons()

    def begin_edit(self) -> None:
        if not self.writable:
            return
        self.editor.setPlainText(self.note.body if self.note is not None else "")
        whose = "" if self.subject is None else f" of trial {self.subject}"
        self.title.setText(f"Editing the note{whose}")
        self.pages.setCurrentWidget(self.editor)
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self._buttons()

    def end_edit(self) -> None:
        """Leave editing without writing (Cancel, or after a successful save)."""
        self.pages.setCurrentWidget(self.rendered)
        version = f" · version {self.version}" if self.note is not None and self.version else ""
        self.title.setText(f"Note{version}")
        self._buttons()

    def _save(self) -> None:
        self.save_requested.emit(self.editor.toPlainText(), self.version)

    def _buttons(self) -> None:
        editing = self.editing
        self.edit_button.setVisible(not editing)
        self.save_button.setVisible(editing)
        self.cancel_button.setVisible(editing)
