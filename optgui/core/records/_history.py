"""The warm start's provenance (`optgui:history`): which earlier trials a study was started from."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from optgui.core.records._base import COUNT, TEXT, Check, JsonRecord, entry, is_trial_number
from optgui.core.records._keys import KEY_HISTORY

SOURCES: Check = (
    lambda v: (
        isinstance(v, list)
        and all(
            isinstance(s, dict)
            and isinstance(s.get("storage"), str)
            and isinstance(s.get("study"), str)
            and isinstance(s.get("trials"), list)
            and all(map(is_trial_number, s["trials"]))
            for s in v
        )
    ),
    "a list of {storage, study, trials, digest}",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HistoryRecord(JsonRecord):
    """Written once, when `optgui run --history` (or "New study from these trials…") creates the study and adds
    finished trials of other studies to it before its first run. The copied trials are trials 0..n_copied-1 of
    this study; the run record that follows is `adopted` with `history_until` = n_copied, so the verifier replays
    the run from them."""

    KEY: ClassVar[str] = KEY_HISTORY
    TITLE: ClassVar[str] = "Warm start"

    created: str = entry("when the trials were copied", TEXT, required=True)
    n_copied: int = entry("how many trials were copied (this study's first trials)", COUNT, required=True)
    sources: list[dict[str, Any]] = entry(
        "per source study: `storage` (its file or URL, password removed), `study`, `trials` (the source's trial "
        "numbers copied, in copy order) and `digest` (sha256 of those trials' states, params, distributions and "
        "values)",
        SOURCES,
        required=True,
    )
    digest: str = entry("sha256 over every copied trial, in copy order", TEXT, required=True)
    n_skipped: int = entry("selected trials that were not copied (each listed with its reason when copying)", COUNT)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def write_history(storage: Any, study_id: int, record: HistoryRecord) -> None:
    storage.set_study_system_attr(study_id, KEY_HISTORY, record.to_json())
