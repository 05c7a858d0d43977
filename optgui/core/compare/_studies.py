"""The studies a comparison reads: each REF resolved to its storage and study, read once, read-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optgui.core.errors import OptguiError
from optgui.core.storage import StudyReader, StudyRef, StudySummary, TrialTable, open_reader, parse_study_ref

MIN_STUDIES = 2
MAX_STUDIES = 8


@dataclass(frozen=True)
class ComparedStudy:
    """One study of a comparison: its REF, a `label` unique within the comparison, the storage's display name,
    the study's summary (counts, directions, optgui metadata) and its trials; `verdict` is the verdict cached for
    exactly this content (a `Verdict`), None when the study was never verified as it is now."""

    ref: StudyRef
    label: str
    storage_display: str
    summary: StudySummary
    table: TrialTable
    verdict: object | None = None

    @property
    def name(self) -> str:
        return self.summary.name


def load_studies(refs: Sequence[str | StudyRef], *, verdicts: bool = True) -> list[ComparedStudy]:
    """Read every study named (2–8 of them); labels are the study names, made unique with the file name."""
    if not MIN_STUDIES <= len(refs) <= MAX_STUDIES:
        raise OptguiError(f"compare takes {MIN_STUDIES} to {MAX_STUDIES} studies, got {len(refs)}")
    parsed = [r if isinstance(r, StudyRef) else parse_study_ref(r) for r in refs]
    readers: dict[str, StudyReader] = {}
    summaries: dict[str, list[StudySummary]] = {}
    loaded: list[tuple[StudyRef, str, StudySummary, TrialTable]] = []
    try:
        for ref in parsed:
            if ref.storage not in readers:
                readers[ref.storage] = open_reader(ref.storage)
                summaries[ref.storage] = readers[ref.storage].studies()
            reader = readers[ref.storage]
            by_name = {s.name: s for s in summaries[ref.storage]}
            name = ref.choose(list(by_name))
            loaded.append((ref, reader.display, by_name[name], reader.trials(name, user_attrs=False)))
    finally:
        for reader in readers.values():
            reader.close()
    seen = [(display, summary.name) for _, display, summary, _ in loaded]
    if len(set(seen)) < len(seen):
        twice = next(s for s in seen if seen.count(s) > 1)
        raise OptguiError(f"study {twice[1]!r} of {twice[0]} is named twice")
    labels = _labels(seen)
    return [
        ComparedStudy(ref, label, display, summary, table, _verdict(ref, summary.name) if verdicts else None)
        for (ref, display, summary, table), label in zip(loaded, labels, strict=True)
    ]


def _labels(seen: list[tuple[str, str]]) -> list[str]:
    """The study name, or `file#study` where two storages hold studies of the same name."""
    names = [name for _, name in seen]
    return [name if names.count(name) == 1 else f"{_short(display)}#{name}" for display, name in seen]


def _short(display: str) -> str:
    return display.rstrip("/").rsplit("/", 1)[-1] or display


def _verdict(ref: StudyRef, name: str) -> object | None:
    """The cached verdict of this study's exact content; reading the study costs, verifying never happens."""
    from optgui.core.storage import read_study
    from optgui.core.verify import cached_verdict

    return cached_verdict(read_study(ref.storage, name))
