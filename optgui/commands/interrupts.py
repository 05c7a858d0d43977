"""Ctrl-C and SIGTERM for the headless run commands: the first asks the engine to stop at the next boundary
(saying what happens, on stderr), a second raises KeyboardInterrupt (the engine abandons the trial in flight)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable


def stop_on_first_interrupt(message: str, request_stop: Callable[[], None]) -> dict:
    """Install the handlers; returns the previous ones, for `restore`."""
    count = [0]

    def on_signal(signum, frame):
        count[0] += 1
        if count[0] == 1:
            print(f"\noptgui: {message}", file=sys.stderr, flush=True)
            request_stop()
        else:
            raise KeyboardInterrupt

    return {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}


def restore(previous: dict) -> None:
    for s, handler in previous.items():
        signal.signal(s, handler)
