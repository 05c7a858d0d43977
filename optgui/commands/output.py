"""Printing from the headless commands when the reader of their output may go away (`optgui inspect … | head`).

Python ignores SIGPIPE and raises BrokenPipeError on the write instead. The commands then stop printing quietly,
as Python's documentation recommends for command-line tools: the closed stream's file descriptor is pointed at
the null device, so that whatever is still buffered, and the interpreter's flush at exit, go nowhere instead of
failing again with a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO


def silence(stream: TextIO) -> None:
    """Point `stream`'s file descriptor at the null device (its reader went away)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture): nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def silence_stdout() -> None:
    silence(sys.stdout)


def print_line(text: str, *, err: bool = False, on_closed: Callable[[], None] | None = None) -> bool:
    """Print one line (flushed) on stdout, or stderr with err=True. False when the stream's reader is gone: the
    stream is silenced and `on_closed` is called once (a run pauses after its trial rather than dying in it)."""
    stream = sys.stderr if err else sys.stdout
    try:
        print(text, file=stream, flush=True)
        return True
    except BrokenPipeError:
        silence(stream)
        if on_closed is not None:
            on_closed()
        return False
