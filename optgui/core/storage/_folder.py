"""Finding study files in a folder: SQLite databases (by their 16-byte header, whatever their name) and Optuna
journal files (by their first line), recursively to a depth.

Nothing is opened for writing and nothing is followed twice: every folder and file is identified by (device,
inode), so a symbolic-link loop, or a second link to a file already found, is reported instead of read again.
Entries that cannot be read are reported with their reason; so are files whose name says "study" (.db, .sqlite,
.log, ...) but whose content is neither kind. Other files are not study files and are passed over silently.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from optgui.core.storage._naming import StorageKind, sniff_file_kind

DEFAULT_DEPTH = 3
#: Names that promise a study file: one of these that is neither kind is reported as a bad file.
STUDY_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".log", ".jsonl", ".journal")
#: SQLite's companions of a database (rollback journal, WAL): never studies of their own.
_SIDE_SUFFIXES = ("-journal", "-wal", "-shm")


@dataclass(frozen=True)
class FoundFile:
    """A study file: its path (as reached from the folder), kind, size and modification time (to see changes)."""

    path: Path
    kind: StorageKind
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class SkippedEntry:
    """A path under the folder that was not read, and why (one short phrase)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class FolderScan:
    root: Path
    files: tuple[FoundFile, ...]
    skipped: tuple[SkippedEntry, ...]
    cancelled: bool = False


def scan_folder(
    root: str | Path, *, depth: int = DEFAULT_DEPTH, cancelled: Callable[[], bool] | None = None
) -> FolderScan:
    """Every study file under `root`, descending at most `depth` folders below it (0: `root` itself only), in
    name order. Raises NotADirectoryError / FileNotFoundError / PermissionError for a root that is no readable
    folder; `cancelled()` is asked between entries."""
    base = Path(root)
    top = base.stat()  # a root that does not exist raises here, with the OS's own reason
    if not base.is_dir():
        raise NotADirectoryError(f"{base} is not a folder")
    scanner = _Scanner(cancelled or (lambda: False))
    scanner.visited[(top.st_dev, top.st_ino)] = base
    stopped = scanner.walk(base, depth)
    return FolderScan(base, tuple(scanner.files), tuple(scanner.skipped), cancelled=stopped)


class _Scanner:
    def __init__(self, cancelled: Callable[[], bool]) -> None:
        self.cancelled = cancelled
        self.visited: dict[tuple[int, int], Path] = {}
        self.files: list[FoundFile] = []
        self.skipped: list[SkippedEntry] = []

    def walk(self, folder: Path, depth: int) -> bool:
        """Scan one folder; True when cancelled."""
        try:
            # real entries before symbolic links, so a link to a file is the one reported as "the same file"
            entries = sorted(os.scandir(folder), key=lambda e: (e.is_symlink(), e.name))
        except OSError as exc:
            self.skipped.append(SkippedEntry(folder, _reason(exc)))
            return False
        for entry in entries:
            if self.cancelled():
                return True
            if self._visit(entry, depth):
                return True
        return False

    def _visit(self, entry: os.DirEntry, depth: int) -> bool:
        path = Path(entry.path)
        try:
            info = entry.stat()  # follows symbolic links
        except OSError as exc:
            self.skipped.append(SkippedEntry(path, _reason(exc)))
            return False
        key = (info.st_dev, info.st_ino)
        seen = self.visited.get(key)
        if seen is not None:
            what = "symbolic link loop" if entry.is_dir() else "the same file"
            self.skipped.append(SkippedEntry(path, f"{what}: already read as {seen}"))
            return False
        if entry.is_dir():
            if depth <= 0:
                return False
            self.visited[key] = path
            return self.walk(path, depth - 1)
        if not entry.is_file() or entry.name.endswith(_SIDE_SUFFIXES):
            return False
        self.visited[key] = path
        try:
            kind = sniff_file_kind(path)
        except OSError as exc:
            self.skipped.append(SkippedEntry(path, _reason(exc)))
            return False
        if kind is None:
            if path.suffix.lower() in STUDY_SUFFIXES:
                empty = info.st_size == 0
                self.skipped.append(
                    SkippedEntry(path, "empty file" if empty else "neither a SQLite database nor an Optuna journal")
                )
            return False
        self.files.append(FoundFile(path, kind, info.st_size, info.st_mtime_ns))
        return False


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:  # a symbolic link pointing at itself (or a chain too long to resolve)
        return "symbolic link loop"
    return exc.strerror or str(exc)
