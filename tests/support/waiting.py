"""Waiting for something to happen without a Qt event loop: poll a condition until it holds or a deadline passes.

A test that waits for a file, a process or a state polls for it here instead of sleeping a fixed time, so it goes
on as soon as the thing has happened and fails with what it waited for when it never does. (Widget tests use
qtbot.waitUntil, which runs the event loop between polls.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.05


def poll_until(predicate: Callable[[], T], timeout: float, interval: float = POLL_SECONDS) -> T | None:
    """predicate()'s first true value, or None when it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = POLL_SECONDS) -> T:
    """predicate()'s first true value; fails the test naming `what` when it does not come within `timeout`."""
    value = poll_until(predicate, timeout, interval)
    if not value:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
    return value
