"""optuna-dashboard's Markdown notes on a study and its trials, read from the study's system attributes.

The format is optuna-dashboard's (optgui.core.records._dashboard): a version counter and the body in chunks, the
study's note under `dashboard:note_*`, a trial's under `dashboard:<trial_id>:note_*`. One read of the study's
`dashboard:` attributes gives every note, so the cost follows the number of notes, not of trials. A malformed note
(a version that is not an integer, a missing or non-text chunk, a trial id the study does not have) is shown with
what is wrong and as much of its text as is there; it hides nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optgui.core.records import DASHBOARD_PREFIX, NOTE_KEY
from optgui.core.storage import StudyReader, TrialTable, frozen_mapping


@dataclass(frozen=True)
class Note:
    """One note. trial_id/trial_number are None for the study's note; version is the dashboard's counter (0 when
    it has none); problem says what is malformed (the body is what could be read)."""

    trial_id: int | None
    trial_number: int | None
    version: int
    body: str
    problem: str | None = None

    @property
    def has_text(self) -> bool:
        return bool(self.body.strip())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "body": self.body}
        if self.trial_id is not None:
            out = {"trial_number": self.trial_number, "trial_id": self.trial_id, **out}
        if self.problem:
            out["problem"] = self.problem
        return out


@dataclass(frozen=True)
class StudyNotes:
    """The notes of one study: its own, and its trials' by trial number."""

    study: Note | None = None
    trials: Mapping[int, Note] = field(default_factory=lambda: frozen_mapping({}))
    # Notes that cannot be placed on a trial of this study (their trial id is not one of its trials).
    orphans: tuple[Note, ...] = ()

    def for_trial(self, number: int) -> Note | None:
        return self.trials.get(number)

    def numbers_with_text(self) -> np.ndarray:
        """Trial numbers whose note has text (an emptied note has a version but no text)."""
        return np.array(sorted(n for n, note in self.trials.items() if note.has_text), dtype=np.int64)

    @property
    def problems(self) -> list[str]:
        where = [("the study's note", self.study)] if self.study else []
        where += [(f"the note of trial {n}", note) for n, note in sorted(self.trials.items())]
        where += [(f"the note of trial id {note.trial_id}", note) for note in self.orphans]
        return [f"{what} {note.problem}" for what, note in where if note and note.problem]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "study": self.study.to_json() if self.study else None,
            "trials": [self.trials[n].to_json() for n in sorted(self.trials)],
        }
        if self.orphans or self.problems:
            out["problems"] = self.problems
        return out


def _group(attrs: Mapping[str, Any]) -> dict[int | None, tuple[Any, dict[int, Any], bool]]:
    """{trial_id or None: (version value, {chunk index: value}, has a version key)}."""
    groups: dict[int | None, tuple[Any, dict[int, Any], bool]] = {}
    for key, value in attrs.items():
        match = NOTE_KEY.match(key)
        if match is None:
            continue
        trial_id = int(match.group(1)) if match.group(1) is not None else None
        version, chunks, has_version = groups.get(trial_id, (None, {}, False))
        if match.group(3) is None:
            version, has_version = value, True
        else:
            chunks[int(match.group(3))] = value
        groups[trial_id] = (version, chunks, has_version)
    return groups


def parse_note(trial_id: int | None, version: Any, chunks: Mapping[int, Any], has_version: bool) -> Note:
    """One note from its attributes, as optuna_dashboard's get_note reads it, with what is wrong said, not raised."""
    problems = []
    if not has_version:
        problems.append("has text but no version counter (optuna-dashboard shows it as empty)")
        version_number = 0
    elif isinstance(version, bool) or not isinstance(version, int | float) or int(version) != version:
        problems.append(f"has version {str(version)[:40]!r}, not an integer")
        version_number = 0
    else:
        version_number = int(version)
    parts = []
    for index in range(max(chunks, default=-1) + 1):
        chunk = chunks.get(index)
        if chunk is None:
            problems.append(f"lacks part {index} of {max(chunks) + 1}")
        elif not isinstance(chunk, str):
            problems.append(f"has part {index} that is not text")
        else:
            parts.append(chunk)
    return Note(trial_id, None, version_number, "".join(parts), "; ".join(problems) or None)


def notes_from_attrs(attrs: Mapping[str, Any], trial_id: np.ndarray, number: np.ndarray) -> StudyNotes:
    """The notes among a study's system attributes; `trial_id`/`number` (the study's trials) place trial notes."""
    study_note = None
    trials: dict[int, Note] = {}
    orphans = []
    order = np.argsort(trial_id, kind="stable")
    sorted_ids = trial_id[order]
    for tid, (version, chunks, has_version) in sorted(_group(attrs).items(), key=lambda kv: (kv[0] is not None, kv[0])):
        note = parse_note(tid, version, chunks, has_version)
        if tid is None:
            study_note = note
            continue
        at = int(np.searchsorted(sorted_ids, tid))
        if at < len(sorted_ids) and sorted_ids[at] == tid:
            n = int(number[order[at]])
            trials[n] = Note(tid, n, note.version, note.body, note.problem)
        else:
            problem = "belongs to no trial of this study"
            orphans.append(Note(tid, None, note.version, note.body, "; ".join(filter(None, [note.problem, problem]))))
    return StudyNotes(study_note, frozen_mapping(trials), tuple(orphans))


def read_notes(reader: StudyReader, study_name: str, table: TrialTable | None = None) -> StudyNotes:
    """Every note of the study. `table` (any read of the study's trials) saves reading trial ids again."""
    attrs = reader.study_system_attrs(study_name, DASHBOARD_PREFIX)
    if not attrs:
        return StudyNotes()
    places_trials = any((m := NOTE_KEY.match(key)) is not None and m.group(1) is not None for key in attrs)
    if table is None and places_trials:
        table = reader.trials(study_name, params=False, user_attrs=False, datetimes=False)
    if table is None:
        return notes_from_attrs(attrs, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    return notes_from_attrs(attrs, table.trial_id, table.number)
