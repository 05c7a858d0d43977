"""The workspace part of `optgui inspect`: each study's health (optgui.core.health) as a column, a line of
evidence and a "health" object in the JSON; and `optgui inspect FOLDER`, every study file under a folder."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optgui.core.errors import EXIT_OK, OptguiError

if TYPE_CHECKING:
    from optgui.core.health import RunHealth, Workspace
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


#: Version of `optgui inspect FOLDER --json` (bump on incompatible changes).
FOLDER_JSON_SCHEMA = "optgui.inspect.folder/1"
#: Options that name one storage's study or write to it: meaningless for a folder.
_REFUSED_WITH_A_FOLDER = (("study", "--study"), ("limit", "--limit"), ("upgrade", "--upgrade"), ("jsonl", "--jsonl"))


def is_folder(storage: str) -> bool:
    return "://" not in storage and os.path.isdir(storage)


def execute_folder(args: Any) -> int:
    """`optgui inspect FOLDER [--depth N] [--json]`: every study file under the folder, one line per study with its
    health; files that could not be read are named with their reason. Exit 0 when at least one study was read."""
    # imported on use, not with this module: start-up time
    from optgui.core.health import read_workspace
    from optgui.core.storage import DEFAULT_DEPTH

    for attribute, option in _REFUSED_WITH_A_FOLDER:
        if getattr(args, attribute, None) not in (None, False):
            raise OptguiError(f"{option} cannot be used with a folder ({args.storage})")
    depth = DEFAULT_DEPTH if args.depth is None else args.depth
    if depth < 0:
        raise OptguiError("--depth must be zero or more")
    workspace = read_workspace(args.storage, depth=depth)
    if args.json:
        json.dump(folder_json(workspace, depth), sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        _print_folder(workspace)
    if workspace.n_studies == 0:
        raise OptguiError(f"no study could be read under {args.storage}")
    return EXIT_OK


def folder_json(workspace: Workspace, depth: int) -> dict[str, Any]:
    return {
        "schema": FOLDER_JSON_SCHEMA,
        "folder": str(workspace.root),
        "depth": depth,
        "n_studies": workspace.n_studies,
        "files": [
            {
                "path": _shown(workspace, f.path),
                "kind": f.found.kind,
                "size": f.found.size,
                "error": f.error,
                "studies": [with_health(s.summary, s.health) for s in f.studies],
            }
            for f in workspace.files
        ],
        "skipped": [{"path": _shown(workspace, s.path), "reason": s.reason} for s in workspace.skipped],
    }


def _print_folder(workspace: Workspace) -> None:
    n_files = sum(1 for f in workspace.files if f.error is None)
    if workspace.n_studies:  # else the error says it, below the files that could not be read
        print(
            f"{workspace.root}: {workspace.n_studies} stud{'y' if workspace.n_studies == 1 else 'ies'} "
            f"in {n_files} file{'' if n_files == 1 else 's'}"
        )
    header = ("file", "study", "directions", "trials", "complete", "pruned", "fail", "running", "best")
    rows: list[tuple[str, ...]] = [(*header, "last activity", "health")]
    notes: list[str] = []
    for f in workspace.files:
        for status in f.studies:
            s, health = status.summary, status.health
            counts = s.state_counts
            best = " ".join(f"{v:.6g}" for v in s.best_values) if s.best_values else "-"
            running = counts.get("RUNNING", 0) + counts.get("WAITING", 0)
            rows.append(
                (
                    _shown(workspace, f.path),
                    s.name,
                    ",".join(s.directions),
                    str(s.n_trials),
                    *(str(counts.get(state, 0)) for state in ("COMPLETE", "PRUNED", "FAIL")),
                    str(running),
                    best,
                    _when(s.last_activity),
                    health_cell(health),
                )
            )
            if health is not None and health.evidence:
                notes.append(f"{_shown(workspace, f.path)} {s.name}: {health.summary}")
    if len(rows) > 1:
        _print_table(rows)
    for note in notes:
        print(f"  {note}")
    problems = [(f.path, f.error) for f in workspace.files if f.error is not None]
    problems += [(s.path, s.reason) for s in workspace.skipped]
    if problems:
        print("not read:")
        for path, reason in problems:
            print(f"  {_shown(workspace, path)}: {reason}")


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [min(40, max(len(r[c]) for r in rows)) for c in range(len(rows[0]))]
    for row in rows:
        cells = [cell if len(cell) <= 40 else cell[:39] + "…" for cell in row]
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())


def _shown(workspace: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


def _when(value: Any) -> str:
    from optgui.core.storage import iso_utc

    text = iso_utc(value)
    return "-" if text is None else text[:19].replace("T", " ") + " UTC"
