"""The GUI's only door to the reader (optgui.core.storage._reader): opening storages, study summaries, trial columns and
incremental polls. Kept small so that changes of the reader's API touch one file."""

from __future__ import annotations

from optgui.core.annotations import StudyAnnotations, read_annotations
from optgui.core.records import StudyMetadata
from optgui.core.storage import StudyReader, StudySummary, TrialDelta, TrialTable, Watermark, open_reader

__all__ = [
    "open_storage",
    "summaries",
    "listing",
    "initial_trials",
    "all_trials",
    "poll",
    "metadata_of",
    "notes_and_artifacts",
    "StudyReader",
]


def open_storage(text: str) -> StudyReader:
    """Open read-only; raises optgui.core.errors.StorageError with a message for the user."""
    return open_reader(text)


#: A storage opened with more trials than this is listed before its trials are counted (see listing()).
COUNT_LATER_ABOVE = 200_000


def summaries(reader: StudyReader) -> list[StudySummary]:
    return reader.studies()


def listing(reader: StudyReader) -> list[StudySummary]:
    """The summaries to list a storage just opened: counted (states, best values, activity) up to
    COUNT_LATER_ABOVE trials in the storage; beyond that without counts (`counted` False), which costs no scan of
    the trials (counting 1M trials took ~2 s of CPU before the first plot), so the caller counts them afterwards
    (in the background)."""
    uncounted = reader.studies(counts=False)
    if sum(s.n_trials for s in uncounted) <= COUNT_LATER_ABOVE:
        return reader.studies()
    return uncounted


def initial_trials(reader: StudyReader, study: str) -> tuple[TrialTable, Watermark]:
    """Numbers, states and values of every trial (no params, attributes or datetimes: what the plot needs, several
    times faster at 100k trials) and the watermark for the next poll."""
    return reader.trials_with_watermark(study, params=False, user_attrs=False, datetimes=False)


def all_trials(reader: StudyReader, study: str) -> TrialTable:
    """Every trial with params, user attributes and datetimes (what the trials table and analysis views need)."""
    return reader.trials(study)


def poll(reader: StudyReader, study: str, watermark: Watermark | None) -> TrialDelta:
    return reader.poll(study, watermark)


def metadata_of(summary: StudySummary) -> StudyMetadata:
    return StudyMetadata.from_system_attrs(dict(summary.optgui_metadata))


def notes_and_artifacts(reader: StudyReader, study: str) -> StudyAnnotations:
    """optuna-dashboard's notes and Optuna's artifact metadata of the study (one read of each kind of key)."""
    return read_annotations(reader, study)
