"""Python's cyclic garbage collector, run in the GUI thread only.

Left automatic, a collection runs in whichever thread crosses an allocation threshold, often a background task's
(an importance computation allocates a lot). A cycle holding a Qt object (a closed dialog's menu, a replaced view)
is then destroyed in that thread: Qt's destructor waits for a lock the GUI thread holds while the GUI thread waits
for the interpreter lock, and both hang (seen in the test suite: the GUI thread in QMetaObject::disconnect, a task
thread in ~QMenu under gc_collect_main). pyqtgraph's own GarbageCollector exists for the same reason.

`install_gui_collector(app)` turns automatic collection off and checks the collector's counts on a GUI-thread
timer instead, collecting the generations whose thresholds were crossed, as the automatic collector would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 100  # how often the counts are looked at (a young collection takes well under a millisecond)

_installed: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.paused = False  # a run paces the collections itself meanwhile (optgui.qt.run.run_controller)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        """Collect what the automatic collector would have collected by now (called on the GUI thread)."""
        if self.paused:
            return
        young, middle, old = gc.get_count()
        if young > self.thresholds[0]:
            gc.collect(0)
            if middle > self.thresholds[1]:
                gc.collect(1)
                if old > self.thresholds[2]:
                    gc.collect(2)


def gui_collector() -> GuiThreadCollector | None:
    """The installed collector (None: Python's automatic one collects)."""
    return _installed


def install_gui_collector(app: QObject) -> GuiThreadCollector:
    """Collect garbage in the GUI thread only, for the application's lifetime (once per process)."""
    global _installed
    if _installed is None:
        _installed = GuiThreadCollector(app)
    return _installed
