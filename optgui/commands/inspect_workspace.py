"""The run-health part of `optgui inspect`: each study's health (optgui.core.health) as a column, a line of
evidence and a "health" object in the JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optgui.core.health import RunHealth
    from optgui.core.storage import StudyReader, StudySummary


def study_healths(reader: StudyReader, summaries: list[StudySummary]) -> list[RunHealth | None]:
    """The health of every study; None for a study whose trials cannot be read (inspect still lists it)."""
    # imported on use, not with this module: start-up time
    from optgui.core.health import study_health

    healths: list[RunHealth | None] = []
    for summary in summaries:
        try:
            healths.append(study_health(reader, summary))
        except Exception:  # noqa: BLE001 - one unreadable study must not hide the others
            healths.append(None)
    return healths


def with_health(summary: StudySummary, health: RunHealth | None) -> dict[str, Any]:
    """A study's JSON object (`StudySummary.as_json`) with its "health" (null when it could not be computed)."""
    return {**summary.as_json(), "health": health.as_json() if health is not None else None}


def health_cell(health: RunHealth | None) -> str:
    return "?" if health is None else str(health.state)


def health_notes(summaries: list[StudySummary], healths: list[RunHealth | None]) -> list[str]:
    """One line of evidence per study whose health has any ("NAME: stalled: no trial finished for ...")."""
    return [f"{s.name}: {h.summary}" for s, h in zip(summaries, healths, strict=True) if h is not None and h.evidence]
