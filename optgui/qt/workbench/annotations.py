"""optuna-dashboard's notes and Optuna's artifacts in the window: the Notes tab (the study's note and artifacts),
the Note and Artifacts tabs of the trial details, and the trials table's note marker and artifact count.

The annotations (optgui.core.annotations.StudyAnnotations) are read off the GUI thread when a study is shown and
after a save, and kept in the study session. A note is written only when the user presses Save, after the checks
every write makes: the user agreed once to writes into this file (remembered), the study is not run by another
process (this window's own engine may be running it: its writes and the note's go side by side), and the note
was not saved elsewhere since the edit began. Nothing is ever written into an artifact folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QSplitter

from optgui.core.annotations import StudyAnnotations, find_artifact_store, save_note
from optgui.core.errors import OptguiError
from optgui.core.storage import parse_storage
from optgui.qt import dialogs, theme
from optgui.qt.study import reading
from optgui.qt.tasks.tasks import TaskError, TaskSlot
from optgui.qt.workbench.artifact_view import ArtifactView
from optgui.qt.workbench.note_view import NoteView

MAX_PROBLEMS_SHOWN = 8


class StudyNotesPage(QSplitter):
    """The Notes tab: the study's note beside the study's own artifacts."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.setObjectName("studyNotesPage")
        self.note = NoteView("study")
        self.artifacts = ArtifactView()
        self.addWidget(self.note)
        self.addWidget(self.artifacts)
        self.setSizes([500, 400])

    def show_problems(self, problems: list[str]) -> None:
        """Malformed notes and artifact records, each where it belongs and all of them listed here."""
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(["Malformed records (everything else is shown):", *shown]) if problems else ""
        self.note.problems.setText(text + (f"\n… and {more} more" if more > 0 else ""))
        self.note.problems.setStyleSheet(f"color: {theme.colors().bad};")
        self.note.problems.setVisible(bool(problems))


class Annotations(QObject):
    """Installed by the Workbench: reads, shows and saves the shown study's notes and artifacts."""

    def __init__(self, workbench: Any) -> None:
        super().__init__(workbench)
        self.workbench = workbench
        self.view = workbench.view
        self.window = workbench.window
        self.page = StudyNotesPage()
        self.view.tabs.addTab(self.page, "Notes")
        details = workbench.details
        self.trial_note = NoteView("trial")
        self.trial_artifacts = ArtifactView()
        details.left_tabs.addTab(self.trial_note, "Note")
        details.left_tabs.addTab(self.trial_artifacts, "Artifacts")
        self._read_slot = TaskSlot(self, "read annotations")
        self._save_slot = TaskSlot(self, "save note")
        self.shown_trial: int | None = None
        self.view.opened.connect(self.study_opened)
        self.view.selection.trial_selected.connect(self.show_trial)
        self.page.note.save_requested.connect(lambda body, version: self.save(None, body, version))
        self.trial_note.save_requested.connect(lambda body, version: self.save(self.trial_note.subject, body, version))
        self.page.artifacts.folder_requested.connect(self.choose_folder)
        self.trial_artifacts.folder_requested.connect(self.choose_folder)

    # --- reading ------------------------------------------------------------------------------------------
    @property
    def annotations(self) -> StudyAnnotations | None:
        session = self.view.session
        return None if session is None else session.annotations

    def study_opened(self) -> None:
        self.shown_trial = None
        self.page.note.end_edit()
        self.trial_note.end_edit()
        self.show()
        self.read()

    def read(self) -> None:
        """Read the shown study's notes and artifacts in the background (its session keeps them)."""
        session = self.view.session
        if session is None:
            return
        storage, study = session.storage, session.name
        self._read_slot.start(
            lambda state: _read(storage, study),
            returned=lambda result: self._arrived(session, result),
            errored=self._read_failed,
        )

    def _arrived(self, session: Any, annotations: StudyAnnotations) -> None:
        session.annotations = annotations
        if session is self.view.session:
            self.show()

    def _read_failed(self, error: TaskError) -> None:
        self.window.statusBar().showMessage(f"Cannot read the study's notes and artifacts: {error.exception}", 10000)

    # --- showing ------------------------------------------------------------------------------------------
    def store_folder(self) -> tuple[Path | None, str]:
        """The study's FileSystemArtifactStore folder and a line saying where it comes from."""
        session = self.view.session
        if session is None:
            return None, ""
        chosen = self.window.settings.artifact_store(session.storage, session.name)
        if chosen and Path(chosen).is_dir():
            return Path(chosen), f"Artifact folder: {chosen}"
        beside = find_artifact_store(_study_file(session.storage))
        if beside is not None:
            return beside, f"Artifact folder: {beside} (beside the study file)"
        return None, "No artifact folder known: choose the study's FileSystemArtifactStore folder to see the files."

    def show(self) -> None:
        annotations = self.annotations
        writable, reason = self._writable()
        store, store_text = self.store_folder()
        if annotations is None:
            self.page.note.show_note(None, writable=False, reason="Reading the study's notes…")
            self.page.artifacts.set_artifacts([], store, store_text)
        else:
            self.page.note.show_note(annotations.notes.study, writable=writable, reason=reason)
            self.page.artifacts.set_artifacts(annotations.artifacts.study, store, store_text)
            self._mark_table(annotations)
            self.page.show_problems(annotations.problems)
        self.show_trial(self.shown_trial)

    def show_trial(self, number: int | None) -> None:
        self.shown_trial = number
        annotations = self.annotations
        details = self.workbench.details
        if number is None or annotations is None:
            self.trial_note.show_note(None, writable=False, reason="Select a trial")
            self.trial_artifacts.set_artifacts([], None, "")
            details.left_tabs.setTabText(2, "Artifacts")
            return
        writable, reason = self._writable()
        note = annotations.notes.for_trial(number)
        self.trial_note.show_note(note, writable=writable, reason=reason, subject=number)
        store, store_text = self.store_folder()
        artifacts = annotations.artifacts.for_trial(number)
        self.trial_artifacts.set_artifacts(artifacts, store, store_text)
        details.left_tabs.setTabText(1, "Note ✎" if annotations.notes.for_trial(number) else "Note")
        details.left_tabs.setTabText(2, f"Artifacts ({len(artifacts)})" if artifacts else "Artifacts")

    def _mark_table(self, annotations: StudyAnnotations) -> None:
        store = self.view.session.store
        before = np.flatnonzero((store.note_mark[: store.n] != 0) | (store.artifact_count[: store.n] != 0))
        numbers, counts = annotations.artifacts.counts()
        added = store.set_annotations(annotations.notes.numbers_with_text(), numbers, counts)
        after = np.flatnonzero((store.note_mark[: store.n] != 0) | (store.artifact_count[: store.n] != 0))
        if self.workbench.loaded and self.workbench.table.model.frame is store:
            changed = np.union1d(before, after).astype(np.int64)
            self.workbench.table.rows_changed(np.empty(0, dtype=np.int64), changed, added)

    # --- writing ------------------------------------------------------------------------------------------
    def _writable(self) -> tuple[bool, str]:
        session = self.view.session
        if session is None:
            return False, ""
        if self.annotations is None:
            return False, "Reading the study's notes…"
        return True, ""

    def save(self, number: int | None, body: str, version: int) -> None:
        session = self.view.session
        if session is None or not self._confirm_write(session.storage, session.display):
            return
        storage, study = session.storage, session.name
        own = [pid for pid in [self._engine_pid()] if pid is not None]
        self._save_slot.start(
            lambda state: save_note(storage, study, number, body, expected_version=version, own_pids=own),
            returned=lambda _version: self._saved(session, number),
            errored=self._save_failed,
        )

    def _saved(self, session: Any, number: int | None) -> None:
        (self.page.note if number is None else self.trial_note).end_edit()
        self.window.statusBar().showMessage(
            "Saved the study's note" if number is None else f"Saved the note of trial {number}", 5000
        )
        if session is self.view.session:
            self.read()

    def _save_failed(self, error: TaskError) -> None:
        exc = error.exception
        text = str(exc) if isinstance(exc, OptguiError) else error.message
        dialogs.error(self.window, "Cannot save the note", text, "" if isinstance(exc, OptguiError) else error.details)

    def _confirm_write(self, storage: str, display: str) -> bool:
        settings = self.window.settings
        if storage in self.view.write_confirmed or settings.notes_writable(storage):
            return True
        ok = dialogs.confirm(
            self.window,
            "Write notes to this study?",
            f"optgui opens studies read-only. Saving a note writes it into\n{display}\n\n"
            "in optuna-dashboard's format (optuna-dashboard shows it too). You are asked once for this file.",
            "Save notes here",
        )
        if ok:
            settings.set_notes_writable(storage)
        return ok

    def _engine_pid(self) -> int | None:
        controller = self.window.controller
        engine = getattr(controller, "engine", None)
        session = self.view.session
        if engine is None or not controller.active or self.view.run_session is not session:
            return None
        return engine.pid

    # --- the artifact folder ------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        session = self.view.session
        if session is None:
            return
        current, _ = self.store_folder()
        start = str(current or (_study_file(session.storage) or Path.home()).parent)
        folder = QFileDialog.getExistingDirectory(self.window, "The study's artifact folder", start)
        if folder:
            self.window.settings.set_artifact_store(session.storage, session.name, folder)
            self.show()


def _read(storage: str, study: str) -> StudyAnnotations:
    reader = reading.open_storage(storage)
    try:
        return reading.notes_and_artifacts(reader, study)
    finally:
        reader.close()


def _study_file(storage: str) -> Path | None:
    try:
        return parse_storage(storage).path
    except OptguiError:
        return None
