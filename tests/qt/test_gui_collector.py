"""Garbage is collected in the GUI thread only: a cycle that becomes garbage while a background thread allocates
is freed later by the GUI thread's collector, never by that thread (where destroying a Qt object deadlocked)."""

from __future__ import annotations

import gc
import threading

from optgui.qt.tasks.gui_collector import gui_collector


class _Cycle:
    freed_in: list[str] = []

    def __init__(self):
        self.me = self

    def __del__(self):
        _Cycle.freed_in.append(threading.current_thread().name)


def test_a_cycle_is_freed_by_the_gui_thread_not_by_an_allocating_worker(qtbot):
    assert gui_collector() is not None and not gc.isenabled()  # (installed for every Qt test, as in the app)
    _Cycle.freed_in.clear()
    _Cycle()  # garbage at once: only the cyclic collector can free it

    kept: list = []

    def allocate():
        # Far past the young generation's threshold (and kept): an automatic collection would run here, in this
        # thread.
        kept.extend([i] for i in range(50 * gc.get_threshold()[0]))

    worker = threading.Thread(target=allocate, name="allocating-worker")
    worker.start()
    worker.join()
    assert _Cycle.freed_in == []  # not collected in the worker
    qtbot.waitUntil(lambda: _Cycle.freed_in != [], timeout=5000)
    assert _Cycle.freed_in == [threading.main_thread().name]
    kept.clear()
