"""Optuna's artifacts (`optuna.artifacts.upload_artifact`) of a study and its trials: their metadata from the
study's system attributes, and their files in a FileSystemArtifactStore folder when one is reachable.

optgui only reads: nothing here writes into an artifact store. The metadata is `artifacts:<id>` on the study or a
trial (optgui.core.records.ArtifactRecord); a FileSystemArtifactStore keeps the file as `<folder>/<id>`. A
malformed record is listed with what is wrong and hides nothing else; a file that is not in the folder is missing,
not an error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optgui.core.records import ARTIFACT_PREFIX, ArtifactRecord
from optgui.core.storage import StudyReader, frozen_mapping

# The folder name Optuna's and optuna-dashboard's examples give FileSystemArtifactStore (`./artifacts`), looked
# for beside the study file.
STORE_FOLDER_NAMES = ("artifacts",)


@dataclass(frozen=True)
class Artifact:
    """One artifact's metadata. trial_number is None for the study's own artifacts; problem says what is
    malformed in its record (then filename/mimetype are what could be read)."""

    artifact_id: str
    filename: str
    mimetype: str
    encoding: str | None = None
    trial_number: int | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "artifact_id": self.artifact_id,
            "filename": self.filename,
            "mimetype": self.mimetype,
            "encoding": self.encoding,
        }
        if self.problem:
            out["problem"] = self.problem
        return out


@dataclass(frozen=True)
class StudyArtifacts:
    """The artifacts of one study: its own, and its trials' by trial number (in upload order where known)."""

    study: tuple[Artifact, ...] = ()
    trials: Mapping[int, tuple[Artifact, ...]] = field(default_factory=lambda: frozen_mapping({}))

    def for_trial(self, number: int) -> tuple[Artifact, ...]:
        return self.trials.get(number, ())

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(trial numbers, artifact counts) of the trials that have artifacts."""
        numbers = np.array(sorted(self.trials), dtype=np.int64)
        return numbers, np.array([len(self.trials[int(n)]) for n in numbers], dtype=np.int64)

    @property
    def total(self) -> int:
        return len(self.study) + sum(len(v) for v in self.trials.values())

    @property
    def problems(self) -> list[str]:
        every = [*self.study, *(a for n in sorted(self.trials) for a in self.trials[n])]
        return [
            ("the study's" if a.trial_number is None else f"trial {a.trial_number}'s")
            + f" artifact {a.artifact_id!r} {a.problem}"
            for a in every
            if a.problem
        ]


def parse_artifact(key: str, value: Any, trial_number: int | None) -> Artifact:
    """One `artifacts:<id>` attribute (its value is JSON text; a decoded object is accepted too)."""
    artifact_id = key[len(ARTIFACT_PREFIX) :]
    record: Any = value
    if isinstance(value, str):
        try:
            record = json.loads(value)
        except ValueError:
            return Artifact(artifact_id, artifact_id, "", None, trial_number, "is not JSON")
    problem = ArtifactRecord.problem(record)
    if problem is not None:
        known = record if isinstance(record, dict) else {}
        name = known.get("filename")
        return Artifact(artifact_id, name if isinstance(name, str) else artifact_id, "", None, trial_number, problem)
    parsed = ArtifactRecord.from_json(record, key)
    if parsed.artifact_id != artifact_id:
        problem = f"names id {parsed.artifact_id!r} (the key says {artifact_id!r})"
    return Artifact(artifact_id, parsed.filename, parsed.mimetype, parsed.encoding, trial_number, problem)


def artifacts_from_attrs(
    study_attrs: Mapping[str, Any], trial_attrs: Mapping[int, Mapping[str, Any]]
) -> StudyArtifacts:
    """The artifacts among the study's system attributes and its trials' ({trial number: attributes})."""
    study = tuple(parse_artifact(k, v, None) for k, v in study_attrs.items() if k.startswith(ARTIFACT_PREFIX))
    trials = {
        number: tuple(parse_artifact(k, v, number) for k, v in attrs.items() if k.startswith(ARTIFACT_PREFIX))
        for number, attrs in trial_attrs.items()
    }
    return StudyArtifacts(study, frozen_mapping({n: a for n, a in trials.items() if a}))


def read_artifacts(reader: StudyReader, study_name: str, numbers: Sequence[int] | None = None) -> StudyArtifacts:
    """The study's artifact metadata (one read of `artifacts:` attributes); only these trials' when `numbers`."""
    study_attrs = reader.study_system_attrs(study_name, ARTIFACT_PREFIX) if numbers is None else {}
    trial_attrs = reader.trial_system_attrs(study_name, ARTIFACT_PREFIX, numbers)
    return artifacts_from_attrs(study_attrs, trial_attrs)


def artifact_path(store: Path, artifact_id: str) -> Path | None:
    """Where a FileSystemArtifactStore keeps this artifact; None for an id that would leave the folder (as
    FileSystemArtifactStore refuses it)."""
    if not artifact_id or os.path.isabs(artifact_id):
        return None
    path = store / artifact_id
    base = os.path.abspath(store)
    if os.path.commonpath([base, os.path.abspath(path)]) != base or path == store:
        return None
    return path


def artifact_size(store: Path | None, artifact_id: str) -> int | None:
    """The stored file's size in bytes; None when there is no store or the file is missing."""
    path = artifact_path(store, artifact_id) if store is not None else None
    try:
        return path.stat().st_size if path is not None and path.is_file() else None
    except OSError:
        return None


def find_artifact_store(study_file: Path | None) -> Path | None:
    """The FileSystemArtifactStore folder beside a study file (`artifacts/`), when there is one."""
    if study_file is None:
        return None
    for name in STORE_FOLDER_NAMES:
        candidate = study_file.parent / name
        if candidate.is_dir():
            return candidate
    return None
