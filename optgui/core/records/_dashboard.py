"""Keys that Optuna and optuna-dashboard store in a study and optgui reads (and, for notes, writes back in the
same format): the dashboard's Markdown notes and Optuna's artifact metadata.

Notes (optuna-dashboard 0.21, `optuna_dashboard._note`): study system attributes. The study's note is
`dashboard:note_ver` (an integer, bumped by one on every save) and `dashboard:note_str:<i>` chunks of at most 2045
characters, concatenated in order of `i`; a trial's note is the same under `dashboard:<trial_id>:note_ver` and
`dashboard:<trial_id>:note_str:<i>`, keyed by the trial's *id* (not its number). A save that makes a note shorter
sets the chunks it no longer needs to "" rather than deleting them.

Artifacts (`optuna.artifacts.upload_artifact`): one system attribute `artifacts:<artifact_id>` per artifact, on
the trial or on the study, whose value is the JSON text of {artifact_id, filename, mimetype, encoding}; the file
itself is in the artifact store (a `FileSystemArtifactStore` keeps it as `<base_path>/<artifact_id>`).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar

from optgui.core.records._base import TEXT, JsonRecord, entry, optional

NOTE_CHUNK_LENGTH = 2045  # optuna_dashboard._note.SYSTEM_ATTR_MAX_LENGTH
DASHBOARD_PREFIX = "dashboard:"
ARTIFACT_PREFIX = "artifacts:"

# dashboard:note_ver, dashboard:note_str:3, dashboard:17:note_ver, dashboard:17:note_str:0
NOTE_KEY = re.compile(r"^dashboard:(?:(\d+):)?(note_ver|note_str:(\d+))$")


def note_version_key(trial_id: int | None) -> str:
    return "dashboard:note_ver" if trial_id is None else f"dashboard:{trial_id}:note_ver"


def note_chunk_prefix(trial_id: int | None) -> str:
    return "dashboard:note_str:" if trial_id is None else f"dashboard:{trial_id}:note_str:"


def note_chunks(body: str, trial_id: int | None) -> dict[str, str]:
    """The attributes a note body is stored as (optuna_dashboard._note.split_body)."""
    prefix = note_chunk_prefix(trial_id)
    return {
        f"{prefix}{i}": body[start : start + NOTE_CHUNK_LENGTH]
        for i, start in enumerate(range(0, len(body), NOTE_CHUNK_LENGTH))
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArtifactRecord(JsonRecord):
    """An artifact uploaded with `optuna.artifacts.upload_artifact` (Optuna writes it; optgui only reads it). The
    attribute's value is the JSON *text* of this object."""

    KEY: ClassVar[str] = "artifacts:<artifact_id>"
    TITLE: ClassVar[str] = "Artifact"

    artifact_id: str = entry("the id: the file's name in the artifact store", TEXT, required=True)
    filename: str = entry("the uploaded file's name", TEXT, required=True)
    mimetype: str = entry("its MIME type (guessed from the name when not given)", TEXT, required=True)
    encoding: str | None = entry("its content encoding, e.g. gzip", optional(TEXT))
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
