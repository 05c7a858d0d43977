"""What people wrote on and attached to a study besides its trials' data: optuna-dashboard's Markdown notes (read,
and saved in the dashboard's own format when the user presses Save) and Optuna's artifacts (metadata from the
study, files from a FileSystemArtifactStore folder; never written).

Above the storage layer (it reads through a StudyReader) and the engine (a save respects the run lease); the
formats are in optgui.core.records (`dashboard:` and `artifacts:` keys). See docs/notes-and-artifacts.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.annotations._artifacts import (
        STORE_FOLDER_NAMES,
        Artifact,
        StudyArtifacts,
        artifact_path,
        artifact_size,
        artifacts_from_attrs,
        find_artifact_store,
        read_artifacts,
    )
    from optgui.core.annotations._note_writer import NoteConflictError, save_note
    from optgui.core.annotations._notes import Note, StudyNotes, notes_from_attrs, read_notes
    from optgui.core.annotations._read import StudyAnnotations, read_annotations

__all__ = [
    "Artifact",
    "Note",
    "NoteConflictError",
    "STORE_FOLDER_NAMES",
    "StudyAnnotations",
    "StudyArtifacts",
    "StudyNotes",
    "artifact_path",
    "artifact_size",
    "artifacts_from_attrs",
    "find_artifact_store",
    "notes_from_attrs",
    "read_annotations",
    "read_artifacts",
    "read_notes",
    "save_note",
]

_EXPORTS = {
    "Artifact": "optgui.core.annotations._artifacts",
    "STORE_FOLDER_NAMES": "optgui.core.annotations._artifacts",
    "StudyArtifacts": "optgui.core.annotations._artifacts",
    "artifact_path": "optgui.core.annotations._artifacts",
    "artifact_size": "optgui.core.annotations._artifacts",
    "artifacts_from_attrs": "optgui.core.annotations._artifacts",
    "find_artifact_store": "optgui.core.annotations._artifacts",
    "read_artifacts": "optgui.core.annotations._artifacts",
    "NoteConflictError": "optgui.core.annotations._note_writer",
    "save_note": "optgui.core.annotations._note_writer",
    "Note": "optgui.core.annotations._notes",
    "StudyNotes": "optgui.core.annotations._notes",
    "notes_from_attrs": "optgui.core.annotations._notes",
    "read_notes": "optgui.core.annotations._notes",
    "StudyAnnotations": "optgui.core.annotations._read",
    "read_annotations": "optgui.core.annotations._read",
}


# Lazy: `import optgui.core.annotations` loads nothing until a name is used (start-up time).
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
