"""What people wrote and attached to a study besides its trials' data: optuna-dashboard's notes and Optuna's
artifacts, read together (one read of the study's `dashboard:` attributes, one of its and its trials'
`artifacts:` attributes), for `optgui inspect --json` and the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optgui.core.annotations._artifacts import StudyArtifacts, read_artifacts
from optgui.core.annotations._notes import StudyNotes, read_notes
from optgui.core.storage import StudyReader, TrialTable


@dataclass(frozen=True)
class StudyAnnotations:
    """A study's notes and artifact metadata."""

    notes: StudyNotes = field(default_factory=StudyNotes)
    artifacts: StudyArtifacts = field(default_factory=StudyArtifacts)

    @property
    def problems(self) -> list[str]:
        """Every malformed note or artifact record, each said once."""
        return self.notes.problems + self.artifacts.problems

    def to_json(self) -> dict[str, Any]:
        """`notes` and `artifacts` as `optgui inspect --json` prints them."""
        artifacts: dict[str, Any] = {
            "study": [a.to_json() for a in self.artifacts.study],
            "trials": {str(n): [a.to_json() for a in self.artifacts.trials[n]] for n in sorted(self.artifacts.trials)},
        }
        if self.artifacts.problems:
            artifacts["problems"] = self.artifacts.problems
        return {"notes": self.notes.to_json(), "artifacts": artifacts}


def read_annotations(reader: StudyReader, study_name: str, table: TrialTable | None = None) -> StudyAnnotations:
    """The study's notes and artifacts; `table` (a read of all its trials) saves reading trial ids for notes."""
    return StudyAnnotations(read_notes(reader, study_name, table), read_artifacts(reader, study_name))
