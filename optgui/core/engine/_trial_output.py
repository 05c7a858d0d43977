"""Each trial's captured output: what the objective printed (stdout, stderr) and logged (records reaching the root
logger), kept in one log file per run segment under the app data folder:

    data_dir()/logs/<study digest>/<segment index>.log

A trial's part starts with a line `=== trial N ===`; an objective exception ends it with its traceback. The GUI
reads a trial's part back with `read_trial_output` and follows a live run with `LogTail`.

Capture is per thread: the engine runs the objective in its own thread while the GUI thread keeps printing and
logging, and only the objective's thread is written to the file. Output still reaches the real stdout/stderr.
Not captured: output written straight to file descriptors 1/2 by C code or subprocesses, and the output of an
objective that runs in a child process. Capture never fails a trial: if the log cannot be written, the trial runs
uncaptured.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from optgui.core.paths import data_dir
from optgui.core.storage import parse_storage, redact_url

MARKER = re.compile(r"^=== trial (\d+) ===$", re.MULTILINE)
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def storage_identity(storage: str) -> str:
    """What identifies a storage across sessions: the absolute path of a file, or the URL without password."""

    try:
        ref = parse_storage(storage)
    except Exception:  # noqa: BLE001 - an unparseable text still names a log folder, it just never matches a run
        return storage
    if ref.path is not None:
        return str(Path(ref.path).expanduser().resolve())
    return redact_url(storage)


def study_log_dir(storage: str, study_name: str) -> Path:
    digest = hashlib.sha256(f"{storage_identity(storage)}\0{study_name}".encode()).hexdigest()[:20]
    return data_dir() / "logs" / digest


def segment_log_path(storage: str, study_name: str, segment: int) -> Path:
    return study_log_dir(storage, study_name) / f"{segment}.log"


class _ThreadTee(io.TextIOBase):
    """A stream that passes everything to `original` and copies what `thread` writes to `sink`."""

    def __init__(self, original, sink, thread: int):
        self.original = original
        self.sink = sink
        self.thread = thread
        self.active = True

    def write(self, text: str) -> int:
        if self.active and threading.get_ident() == self.thread:
            try:
                self.sink.write(text)
            except (OSError, ValueError):
                self.active = False
        if self.original is not None:
            return self.original.write(text)
        return len(text)

    def flush(self) -> None:
        if self.original is not None:
            self.original.flush()

    def __getattr__(self, name):  # encoding, fileno, isatty... as the real stream
        return getattr(self.original, name)


class _ThreadHandler(logging.Handler):
    def __init__(self, sink, thread: int):
        super().__init__(logging.NOTSET)
        self.sink = sink
        self.thread = thread
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        try:
            self.sink.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - a broken log never breaks the trial
            pass


class _LazySink:
    """The trial's section of the log file, opened at its first write: a trial that prints nothing costs no file
    system call at all (opening and appending per trial cost ~1 ms and slowed the storage's own fsyncs, several
    percent of a SQLite trial)."""

    def __init__(self, path: Path, number: int):
        self.path = path
        self.number = number
        self.handle: TextIO | None = None

    def write(self, text: str) -> int:
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(self.path, "a", encoding="utf-8", errors="replace", buffering=1)
            self.handle.write(f"=== trial {self.number} ===\n")
        return self.handle.write(text)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


@contextmanager
def capture_to(path: Path, number: int) -> Iterator[None]:
    """Capture this thread's output during the block into `path` (appended), after a `=== trial N ===` line."""
    sink = _LazySink(path, number)
    thread = threading.get_ident()
    out = _ThreadTee(sys.stdout, sink, thread)
    err = _ThreadTee(sys.stderr, sink, thread)
    handler = _ThreadHandler(sink, thread)
    root = logging.getLogger()
    try:
        sys.stdout, sys.stderr = out, err
        root.addHandler(handler)
        try:
            yield
        except BaseException as exc:
            if _is_objective_error(exc):
                sink.write(strip_engine_frames("".join(traceback.format_exception(exc))))
            raise
    finally:
        root.removeHandler(handler)
        # Restore only our own streams: another capture (another thread) may have replaced them since.
        if sys.stdout is out:
            sys.stdout = out.original
        if sys.stderr is err:
            sys.stderr = err.original
        out.active = err.active = False
        try:
            sink.close()
        except OSError:
            pass


@functools.lru_cache(maxsize=64)
def _cached_segment_log_path(storage: str, study_name: str, segment: int, data_root: str) -> Path:
    return segment_log_path(storage, study_name, segment)


def capture_trial(storage: str, study_name: str, segment: int, number: int):
    """The engine's entry point: capture trial `number` of run segment `segment` into its log file.

    The path is computed once per segment (naming the storage reads the file's header)."""
    return capture_to(_cached_segment_log_path(storage, study_name, segment, str(data_dir())), number)


_ENGINE_DIR = str(Path(__file__).resolve().parent)
_FRAME = re.compile(r'^  File "(.*)", line \d+')


def strip_engine_frames(text: str) -> str:
    """A traceback without optgui's own frames (the engine calling the objective): the user's frames remain."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        frame = _FRAME.match(line)
        if frame:
            skipping = str(Path(frame.group(1)).resolve()).startswith(_ENGINE_DIR)
            if skipping:
                continue
        elif skipping and line.startswith("    "):
            continue  # the source line and carets of a skipped frame
        else:
            skipping = False
        out.append(line)
    return "".join(out)


def _is_objective_error(exc: BaseException) -> bool:
    if not isinstance(exc, Exception):
        return False  # an abandon or Ctrl-C is not the objective's error
    try:
        from optuna.exceptions import TrialPruned
    except ImportError:  # pragma: no cover
        return True
    return not isinstance(exc, TrialPruned)


# --- reading ------------------------------------------------------------------------------------------------


def _segment_files(storage: str, study_name: str) -> list[Path]:
    folder = study_log_dir(storage, study_name)
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("*.log") if p.stem.isdigit()]
    return sorted(files, key=lambda p: int(p.stem))


def split_trials(text: str) -> dict[int, str]:
    """{trial number: its output} of one log file's text (a trial seen twice, e.g. re-entered, is joined)."""
    out: dict[int, str] = {}
    matches = list(MARKER.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        number = int(match.group(1))
        out[number] = out.get(number, "") + text[match.end() + 1 : end]
    return out


def read_trial_output(storage: str, study_name: str, number: int) -> str | None:
    """The captured output of one trial across the study's segment logs; None when no log mentions it."""
    parts = []
    marker = f"=== trial {number} ===\n"
    for path in _segment_files(storage, study_name):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if marker not in text:
            continue
        part = split_trials(text).get(number)
        if part is not None:
            parts.append(part)
    return "".join(parts) if parts else None


def latest_log(storage: str, study_name: str) -> Path | None:
    files = _segment_files(storage, study_name)
    return files[-1] if files else None


class LogTail:
    """Follows the newest segment log of a study: `read()` returns the text appended since the last call."""

    def __init__(self, storage: str, study_name: str, max_initial: int = 200_000):
        self.storage, self.study_name = storage, study_name
        self.path: Path | None = None
        self.offset = 0
        self.max_initial = max_initial

    def read(self) -> tuple[str, bool]:
        """(new text, switched): switched is True when a newer segment's log started (the text starts over)."""
        latest = latest_log(self.storage, self.study_name)
        if latest is None:
            return "", False
        switched = latest != self.path
        if switched:
            self.path = latest
            size = latest.stat().st_size if latest.exists() else 0
            self.offset = max(0, size - self.max_initial)
        try:
            with open(latest, "rb") as handle:  # latest is self.path now
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return "", switched
        self.offset += len(data)
        return data.decode("utf-8", errors="replace"), switched


__all__ = [
    "capture_trial",
    "capture_to",
    "read_trial_output",
    "split_trials",
    "segment_log_path",
    "study_log_dir",
    "LogTail",
    "MARKER",
]
