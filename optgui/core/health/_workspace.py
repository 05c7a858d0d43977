"""A workspace: every study file under a folder, each with its studies' summaries and health.

The folder scan (optgui.core.storage's `scan_folder`) finds the files; each is opened read-only, summarised and
closed again, so a folder of hundreds of files holds no file open. A file that cannot be read carries its reason.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from optgui.core.errors import OptguiError
from optgui.core.health._health import HealthThresholds, RunHealth, study_health
from optgui.core.storage import DEFAULT_DEPTH, FoundFile, SkippedEntry, StudySummary, open_reader, scan_folder

#: Files read at once (measured on 2 cores: 4 readers list 200 files about twice as fast as one).
_READERS = 4


@dataclass(frozen=True)
class StudyStatus:
    """One study of a workspace file: its summary and health (None when its trials could not be read)."""

    summary: StudySummary
    health: RunHealth | None


@dataclass(frozen=True)
class WorkspaceFile:
    """A study file and what was read from it: its studies, or the reason it could not be read (`error`)."""

    found: FoundFile
    studies: tuple[StudyStatus, ...] = ()
    error: str | None = None

    @property
    def path(self) -> Path:
        return self.found.path


@dataclass(frozen=True)
class Workspace:
    root: Path
    files: tuple[WorkspaceFile, ...]
    skipped: tuple[SkippedEntry, ...]
    cancelled: bool = False

    @property
    def n_studies(self) -> int:
        return sum(len(f.studies) for f in self.files)


def read_study_file(
    found: FoundFile, *, thresholds: HealthThresholds | None = None, now: _dt.datetime | None = None
) -> WorkspaceFile:
    """Open one study file read-only and summarise each study with its health; a file that cannot be read
    becomes a WorkspaceFile with its error (one line)."""
    try:
        with open_reader(str(found.path)) as reader:
            statuses = []
            for summary in reader.studies():
                try:
                    health: RunHealth | None = study_health(reader, summary, thresholds=thresholds, now=now)
                except Exception:  # noqa: BLE001 - the study stays listed, without its health
                    health = None
                statuses.append(StudyStatus(summary, health))
    except OptguiError as exc:
        return WorkspaceFile(found, error=_one_line(exc))
    except Exception as exc:  # noqa: BLE001 - a damaged file may break anything below the reader; one bad file
        # must not hide the others
        return WorkspaceFile(found, error=f"{type(exc).__name__}: {_one_line(exc)}")
    return WorkspaceFile(found, tuple(statuses))


def read_workspace(
    root: str | Path,
    *,
    depth: int = DEFAULT_DEPTH,
    thresholds: HealthThresholds | None = None,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    previous: Workspace | None = None,
) -> Workspace:
    """Scan `root` (see `scan_folder`) and read every study file found; `progress(done, total)` after each file,
    `cancelled()` between files (a cancelled workspace holds what was read so far). With `previous` (the same
    folder read before), a file whose size and modification time are unchanged and whose studies have no RUNNING
    trial is taken from it, not read again: what a watched folder needs after one of its files changed."""
    is_cancelled = cancelled or (lambda: False)
    scan = scan_folder(root, depth=depth, cancelled=is_cancelled)
    now = _dt.datetime.now(_dt.UTC)  # one moment for the whole folder, so its files are judged alike
    # Unchanged files are reused unless a study in them has RUNNING trials: their health changes with time alone.
    known = {f.found: f for f in previous.files if not _has_running(f)} if previous is not None else {}
    files: list[WorkspaceFile] = []
    # A few files at once: SQLite reads release the GIL while they wait on the disk and step through pages.
    with ThreadPoolExecutor(_READERS, thread_name_prefix="optgui-workspace") as pool:
        futures = [
            known[found] if found in known else pool.submit(read_study_file, found, thresholds=thresholds, now=now)
            for found in scan.files
        ]
        for future in futures:
            if is_cancelled():
                pool.shutdown(wait=True, cancel_futures=True)
                return Workspace(scan.root, tuple(files), scan.skipped, cancelled=True)
            files.append(future if isinstance(future, WorkspaceFile) else future.result())
            if progress is not None:
                progress(len(files), len(scan.files))
    return Workspace(scan.root, tuple(files), scan.skipped, cancelled=scan.cancelled)


def _has_running(file: WorkspaceFile) -> bool:
    return any(s.summary.state_counts.get("RUNNING", 0) for s in file.studies)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
