"""A child process's CPU priority: the engine and the verifier that the GUI starts run below the GUI, so that on
a machine whose cores are all busy the event loop still gets the CPU the moment it needs it (with equal
priorities, a repaint waited for the children's time slices: 20-45 ms stalls at the start and end of a run)."""

from __future__ import annotations

import os


def lower_priority(niceness: int) -> None:
    """Raise this process's niceness by `niceness` (POSIX; elsewhere, or when not permitted, nothing happens)."""
    if niceness > 0 and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:
            pass
